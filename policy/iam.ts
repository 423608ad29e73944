// Least privilege: no AWS managed *FullAccess policy on any role.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, forTypes } from "./support";

const FULL_ACCESS = /^arn:aws[a-z-]*:iam::aws:policy\/(.+\/)?[A-Za-z0-9]*FullAccess$/;

export const noManagedFullAccess: ResourceValidationPolicy = {
    name: "no-managed-full-access",
    description: "No role carries an AWS managed *FullAccess policy.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/role:Role", "aws:iam/policyAttachment:PolicyAttachment"], (props, args, report) => {
        const arns = [props.policyArn, ...asList<string>(props.managedPolicyArns)].filter((a): a is string => typeof a === "string");
        for (const arn of arns.filter((a) => FULL_ACCESS.test(a))) {
            report(`${args.name} attaches ${arn}; grant only the actions and resources the role needs (an inline policy).`);
        }
    }),
};
