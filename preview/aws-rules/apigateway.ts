// API Gateway's creation rules for the resources the program creates: REST API, stage, method
// settings, account settings, custom domain and base path mapping. Each cites the API reference
// page or guide that states it (docs.aws.amazon.com/apigateway/latest/api/ unless noted).
import { deploymentProblem, importProblems } from "./rest-api-import";
import { AwsRule, Inputs, createdOf, eachRule, enumRule, stringRule, valueAt } from "./rule";

const STAGE = "aws:apigateway/stage:Stage";
const METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings";
const REST_API = "aws:apigateway/restApi:RestApi";
const DOMAIN = "aws:apigateway/domainName:DomainName";
const MAPPING = "aws:apigateway/basePathMapping:BasePathMapping";
const ACCOUNT = "aws:apigateway/account:Account";
const DEPLOYMENT = "aws:apigateway/deployment:Deployment";

const CREATE_STAGE = "API Gateway API reference, CreateStage (API_CreateStage.html)";
const LOGGING = "API Gateway developer guide, \"Set up CloudWatch logging for REST APIs in API Gateway\" (set-up-logging.html): " +
    "\"To enable CloudWatch Logs, you must grant API Gateway permission to read and write logs to CloudWatch for your account\"";

/** Whether a stage or its method settings turn on logging that needs the account's CloudWatch role. */
function logsToCloudWatch(type: string, inputs: Inputs): string | undefined {
    if (type === STAGE) {
        const destination = valueAt(inputs, "accessLogSettings.destinationArn");
        return typeof destination === "string" && destination.includes(":logs:") ? "accessLogSettings.destinationArn" : undefined;
    }
    const level = valueAt(inputs, "settings.loggingLevel");
    if (level === "ERROR" || level === "INFO") return "settings.loggingLevel";
    return valueAt(inputs, "settings.dataTraceEnabled") === true ? "settings.dataTraceEnabled" : undefined;
}

function accountRoleRule(type: string): AwsRule {
    return {
        id: type === STAGE ? "apigateway.stage-logging-needs-account-role" : "apigateway.method-logging-needs-account-role",
        types: [type],
        input: type === STAGE ? "accessLogSettings" : "settings.loggingLevel",
        rule: "CloudWatch Logs role ARN must be set in account settings to enable logging: the region's API Gateway account " +
            "settings (aws.apigateway.Account, cloudwatchRoleArn) must name a role API Gateway can assume before a stage logs to CloudWatch",
        source: LOGGING,
        check(inputs, context) {
            const input = logsToCloudWatch(type, inputs);
            if (input === undefined || context.account.cloudWatchRoleArn) return [];
            return [{ input, value: valueAt(inputs, input), detail: `the account settings of ${context.region} have no cloudwatchRoleArn` }];
        },
    };
}

const CACHE_SIZES = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];

export const APIGATEWAY_RULES: AwsRule[] = [
    stringRule({
        id: "apigateway.stage-name", types: [STAGE], input: "stageName", required: true, max: 128, pattern: /^[A-Za-z0-9_-]+$/,
        rule: "stage names can only contain alphanumeric characters, hyphens, and underscores; maximum length is 128 characters",
        source: CREATE_STAGE,
    }),
    eachRule({
        id: "apigateway.stage-variables", types: [STAGE], input: "variables",
        rule: "variable names can have alphanumeric and underscore characters, and the values must match [A-Za-z0-9-._~:/?#&=,]+ (at most 2048 characters)",
        source: `${CREATE_STAGE}, variables; developer guide "Stage variables reference"`,
        accepts: (variables) => {
            if (typeof variables !== "object" || variables === null) return "a map of names to values";
            const bad = Object.entries(variables).find(([k, v]) => !/^[A-Za-z0-9_]+$/.test(k) || typeof v !== "string" || !/^[A-Za-z0-9\-._~:/?#&=,]{1,2048}$/.test(v));
            return bad ? `variable ${JSON.stringify(bad[0])} = ${JSON.stringify(bad[1])}` : undefined;
        },
    }),
    enumRule({ id: "apigateway.stage-cache-size", types: [STAGE], input: "cacheClusterSize", allowed: CACHE_SIZES, source: `${CREATE_STAGE}, cacheClusterSize` }),
    eachRule({
        id: "apigateway.stage-cache-size-needs-cache", types: [STAGE], input: "cacheClusterSize",
        rule: "a cache size is only set with cacheClusterEnabled true", source: `${CREATE_STAGE}, cacheClusterEnabled and cacheClusterSize`,
        accepts: (_v, inputs) => (inputs.cacheClusterEnabled === true ? undefined : "cacheClusterEnabled is not true"),
    }),
    eachRule({
        id: "apigateway.access-log-destination", types: [STAGE], input: "accessLogSettings.destinationArn",
        rule: "the ARN of a CloudWatch Logs log group (without a trailing :*) or of a Kinesis Data Firehose stream whose name begins with amazon-apigateway-",
        source: "API Gateway API reference, AccessLogSettings (API_AccessLogSettings.html); terraform-provider-aws internal/service/apigateway/stage.go (destination_arn)",
        accepts: (v) => (typeof v === "string" && (/^arn:[a-z-]+:logs:[a-z0-9-]+:\d{12}:log-group:[\w./#-]+$/.test(v) ||
            /^arn:[a-z-]+:firehose:[a-z0-9-]+:\d{12}:deliverystream\/amazon-apigateway-[\w.-]+$/.test(v)) ? undefined : ""),
    }),
    accountRoleRule(STAGE),
    stringRule({
        id: "apigateway.method-settings-path", types: [METHOD_SETTINGS], input: "methodPath", required: true, pattern: /^(\*\/\*|[^\s]+\/(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS|\*))$/,
        rule: "*/* for every method, or {resource_path}/{http_method}", source: "API Gateway API reference, UpdateStage patch paths /{resource_path}/{http_method}/...; terraform-provider-aws internal/service/apigateway/method_settings.go",
    }),
    enumRule({ id: "apigateway.method-logging-level", types: [METHOD_SETTINGS], input: "settings.loggingLevel", allowed: ["OFF", "ERROR", "INFO"], source: "API Gateway API reference, MethodSetting (API_MethodSetting.html), loggingLevel" }),
    eachRule({
        id: "apigateway.method-throttling", types: [METHOD_SETTINGS], input: "settings",
        rule: "throttlingRateLimit and throttlingBurstLimit are -1 (no limit) or not negative; the account quota is 10,000 requests per second and a burst of 5,000",
        source: "API Gateway API reference, MethodSetting; developer guide \"Amazon API Gateway quotas\" (throttle quota per account per Region)",
        accepts: (s) => {
            const settings = s as Inputs;
            const rate = settings.throttlingRateLimit;
            const burst = settings.throttlingBurstLimit;
            if (rate !== undefined && (typeof rate !== "number" || rate < -1 || rate > 10000)) return `throttlingRateLimit ${rate}`;
            if (burst !== undefined && (typeof burst !== "number" || !Number.isInteger(burst) || burst < -1 || burst > 5000)) return `throttlingBurstLimit ${burst}`;
            return undefined;
        },
    }),
    accountRoleRule(METHOD_SETTINGS),
    stringRule({
        id: "apigateway.rest-api-name", types: [REST_API], input: "name", required: true, max: 1024,
        rule: "a name is required", source: "API Gateway API reference, CreateRestApi (API_CreateRestApi.html), name",
    }),
    eachRule({
        id: "apigateway.endpoint-type", types: [REST_API, DOMAIN], input: "endpointConfiguration.types",
        rule: "exactly one endpoint type: EDGE, REGIONAL or PRIVATE", source: "API Gateway API reference, EndpointConfiguration (API_EndpointConfiguration.html)",
        accepts: (v) => (["EDGE", "REGIONAL", "PRIVATE"].includes(String(v)) && !Array.isArray(v) ? undefined : ""),
    }),
    eachRule({
        id: "apigateway.binary-media-types", types: [REST_API], input: "binaryMediaTypes",
        rule: "media types written type/subtype (wildcards allowed)", source: "API Gateway API reference, CreateRestApi, binaryMediaTypes; developer guide \"Binary media types for REST APIs\"",
        accepts: (v) => (typeof v === "string" && /^[A-Za-z0-9*!#$&^_.+-]+\/[A-Za-z0-9*!#$&^_.+-]+$/.test(v) ? undefined : ""),
    }),
    {
        id: "apigateway.import-warnings", types: [REST_API], input: "body",
        rule: "PutRestApi reports what it could not import as warnings; with failOnWarnings the import fails, without it the rest is imported and those parts are dropped",
        source: "API Gateway API reference, PutRestApi (API_PutRestApi.html), failonwarnings and the warnings of the RestApi it returns; " +
            "developer guide \"x-amazon-apigateway-integration.responses object\" (an integration response needs the method response of its statusCode)",
        check(inputs) {
            if (typeof inputs.body !== "string") return [];
            return importProblems(inputs.body).map((p) => ({ input: "body", value: p.pointer, detail: p.message }));
        },
    },
    stringRule({
        id: "apigateway.domain-name", types: [DOMAIN], input: "domainName", required: true, max: 253,
        pattern: /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        rule: "a fully qualified, lower-case domain name", source: "API Gateway API reference, CreateDomainName (API_CreateDomainName.html), domainName",
    }),
    {
        id: "apigateway.regional-certificate-region", types: [DOMAIN], input: "regionalCertificateArn",
        rule: "a REGIONAL custom domain takes regionalCertificateArn (not certificateArn), an ACM certificate in the same Region as the API",
        source: "API Gateway developer guide, \"Set up a Regional custom domain name in API Gateway\" (the certificate must be in the same Region as the API); CreateDomainName, regionalCertificateArn",
        check(inputs, context) {
            const types = valueAt(inputs, "endpointConfiguration.types");
            if (types !== "REGIONAL") return [];
            const arn = inputs.regionalCertificateArn;
            if (typeof arn !== "string") return [{ input: "regionalCertificateArn", value: arn, detail: inputs.certificateArn ? "certificateArn is for EDGE domains" : "it is required" }];
            const region = arn.split(":")[3];
            return region === context.region ? [] : [{ input: "regionalCertificateArn", value: arn, detail: `the certificate is in ${region}, the API in ${context.region}` }];
        },
    },
    enumRule({
        id: "apigateway.domain-security-policy", types: [DOMAIN], input: "securityPolicy", allowed: ["TLS_1_0", "TLS_1_2"],
        source: "API Gateway API reference, CreateDomainName, securityPolicy (TLS_1_0 | TLS_1_2)",
    }),
    enumRule({
        id: "apigateway.domain-routing-mode", types: [DOMAIN], input: "routingMode", allowed: ["BASE_PATH_MAPPING_ONLY", "ROUTING_RULE_ONLY", "ROUTING_RULE_THEN_BASE_PATH_MAPPING"],
        rule: "one of BASE_PATH_MAPPING_ONLY, ROUTING_RULE_ONLY, ROUTING_RULE_THEN_BASE_PATH_MAPPING (the apigatewayv2 API spells them API_MAPPING_ONLY and ROUTING_RULE_THEN_API_MAPPING)",
        source: "API Gateway API reference, CreateDomainName, routingMode; developer guide \"Send traffic to your APIs through your custom domain name in API Gateway\" (rest-api-routing-mode.html)",
    }),
    {
        id: "apigateway.deployment-needs-methods", types: [DEPLOYMENT], input: "restApi",
        rule: "a deployment snapshots a REST API that has at least one method, each with an integration",
        source: "API Gateway API reference, CreateDeployment (API_CreateDeployment.html), BadRequestException: \"The REST API doesn't contain any methods\", " +
            "\"No integration defined for method\" (as reported in hashicorp/terraform-provider-aws#21210)",
        check(inputs, context) {
            const api = createdOf(context, REST_API).find((r) => r.id === inputs.restApi);
            const problem = api && typeof api.inputs.body === "string" ? deploymentProblem(api.inputs.body) : undefined;
            return problem ? [{ input: "restApi", value: inputs.restApi, detail: `${problem} (REST API "${api?.name}")` }] : [];
        },
    },
    stringRule({
        id: "apigateway.base-path", types: [MAPPING], input: "basePath", max: 255, pattern: /^(\(none\)|[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)$/,
        rule: "(none), or path parts of letters, digits, . _ and - (no leading or trailing /)",
        source: "API Gateway API reference, CreateBasePathMapping (API_CreateBasePathMapping.html), basePath; developer guide \"Working with API mappings for REST APIs\"",
    }),
    stringRule({
        id: "apigateway.account-role", types: [ACCOUNT], input: "cloudwatchRoleArn", required: true, pattern: /^arn:[a-z-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/,
        rule: "the ARN of an IAM role that trusts apigateway.amazonaws.com", source: "API Gateway API reference, UpdateAccount (/cloudwatchRoleArn patch); CloudFormation AWS::ApiGateway::Account",
    }),
];
