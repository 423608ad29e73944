// Rule 4: least privilege: no AWS managed *FullAccess policy on any role.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, elements, forTypes, read } from "./support";
import { T } from "./types";

/** An AWS managed policy (account "aws", any partition, any path) whose name ends in FullAccess. */
export const MANAGED_FULL_ACCESS = /^arn:aws(?:-[a-z-]+)?:iam::aws:policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]*FullAccess$/;

export function isManagedFullAccess(arn: unknown): arn is string {
    return typeof arn === "string" && MANAGED_FULL_ACCESS.test(arn);
}

export const noManagedFullAccess: ResourceValidationPolicy = {
    name: "no-managed-full-access",
    description: "No role carries an AWS managed *FullAccess policy (role attachments, a role's managedPolicyArns, exclusive attachments, policy attachments).",
    remediationSteps: "Replace the managed policy with an inline policy (aws.iam.RolePolicy) that grants only the actions and resources the role needs.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([T.rolePolicyAttachment, T.role, T.rolePolicyAttachmentsExclusive, T.policyAttachment], (args, report) => {
        const property = args.type === T.role ? "managedPolicyArns" : args.type === T.rolePolicyAttachmentsExclusive ? "policyArns" : "policyArn";
        const arns = elements(read(args.props, property));
        if (arns === UNKNOWN) return;
        for (const arn of arns.filter(isManagedFullAccess)) {
            report(`${args.name}: ${property} attaches the AWS managed policy ${arn}; grant only the actions and resources the role needs (an inline aws.iam.RolePolicy).`);
        }
    }),
};
