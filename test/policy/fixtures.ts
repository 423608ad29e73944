// StackPreview-shaped fixtures for the policy tests (the shape preview/cli.ts
// produces): a small stack that passes every rule, to break one property at a time, and a
// deliberately broken stack.
import type { PreviewResource, StackPreview } from "../../policy/stack-model";

// Fixture inputs are JSON edited freely by the tests.
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const PROJECT = "api-ring";
export const STACK = "test";
export const STACK_URN = `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${STACK}`;

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`;
}

/** A resource; state defaults to nothing beyond the inputs (the mock cloud echoes inputs). */
export function resource(type: string, name: string, inputs: Json, extra: Partial<PreviewResource> = {}): PreviewResource {
    return {
        urn: urnOf(type, name), type, name, id: `${name}-id`, parent: STACK_URN, custom: true,
        inputs, secretInputs: [], state: {}, ...extra,
    };
}

export function stack(resources: PreviewResource[], extra: Partial<StackPreview> = {}): StackPreview {
    return {
        stack: STACK, project: PROJECT, outputs: {}, secretOutputs: [], config: { "aws:region": "us-east-1" }, secretConfig: [],
        resources: [{ urn: STACK_URN, type: "pulumi:pulumi:Stack", name: `${PROJECT}-${STACK}`, id: "", custom: false, inputs: {}, secretInputs: [], state: {} }, ...resources],
        ...extra,
    };
}

export const SWAGGER = {
    swagger: "2.0",
    securityDefinitions: { threescale: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authorizer": { type: "token" } } },
    paths: {
        "/heartbeat": { get: { security: [] } },
        "/discovery/v1/catalogs": { get: { security: [{ threescale: [] }] } },
        "/{proxy+}": { "x-amazon-apigateway-any-method": { security: [{ threescale: [] }] } },
    },
};

export const OPENAPI3 = {
    openapi: "3.0.3",
    security: [{ threescale: [] }],
    components: { securitySchemes: { threescale: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authorizer": { type: "token" } } } },
    paths: {
        "/heartbeat": { get: { security: [] } },
        "/courses/v1/courses": { get: {}, post: { security: [{ threescale: [] }] } },
    },
};

const ENV = {
    REDIS_HOST: "master.redis.internal", USAGE_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:usage", TOKEN_PATTERN: "^[A-Za-z0-9_-]{16,128}$",
    THREESCALE_SERVICE_TOKEN_PARAMETER: "pair-service-token-1a2b3c4", REDIS_AUTH_TOKEN_PARAMETER: "pair-redis-auth-token-5d6e7f8",
};

function lambda(name: string): PreviewResource {
    return resource("aws:lambda/function:Function", name, {
        runtime: "nodejs22.x", role: `arn:aws:iam::123456789012:role/${name}-role`,
        environment: { variables: { ...ENV } },
        vpcConfig: { subnetIds: ["subnet-private-a", "subnet-private-b"], securityGroupIds: ["sg-lambda"] },
    }, { state: { name, arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}` } });
}

export const DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:usage-dlq";

/** An alarm on one metric (dimensions as given), or, with `queries`, on metric math over several. */
export function alarm(name: string, namespace: string, metricName: string, dimensions: Json, queries = false): PreviewResource {
    return resource("aws:cloudwatch/metricAlarm:MetricAlarm", name, queries
        ? {
            name, comparisonOperator: "GreaterThanThreshold", threshold: 1, evaluationPeriods: 1,
            metricQueries: [
                { id: "m", returnData: false, metric: { namespace, metricName, stat: "Sum", period: 60, dimensions } },
                { id: "e", expression: "m", returnData: true },
            ],
        }
        : { name, comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluationPeriods: 1, namespace, metricName, statistic: "Sum", period: 60, dimensions });
}

/** The alarms the program makes for one slot, over the fixture's resources. */
export function slotAlarms(): PreviewResource[] {
    const api = { ApiName: "api-ring-red", Stage: "red" };
    return [
        alarm("red-5xx-rate", "AWS/ApiGateway", "5XXError", api, true),
        alarm("red-latency-p99", "AWS/ApiGateway", "Latency", api, true),
        alarm("red-authorizer-errors", "AWS/Lambda", "Errors", { FunctionName: "authorizer" }, true),
        alarm("red-authorizer-throttles", "AWS/Lambda", "Throttles", { FunctionName: "authorizer" }),
        alarm("red-usage-dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "usage-dlq" }),
    ];
}

export const STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/api123/stages/red";
export const WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/red-web-acl/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6";

/** The rule components/reservedHeaders.ts builds: block any request carrying a header named x-api-ring-* in any spelling. */
export function reservedHeadersRule(): Json {
    return {
        name: "reserved-context-headers", priority: 0, action: { block: {} },
        statement: {
            regexMatchStatement: {
                regexString: "^[xX][-_][aA][pP][iI][-_][rR][iI][nN][gG][-_]",
                fieldToMatch: { headers: [{ matchPattern: { all: {} }, matchScope: "KEY", oversizeHandling: "MATCH" }] },
                textTransformations: [{ priority: 0, type: "NONE" }],
            },
        },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "api-ring-red-reserved-headers", sampledRequestsEnabled: true },
    };
}

/** A stack that passes every rule (the shape the program produces on the primary slot). */
export function goodResources(): PreviewResource[] {
    return [
        resource("awsx:ec2:Vpc", "vpc", { cidrBlock: "10.40.0.0/16" }, {
            id: "", custom: false,
            state: { vpcId: "vpc-1", privateSubnetIds: ["subnet-private-a", "subnet-private-b"], publicSubnetIds: ["subnet-public-a", "subnet-public-b"] },
        }),
        resource("aws:ec2/securityGroup:SecurityGroup", "lambda-sg", { vpcId: "vpc-1", egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }, { id: "sg-lambda" }),
        resource("aws:ec2/securityGroup:SecurityGroup", "redis-sg", {
            vpcId: "vpc-1", ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: ["sg-lambda"] }],
        }, { id: "sg-redis" }),
        resource("aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets", { name: "redis-subnets", subnetIds: ["subnet-private-a", "subnet-private-b"] }),
        resource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", {
            engine: "redis", transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "[secret]", port: 6379, securityGroupIds: ["sg-redis"], subnetGroupName: "redis-subnets",
        }, { secretInputs: ["authToken"] }),
        lambda("authorizer"),
        { ...lambda("reporter"), inputs: { ...lambda("reporter").inputs, deadLetterConfig: { targetArn: DLQ_ARN } } },
        resource("aws:sqs/queue:Queue", "usage-dlq", { sqsManagedSseEnabled: true }, { state: { name: "usage-dlq", arn: DLQ_ARN } }),
        resource("aws:lambda/permission:Permission", "invokes-authorizer", {
            action: "lambda:InvokeFunction", function: "arn:aws:lambda:us-east-1:123456789012:function:authorizer", principal: "apigateway.amazonaws.com",
        }),
        ...slotAlarms(),
        resource("aws:iam/role:Role", "authorizer-role", { assumeRolePolicy: "{}" }),
        resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "vpc-access", {
            role: "authorizer-role-id", policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        }),
        resource("aws:apigateway/restApi:RestApi", "api", { name: "api-ring-red", body: JSON.stringify(SWAGGER), failOnWarnings: true }, { id: "api123" }),
        resource("aws:apigateway/stage:Stage", "stage", {
            restApi: "api123", stageName: "red",
            accessLogSettings: { destinationArn: "arn:aws:logs:us-east-1:123456789012:log-group:access", format: "{\"requestId\":\"$context.requestId\"}" },
        }, { state: { arn: STAGE_ARN } }),
        resource("aws:wafv2/webAcl:WebAcl", "web-acl", {
            scope: "REGIONAL", defaultAction: { allow: {} }, rules: [reservedHeadersRule()],
            visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "api-ring-red-reserved-headers", sampledRequestsEnabled: true },
        }, { state: { arn: WEB_ACL_ARN } }),
        resource("aws:wafv2/webAclAssociation:WebAclAssociation", "web-acl-association", { resourceArn: STAGE_ARN, webAclArn: WEB_ACL_ARN }),
        resource("aws:apigateway/methodSettings:MethodSettings", "settings", {
            restApi: "api123", stageName: "red", methodPath: "*/*",
            settings: { loggingLevel: "ERROR", metricsEnabled: true, throttlingRateLimit: 500, throttlingBurstLimit: 1000, cachingEnabled: false },
        }),
        resource("aws:sns/topic:Topic", "usage", { kmsMasterKeyId: "alias/aws/sns" }),
        resource("aws:apigateway/domainName:DomainName", "domain", { domainName: "api.example.edu", securityPolicy: "TLS_1_2" }),
    ];
}

/** A fixture resource whose inputs the tests edit freely. */
export type FixtureResource = PreviewResource & { inputs: Json };

export function find(resources: PreviewResource[], name: string): FixtureResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no fixture resource ${name}`);
    return r as FixtureResource;
}

/** The good stack with one resource changed (by name). */
export function withChange(name: string, change: (inputs: Json, r: FixtureResource) => void): StackPreview {
    const resources = goodResources();
    const target = find(resources, name);
    change(target.inputs, target);
    return stack(resources);
}

/**
 * A deliberately broken stack: no throttling, caching on without encryption, the Redis group
 * open to 0.0.0.0/0, a FullAccess attachment, the reporter in a public subnet, a plain token in
 * the authorizer's environment, and its expected violations as "policy resource" pairs.
 */
export function brokenStack(): { preview: StackPreview; expected: string[] } {
    const resources = goodResources();
    find(resources, "settings").inputs.settings = { loggingLevel: "INFO", cachingEnabled: true, cacheDataEncrypted: false };
    find(resources, "redis-sg").inputs.ingress.push({ protocol: "tcp", fromPort: 6379, toPort: 6379, cidrBlocks: ["0.0.0.0/0"] });
    resources.push(resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", { role: "authorizer-role-id", policyArn: "arn:aws:iam::aws:policy/AmazonElastiCacheFullAccess" }));
    find(resources, "reporter").inputs.vpcConfig.subnetIds = ["subnet-public-a"];
    const authorizer = find(resources, "authorizer");
    authorizer.inputs.environment.variables = { REDIS_HOST: "redis.internal", THREESCALE_SERVICE_TOKEN: "plain-token", USAGE_TOPIC_ARN: "arn:aws:sns:us-east-1:1:t" };
    return {
        preview: stack(resources),
        expected: [
            "redis-ingress-lambda-only redis-sg",
            "redis-lambdas-in-private-subnets reporter",
            "no-managed-full-access admin",
            "stage-throttling-and-logging settings", // no rate limit
            "stage-throttling-and-logging settings", // no burst limit
            "stage-throttling-and-logging settings", // cache not encrypted
            "secrets-stay-secret authorizer",
        ].sort(),
    };
}
