// The mock cloud's rules: AWS's documented creation rules for every resource type the program
// creates, one module per service, and pulumi-aws's autonaming in front of them. `checkResource`
// runs them on one resource's inputs and says what `pulumi up` would be refused, and why.
import { APIGATEWAY_RULES } from "./apigateway";
import { ARN_RULES } from "./arn";
import { CLOUDWATCH_RULES } from "./cloudwatch";
import { EC2_RULES } from "./ec2";
import { ELASTICACHE_RULES } from "./elasticache";
import { IAM_RULES } from "./iam";
import { LAMBDA_RULES } from "./lambda";
import { MESSAGING_RULES } from "./messaging";
import { ROUTE53_RULES } from "./route53";
import { AwsRule, Inputs, RuleContext } from "./rule";
import { WAFV2_RULES } from "./wafv2";

export type { AccountSettings, AwsRule, RuleContext } from "./rule";
export { partitionOf } from "./rule";
export { autoname, AUTONAME_SOURCE } from "./autonaming";
export { expandVpc, UnmodelledVpcArgs } from "./awsx-vpc";

export const AWS_RULES: readonly AwsRule[] = [
    ...APIGATEWAY_RULES, ...LAMBDA_RULES, ...IAM_RULES, ...ELASTICACHE_RULES, ...EC2_RULES,
    ...MESSAGING_RULES, ...CLOUDWATCH_RULES, ...ROUTE53_RULES, ...WAFV2_RULES, ...ARN_RULES,
];

/** One input AWS would refuse: which resource, which input, what value, which rule and where it is stated. */
export interface Refusal {
    type: string;
    name: string;
    input: string;
    /** The value as shown: secrets masked. */
    value: string;
    ruleId: string;
    rule: string;
    source: string;
}

export function formatRefusal(r: Refusal): string {
    return `${r.type} "${r.name}": ${r.input} ${r.value} refused: ${r.rule} [${r.ruleId}; ${r.source}]`;
}

function shown(value: unknown): string {
    if (value === undefined) return "(unset)";
    const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Every refusal AWS would give a resource of `type` named `name` created with `inputs` (secrets
 * unwrapped; `secretPaths` are masked in messages).
 */
export function checkResource(type: string, name: string, inputs: Inputs, context: RuleContext, secretPaths: string[] = []): Refusal[] {
    const isSecret = (input: string) => secretPaths.some((p) => input === p || input.startsWith(`${p}.`));
    return AWS_RULES.filter((rule) => rule.types.includes(type) || rule.types.includes("*")).flatMap((rule) =>
        rule.check(inputs, context).map((f) => ({
            type, name, input: f.input, ruleId: rule.id, source: rule.source,
            value: isSecret(f.input) ? "[secret]" : shown(f.value),
            rule: f.detail ? `${rule.rule} (${f.detail})` : rule.rule,
        })));
}
