// What a rule of the mock cloud is: one of AWS's documented creation rules for one input of one
// resource type, with where AWS (or the provider in front of it) states it. The mock cloud runs
// every rule on the inputs a resource is created with, after pulumi-aws's autonaming, and refuses
// the resource as `pulumi up` would: resource, input, value, rule, source.

/** The region's API Gateway account settings (GetAccount), as the mock account holds them. */
export interface AccountSettings {
    /** The CloudWatch Logs role API Gateway writes execution and access logs with; unset in a fresh account. */
    cloudWatchRoleArn?: string;
    /** Where the role came from, for messages: a resource of this run, or what the preview was told. */
    cloudWatchRoleSource?: string;
}

export interface RuleContext {
    region: string;
    /** The region's ARN partition: aws, aws-cn or aws-us-gov. */
    partition: string;
    account: AccountSettings;
}

/** One input a rule refuses; `input` is the path of the value (e.g. environment.variables.AWS_REGION). */
export interface Finding {
    input: string;
    value: unknown;
    /** What exactly is wrong, when the rule's own words do not say it. */
    detail?: string;
}

export interface AwsRule {
    /** Stable id, `<service>.<what>`, as tests and messages name it. */
    id: string;
    /** Pulumi resource types the rule applies to. */
    types: readonly string[];
    /** The input it checks. */
    input: string;
    /** The rule in AWS's words. */
    rule: string;
    /** Where it is stated: an AWS API reference or guide page, or a provider source file. */
    source: string;
    check(inputs: Inputs, context: RuleContext): Finding[];
}

export type Inputs = Record<string, unknown>;

/** A value at a dotted path of the inputs ("settings.loggingLevel"); arrays by index ("ingress.0.description"). */
export function valueAt(inputs: Inputs, path: string): unknown {
    let current: unknown = inputs;
    for (const part of path.split(".")) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[part];
    }
    return current;
}

/** A rule over one string input that must match a pattern and a length range when set (or always, when required). */
export function stringRule(spec: Omit<AwsRule, "check"> & { pattern?: RegExp; min?: number; max?: number; required?: boolean }): AwsRule {
    const { pattern, min = 1, max = Infinity, required = false, ...rule } = spec;
    return {
        ...rule,
        check(inputs) {
            const value = valueAt(inputs, rule.input);
            if (value === undefined || value === null) return required ? [{ input: rule.input, value, detail: "it is required" }] : [];
            if (typeof value !== "string") return [{ input: rule.input, value, detail: `a ${typeof value}, not a string` }];
            if (value.length < min || value.length > max) return [{ input: rule.input, value, detail: `${value.length} characters` }];
            if (pattern && !pattern.test(value)) return [{ input: rule.input, value }];
            return [];
        },
    };
}

/** A rule over each element of a list input (or a single value). */
export function eachRule(spec: Omit<AwsRule, "check"> & { accepts(value: unknown, inputs: Inputs): string | undefined }): AwsRule {
    const { accepts, ...rule } = spec;
    return {
        ...rule,
        check(inputs) {
            const value = valueAt(inputs, rule.input);
            if (value === undefined || value === null) return [];
            const list = Array.isArray(value) ? value : [value];
            return list.flatMap((v, i) => {
                const detail = accepts(v, inputs);
                return detail === undefined ? [] : [{ input: Array.isArray(value) ? `${rule.input}.${i}` : rule.input, value: v, detail: detail || undefined }];
            });
        },
    };
}

/** A rule that a set input is one of `allowed`. */
export function enumRule(spec: Omit<AwsRule, "check" | "rule"> & { allowed: readonly (string | number)[]; rule?: string }): AwsRule {
    const { allowed, ...rule } = spec;
    return eachRule({
        rule: `one of ${allowed.join(", ")}`,
        ...rule,
        accepts: (v) => (allowed.includes(v as string | number) ? undefined : ""),
    });
}

/** A rule that a set number input is a whole number in [min, max]. */
export function rangeRule(spec: Omit<AwsRule, "check" | "rule"> & { min: number; max: number; rule?: string }): AwsRule {
    const { min, max, ...rule } = spec;
    return eachRule({
        rule: `a whole number from ${min} to ${max}`,
        ...rule,
        accepts: (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? undefined : ""),
    });
}

/** The ARN partition of a region: China and GovCloud regions have their own. */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    return "aws";
}
