// IAM's creation rules for roles, inline policies and attachments (IAM API reference, CreateRole,
// PutRolePolicy, AttachRolePolicy; IAM user guide "IAM and AWS STS quotas").
import { AwsRule, stringRule } from "./rule";

const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

function jsonPolicy(id: string, type: string, input: string, source: string): AwsRule {
    return {
        id, types: [type], input, source,
        rule: "a JSON policy document with a Statement (pulumi-aws serializes a PolicyDocument object to it)",
        check(inputs) {
            const value = inputs[input];
            try {
                const doc = (typeof value === "string" ? JSON.parse(value) : value) as { Statement?: unknown } | null;
                return typeof doc !== "object" || doc === null || doc.Statement === undefined ? [{ input, value, detail: "no Statement" }] : [];
            } catch (e) {
                return [{ input, value, detail: (e as Error).message }];
            }
        },
    };
}

export const IAM_RULES: AwsRule[] = [
    stringRule({
        id: "iam.role-name", types: [ROLE], input: "name", required: true, max: 64, pattern: /^[\w+=,.@-]+$/,
        rule: "letters, digits and _+=,.@-, at most 64 characters", source: "IAM API reference, CreateRole (API_CreateRole.html), RoleName",
    }),
    jsonPolicy("iam.assume-role-policy", ROLE, "assumeRolePolicy", "IAM API reference, CreateRole, AssumeRolePolicyDocument"),
    stringRule({
        id: "iam.role-policy-name", types: [ROLE_POLICY], input: "name", max: 128, pattern: /^[\w+=,.@-]+$/,
        rule: "letters, digits and _+=,.@-, at most 128 characters", source: "IAM API reference, PutRolePolicy (API_PutRolePolicy.html), PolicyName",
    }),
    jsonPolicy("iam.role-policy-document", ROLE_POLICY, "policy", "IAM API reference, PutRolePolicy, PolicyDocument"),
    stringRule({
        id: "iam.policy-arn", types: [ATTACHMENT], input: "policyArn", required: true, pattern: /^arn:[a-z-]+:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/,
        rule: "the ARN of a managed policy", source: "IAM API reference, AttachRolePolicy (API_AttachRolePolicy.html), PolicyArn",
    }),
];
