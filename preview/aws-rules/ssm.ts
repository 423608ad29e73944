// Systems Manager Parameter Store's creation rules for the parameters the program creates (the
// authorizer pair's secrets, SecureString under the pair's KMS key). Sources: the Systems Manager API
// reference, PutParameter (docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html:
// Name's naming constraints, Value, Type, Tier, KeyId, Description), the user guide "How AWS Systems
// Manager Parameter Store uses AWS KMS", and terraform-provider-aws internal/service/ssm/parameter.go.
import { AwsRule, Inputs, createdOf, enumRule, stringRule, valueAt } from "./rule";

const PARAMETER = "aws:ssm/parameter:Parameter";
const PUT_PARAMETER = "Systems Manager API reference, PutParameter (API_PutParameter.html)";
/** A parameter's ARN before its name, whose length AWS counts against the name's maximum: arn:aws:ssm:us-east-2:111122223333:parameter/. */
const arnPrefix = (partition: string, region: string) => `arn:${partition}:ssm:${region}:123456789012:parameter/`;

/** The parameter's name without the leading slash of a hierarchy; undefined when unset or not a string. */
function nameOf(inputs: Inputs): string | undefined {
    return typeof inputs.name === "string" ? inputs.name : undefined;
}

/** The value AWS stores: value, insecureValue or valueWo, whichever is set. */
function valueOf(inputs: Inputs): { input: string; value: unknown } | undefined {
    const input = ["value", "insecureValue", "valueWo"].find((k) => inputs[k] !== undefined && inputs[k] !== null);
    return input ? { input, value: inputs[input] } : undefined;
}

export const SSM_RULES: AwsRule[] = [
    stringRule({
        id: "ssm.parameter-name", types: [PARAMETER], input: "name", required: true,
        pattern: /^(\/?[A-Za-z0-9_.-]+|(\/[A-Za-z0-9_.-]+)+)$/,
        rule: "letters, digits and _.- only (no spaces), with / between the levels of a hierarchy; a name with a / begins with /",
        source: `${PUT_PARAMETER}, Name (naming constraints); pulumi-aws ssm.Parameter name ("it must be fully qualified with a leading forward slash")`,
    }),
    stringRule({
        id: "ssm.parameter-name-reserved-prefix", types: [PARAMETER], input: "name", pattern: /^(?!\/?(aws|ssm))/i,
        rule: "a parameter name can't be prefixed with aws or ssm (case-insensitive)", source: `${PUT_PARAMETER}, Name (naming constraints)`,
    }),
    {
        id: "ssm.parameter-name-depth", types: [PARAMETER], input: "name",
        rule: "parameter hierarchies are limited to a maximum depth of fifteen levels", source: `${PUT_PARAMETER}, Name (naming constraints)`,
        check(inputs) {
            const name = nameOf(inputs);
            const levels = name === undefined ? 0 : name.replace(/^\//, "").split("/").length;
            return levels > 15 ? [{ input: "name", value: name, detail: `${levels} levels` }] : [];
        },
    },
    {
        id: "ssm.parameter-name-length", types: [PARAMETER], input: "name",
        rule: "at most 1011 characters for the name you specify, counting the part of its ARN before the name (arn:aws:ssm:<region>:<account>:parameter/)",
        source: `${PUT_PARAMETER}, Name ("The maximum length for a parameter name that you specify is 1011 characters. This count ... includes the characters in the ARN that precede the name")`,
        check(inputs, context) {
            const name = nameOf(inputs);
            if (name === undefined) return [];
            const length = arnPrefix(context.partition, context.region).length + name.replace(/^\//, "").length;
            return length > 1011 ? [{ input: "name", value: name, detail: `${length} characters with the ARN's prefix` }] : [];
        },
    },
    enumRule({
        id: "ssm.parameter-type", types: [PARAMETER], input: "type", allowed: ["String", "StringList", "SecureString"],
        source: `${PUT_PARAMETER}, Type; terraform-provider-aws internal/service/ssm/parameter.go (type: required, enum ParameterType)`,
    }),
    {
        id: "ssm.parameter-value", types: [PARAMETER], input: "value",
        rule: "exactly one of value, insecureValue and valueWo, within the tier's size (Standard: 4 KB, Advanced and Intelligent-Tiering: 8 KB)",
        source: `${PUT_PARAMETER}, Value ("Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB") and Tier; ` +
            "terraform-provider-aws internal/service/ssm/parameter.go (value, insecure_value, value_wo: ExactlyOneOf)",
        check(inputs) {
            const given = ["value", "insecureValue", "valueWo"].filter((k) => inputs[k] !== undefined && inputs[k] !== null);
            if (given.length !== 1) return [{ input: given.join(", ") || "value", value: given.length, detail: `${given.length} of value, insecureValue and valueWo set` }];
            const { input, value } = valueOf(inputs) as { input: string; value: unknown };
            if (typeof value !== "string") return [{ input, value, detail: `a ${typeof value}, not a string` }];
            const limit = inputs.tier === "Advanced" || inputs.tier === "Intelligent-Tiering" ? 8192 : 4096;
            const bytes = Buffer.byteLength(value);
            return bytes > limit ? [{ input, value, detail: `${bytes} bytes, the ${inputs.tier ?? "Standard"} tier takes ${limit}` }] : [];
        },
    },
    {
        id: "ssm.parameter-value-references", types: [PARAMETER], input: "value",
        rule: "parameters can't be referenced or nested in the values of other parameters: no {{...}} in a value",
        source: `${PUT_PARAMETER}, Value ("You can't include values wrapped in double brackets {{}} or {{ssm:parameter-name}} in a parameter value")`,
        check(inputs) {
            const found = valueOf(inputs);
            return found && typeof found.value === "string" && /\{\{.*\}\}/s.test(found.value) ? [{ input: found.input, value: found.value }] : [];
        },
    },
    enumRule({
        id: "ssm.parameter-tier", types: [PARAMETER], input: "tier", allowed: ["Standard", "Advanced", "Intelligent-Tiering"],
        source: `${PUT_PARAMETER}, Tier; terraform-provider-aws internal/service/ssm/parameter.go (tier: enum ParameterTier)`,
    }),
    stringRule({
        id: "ssm.parameter-description", types: [PARAMETER], input: "description", min: 0, max: 1024,
        rule: "at most 1024 characters", source: `${PUT_PARAMETER}, Description; terraform-provider-aws internal/service/ssm/parameter.go (StringLenBetween(0, 1024))`,
    }),
    stringRule({
        id: "ssm.parameter-key-id", types: [PARAMETER], input: "keyId", max: 256, pattern: /^[A-Za-z0-9:/_-]+$/,
        rule: "a KMS key id, key ARN, alias name or alias ARN: 1 to 256 of a-z, A-Z, 0-9 and :/_-",
        source: `${PUT_PARAMETER}, KeyId (length 1-256, pattern ^([a-zA-Z0-9:/_-]+)$)`,
    }),
    {
        id: "ssm.secure-string-key", types: [PARAMETER], input: "keyId",
        rule: "a SecureString is encrypted with a symmetric encryption KMS key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT): Parameter Store supports no asymmetric or HMAC key",
        source: "Systems Manager user guide, \"How AWS Systems Manager Parameter Store uses AWS KMS\" (Parameter Store supports only symmetric encryption KMS keys); " +
            `${PUT_PARAMETER}, KeyId`,
        check(inputs, context) {
            const keyId = inputs.keyId;
            if (inputs.type !== "SecureString" || typeof keyId !== "string") return [];
            const key = createdOf(context, "aws:kms/key:Key").find((k) => k.id === keyId || valueAt(k.state, "arn") === keyId);
            if (!key) return [];
            const spec = key.inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
            const usage = key.inputs.keyUsage ?? "ENCRYPT_DECRYPT";
            return spec === "SYMMETRIC_DEFAULT" && usage === "ENCRYPT_DECRYPT" ? [] : [{ input: "keyId", value: keyId, detail: `the key "${key.name}" is ${spec} for ${usage}` }];
        },
    },
];
