// Lambda's creation rules for functions and permissions (AWS Lambda API reference, CreateFunction
// and AddPermission, and the developer guide pages named). These apply however the code is packaged.
import { AwsRule, Inputs, eachRule, enumRule, rangeRule, stringRule, valueAt } from "./rule";

const FUNCTION = "aws:lambda/function:Function";
const PERMISSION = "aws:lambda/permission:Permission";
const CREATE_FUNCTION = "AWS Lambda API reference, CreateFunction (API_CreateFunction.html)";
const ADD_PERMISSION = "AWS Lambda API reference, AddPermission (API_AddPermission.html)";
/**
 * AddPermission's FunctionName: a name, a partial ARN or a full ARN, with an optional version or alias
 * (its URI request parameter's pattern; terraform-provider-aws internal/service/lambda/validate.go
 * validFunctionName checks the same).
 */
const PERMISSION_FUNCTION = /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

/** Keys Lambda sets itself; a function's configuration cannot set them. */
export const RESERVED_ENVIRONMENT = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
];

/** Runtimes Lambda creates functions with (not deprecated for creation), Node.js and the other managed ones. */
export const CREATABLE_RUNTIMES = [
    "nodejs20.x", "nodejs22.x", "nodejs24.x", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
    "java11", "java17", "java21", "java25", "dotnet8", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
];

function environmentOf(inputs: Inputs): Record<string, unknown> {
    const variables = valueAt(inputs, "environment.variables");
    return typeof variables === "object" && variables !== null ? variables as Record<string, unknown> : {};
}

export const LAMBDA_RULES: AwsRule[] = [
    stringRule({
        id: "lambda.function-name", types: [FUNCTION], input: "name", required: true, max: 64, pattern: /^[A-Za-z0-9_-]+$/,
        rule: "a function name of letters, digits, hyphens and underscores, at most 64 characters", source: `${CREATE_FUNCTION}, FunctionName`,
    }),
    enumRule({ id: "lambda.runtime", types: [FUNCTION], input: "runtime", allowed: CREATABLE_RUNTIMES, source: "AWS Lambda developer guide, \"Lambda runtimes\" (supported runtimes; deprecated ones block function creation)" }),
    rangeRule({ id: "lambda.timeout", types: [FUNCTION], input: "timeout", min: 1, max: 900, source: `${CREATE_FUNCTION}, Timeout` }),
    rangeRule({ id: "lambda.memory-size", types: [FUNCTION], input: "memorySize", min: 128, max: 10240, source: `${CREATE_FUNCTION}, MemorySize` }),
    eachRule({
        id: "lambda.architectures", types: [FUNCTION], input: "architectures", rule: "exactly one of x86_64, arm64", source: `${CREATE_FUNCTION}, Architectures (1 item)`,
        accepts: (v, inputs) => ((valueAt(inputs, "architectures") as unknown[]).length === 1 && ["x86_64", "arm64"].includes(String(v)) ? undefined : ""),
    }),
    stringRule({ id: "lambda.handler", types: [FUNCTION], input: "handler", max: 128, pattern: /^[^\s]+$/, rule: "no whitespace, at most 128 characters", source: `${CREATE_FUNCTION}, Handler` }),
    stringRule({ id: "lambda.description", types: [FUNCTION], input: "description", min: 0, max: 256, rule: "at most 256 characters", source: `${CREATE_FUNCTION}, Description` }),
    {
        id: "lambda.environment-keys", types: [FUNCTION], input: "environment.variables",
        rule: "keys start with a letter, are at least two characters of letters, digits and _, and are not among the keys Lambda reserves",
        source: "AWS Lambda developer guide, \"Working with Lambda environment variables\" and \"Defined runtime environment variables\" (reserved keys); CreateFunction, Environment",
        check(inputs) {
            return Object.keys(environmentOf(inputs))
                .filter((k) => !/^[A-Za-z][A-Za-z0-9_]+$/.test(k) || RESERVED_ENVIRONMENT.includes(k))
                .map((k) => ({ input: `environment.variables.${k}`, value: k, detail: RESERVED_ENVIRONMENT.includes(k) ? "a key Lambda reserves" : undefined }));
        },
    },
    {
        id: "lambda.environment-size", types: [FUNCTION], input: "environment.variables",
        rule: "the total size of all environment variables (keys and values) does not exceed 4 KB",
        source: "AWS Lambda developer guide, \"Lambda quotas\" (function configuration: environment variables 4 KB)",
        check(inputs) {
            const bytes = Object.entries(environmentOf(inputs)).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
            return bytes > 4096 ? [{ input: "environment.variables", value: `${bytes} bytes` }] : [];
        },
    },
    eachRule({
        id: "lambda.vpc-config", types: [FUNCTION], input: "vpcConfig", rule: "at most 16 subnets and 5 security groups, at least one of each when set",
        source: "AWS Lambda API reference, VpcConfig (API_VpcConfig.html)",
        accepts: (v) => {
            const c = v as Inputs;
            const subnets = Array.isArray(c.subnetIds) ? c.subnetIds.length : 0;
            const groups = Array.isArray(c.securityGroupIds) ? c.securityGroupIds.length : 0;
            return subnets >= 1 && subnets <= 16 && groups >= 1 && groups <= 5 ? undefined : `${subnets} subnets, ${groups} security groups`;
        },
    }),
    {
        id: "lambda.layers", types: [FUNCTION], input: "layers",
        rule: "at most five layers, each a layer version ARN (arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>, at most 140 characters)",
        source: `${CREATE_FUNCTION}, Layers (pattern arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+, length 1-140); ` +
            "AWS Lambda developer guide, \"Adding layers to functions\" (\"You can add up to five layers to a Lambda function\")",
        check(inputs) {
            const layers = valueAt(inputs, "layers");
            if (!Array.isArray(layers)) return [];
            const problems = layers.map((v, i) => ({ input: `layers.${i}`, value: v as unknown }))
                .filter(({ value }) => typeof value !== "string" || value.length > 140 || !/^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$/.test(value));
            return layers.length > 5 ? [{ input: "layers", value: `${layers.length} layers` }, ...problems] : problems;
        },
    },
    stringRule({
        id: "lambda.permission-action", types: [PERMISSION], input: "action", required: true, pattern: /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/,
        rule: "lambda:<Action> or lambda:*", source: "AWS Lambda API reference, AddPermission (API_AddPermission.html), Action",
    }),
    stringRule({
        id: "lambda.permission-source-arn", types: [PERMISSION], input: "sourceArn", pattern: /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/,
        rule: "an ARN", source: "AWS Lambda API reference, AddPermission, SourceArn (pattern)",
    }),
    {
        id: "lambda.permission-function", types: [PERMISSION], input: "function",
        rule: "a function name, partial ARN or function ARN, optionally with :<version or alias>, at most 140 characters, the name itself at most 64",
        source: `${ADD_PERMISSION}, FunctionName (length 1-140, pattern; "If you specify only the function name, it is limited to 64 characters in length")`,
        check(inputs) {
            const value = valueAt(inputs, "function");
            if (value === undefined || value === null) return [{ input: "function", value, detail: "it is required" }];
            if (typeof value !== "string") return [];
            const name = PERMISSION_FUNCTION.exec(value)?.[7];
            if (value.length > 140 || name === undefined) return [{ input: "function", value }];
            return name.length > 64 ? [{ input: "function", value, detail: `the function name is ${name.length} characters` }] : [];
        },
    },
    stringRule({
        id: "lambda.permission-principal", types: [PERMISSION], input: "principal", required: true, pattern: /^[^\s]+$/,
        rule: "a service principal, account id or ARN, with no whitespace", source: `${ADD_PERMISSION}, Principal (pattern [^\\s]+)`,
    }),
    {
        id: "lambda.permission-qualifier", types: [PERMISSION], input: "qualifier",
        rule: "a published version or an alias: 1-128 letters, digits, $, _ and -, and not $LATEST",
        source: `${ADD_PERMISSION}, Qualifier (length 1-128, pattern (|[a-zA-Z0-9$_-]+)); "Lambda does not support adding policies to version $LATEST"`,
        check(inputs) {
            const value = valueAt(inputs, "qualifier");
            if (value === undefined || value === null) return [];
            if (typeof value !== "string" || value.length > 128 || !/^[a-zA-Z0-9$_-]+$/.test(value)) return [{ input: "qualifier", value }];
            return value === "$LATEST" ? [{ input: "qualifier", value, detail: "Lambda adds no policy to $LATEST" }] : [];
        },
    },
];
