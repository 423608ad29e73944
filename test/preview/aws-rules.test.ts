// Pins each of the mock cloud's AWS rules (preview/aws-rules/) with an input AWS accepts and one it
// refuses, and the autonaming pulumi-aws applies before them.
import * as assert from "assert";
import { cohortProblems, headerProblems } from "../../live/cohorts";
import { AWS_RULES, autoname, checkResource } from "../../preview/aws-rules";
import type { CreatedResource, RuleContext } from "../../preview/aws-rules";
import { MockCloud } from "../../preview/mock-cloud";

const ROLE = "arn:aws:iam::123456789012:role/api-gateway-cloudwatch";
const CONTEXT: RuleContext = { region: "us-east-1", partition: "aws", account: { cloudWatchRoleArn: ROLE } };
const FRESH: RuleContext = { ...CONTEXT, account: {} };
const LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/api-ring-red/access";
const BODY_OK = JSON.stringify({
    swagger: "2.0",
    paths: { "/x": { get: { responses: { 200: {}, 404: {} }, "x-amazon-apigateway-integration": { type: "http", responses: { default: { statusCode: "200" }, "4\\d{2}": { statusCode: "404" } } } } } },
    "x-amazon-apigateway-gateway-responses": { UNAUTHORIZED: { statusCode: "401" } },
});
const BODY_WARNS = JSON.stringify({
    swagger: "2.0",
    paths: { "/x": { get: { responses: { 200: {} }, "x-amazon-apigateway-integration": { type: "http", responses: { default: { statusCode: "200" }, "4\\d{2}": { statusCode: "404" } } } } } },
});
const ALARM = { name: "api-ring-red-5xx", comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 3, datapointsToAlarm: 2, metricName: "Throttles", namespace: "AWS/Lambda", statistic: "Sum", period: 60, treatMissingData: "notBreaching" };
/** A context in which this run already created `resources` (for the rules across resources). */
const after = (...resources: Omit<CreatedResource, "state">[]): RuleContext => ({ ...CONTEXT, created: resources.map((r) => ({ ...r, state: { ...r.inputs, arn: `arn:aws:kms:us-east-1:123456789012:key/${r.id}` } })) });
const KEYS = after(
    { type: "aws:kms/key:Key", name: "symmetric", id: "1111aaaa-0000-0000-0000-000000000000", inputs: {} },
    { type: "aws:kms/key:Key", name: "rsa", id: "2222bbbb-0000-0000-0000-000000000000", inputs: { customerMasterKeySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" } },
);
const APIS = after(
    { type: "aws:apigateway/restApi:RestApi", name: "with-methods", id: "a1b2c3d4e5", inputs: { body: BODY_OK } },
    { type: "aws:apigateway/restApi:RestApi", name: "bare", id: "f6g7h8i9j0", inputs: { body: JSON.stringify({ swagger: "2.0", paths: { "/x": { get: { responses: { 200: {} } } } } }) } },
);
/** A routing rule for one header condition (the live pointer's cohort). */
const routingRule = (header: string, valueGlob: string, extra: Record<string, unknown> = {}) => ({
    domainName: "api.example.edu", priority: 100,
    conditions: [{ matchHeaders: { anyOf: { header, valueGlob } } }],
    actions: [{ invokeApi: { apiId: "a1b2c3d4e5", stage: "red" } }], ...extra,
});
const RULE_AT_100 = after({ type: "aws:apigatewayv2/routingRule:RoutingRule", name: "live-cohort-100", id: "abc123", inputs: routingRule("X-Ring-Cohort", "beta") });
const PARAMETER = { name: "red-authorizer-pair-service-token-1a2b3c4", type: "SecureString", value: "token" };
const QUERIES = [{ id: "a", returnData: false, metric: { period: 60 } }, { id: "b", expression: "a", returnData: true }];

interface Case {
    type: string;
    ok: Record<string, unknown>;
    refused: Record<string, unknown>;
    context?: RuleContext;
    /** The refused input's context when it differs (an account without a CloudWatch role). */
    refusedContext?: RuleContext;
}

const T = {
    stage: "aws:apigateway/stage:Stage", settings: "aws:apigateway/methodSettings:MethodSettings", api: "aws:apigateway/restApi:RestApi",
    domain: "aws:apigateway/domainName:DomainName", mapping: "aws:apigateway/basePathMapping:BasePathMapping", account: "aws:apigateway/account:Account",
    fn: "aws:lambda/function:Function", permission: "aws:lambda/permission:Permission", role: "aws:iam/role:Role", rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", redis: "aws:elasticache/replicationGroup:ReplicationGroup", subnets: "aws:elasticache/subnetGroup:SubnetGroup",
    sg: "aws:ec2/securityGroup:SecurityGroup", vpc: "aws:ec2/vpc:Vpc", subnet: "aws:ec2/subnet:Subnet", route: "aws:ec2/route:Route",
    topic: "aws:sns/topic:Topic", subscription: "aws:sns/topicSubscription:TopicSubscription", queue: "aws:sqs/queue:Queue", logGroup: "aws:cloudwatch/logGroup:LogGroup",
    rule: "aws:cloudwatch/eventRule:EventRule", target: "aws:cloudwatch/eventTarget:EventTarget", alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard", record: "aws:route53/record:Record",
    acl: "aws:wafv2/webAcl:WebAcl", aclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
    parameter: "aws:ssm/parameter:Parameter", key: "aws:kms/key:Key", routingRule: "aws:apigatewayv2/routingRule:RoutingRule", deployment: "aws:apigateway/deployment:Deployment",
    igw: "aws:ec2/internetGateway:InternetGateway", routeTable: "aws:ec2/routeTable:RouteTable", association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    eip: "aws:ec2/eip:Eip", nat: "aws:ec2/natGateway:NatGateway",
};

const CASES: Record<string, Case> = {
    "apigateway.stage-name": { type: T.stage, ok: { stageName: "red_1-a" }, refused: { stageName: "red.1" } },
    "apigateway.stage-variables": { type: T.stage, ok: { stageName: "red", variables: { edxapp_host: "courses.example.edu:8443" } }, refused: { stageName: "red", variables: { edxapp_host: "courses example" } } },
    "apigateway.stage-cache-size": { type: T.stage, ok: { stageName: "red", cacheClusterEnabled: true, cacheClusterSize: "1.6" }, refused: { stageName: "red", cacheClusterEnabled: true, cacheClusterSize: "2" } },
    "apigateway.stage-cache-size-needs-cache": { type: T.stage, ok: { stageName: "red", cacheClusterEnabled: true, cacheClusterSize: "0.5" }, refused: { stageName: "red", cacheClusterEnabled: false, cacheClusterSize: "0.5" } },
    "apigateway.access-log-destination": { type: T.stage, ok: { stageName: "red", accessLogSettings: { destinationArn: LOG_GROUP_ARN } }, refused: { stageName: "red", accessLogSettings: { destinationArn: `${LOG_GROUP_ARN}:*` } } },
    "apigateway.stage-logging-needs-account-role": { type: T.stage, ok: { stageName: "red", accessLogSettings: { destinationArn: LOG_GROUP_ARN } }, refused: { stageName: "red", accessLogSettings: { destinationArn: LOG_GROUP_ARN } }, refusedContext: FRESH },
    "apigateway.method-settings-path": { type: T.settings, ok: { methodPath: "*/*", settings: {} }, refused: { methodPath: "*", settings: {} } },
    "apigateway.method-logging-level": { type: T.settings, ok: { methodPath: "*/*", settings: { loggingLevel: "INFO" } }, refused: { methodPath: "*/*", settings: { loggingLevel: "DEBUG" } } },
    "apigateway.method-throttling": { type: T.settings, ok: { methodPath: "*/*", settings: { throttlingRateLimit: 500, throttlingBurstLimit: 1000 } }, refused: { methodPath: "*/*", settings: { throttlingRateLimit: 500, throttlingBurstLimit: 6000 } } },
    "apigateway.method-logging-needs-account-role": { type: T.settings, ok: { methodPath: "*/*", settings: { loggingLevel: "OFF" } }, refused: { methodPath: "*/*", settings: { loggingLevel: "ERROR" } }, refusedContext: FRESH },
    "apigateway.rest-api-name": { type: T.api, ok: { name: "api-ring-red" }, refused: {} },
    "apigateway.endpoint-type": { type: T.api, ok: { name: "a", endpointConfiguration: { types: "REGIONAL" } }, refused: { name: "a", endpointConfiguration: { types: "GLOBAL" } } },
    "apigateway.binary-media-types": { type: T.api, ok: { name: "a", binaryMediaTypes: ["multipart/form-data", "image/*"] }, refused: { name: "a", binaryMediaTypes: ["multipart"] } },
    "apigateway.import-warnings": { type: T.api, ok: { name: "a", body: BODY_OK, failOnWarnings: true }, refused: { name: "a", body: BODY_WARNS, failOnWarnings: true } },
    "apigateway.domain-name": { type: T.domain, ok: { domainName: "api.example.edu" }, refused: { domainName: "API.example.edu" } },
    "apigateway.regional-certificate-region": {
        type: T.domain,
        ok: { domainName: "api.example.edu", endpointConfiguration: { types: "REGIONAL" }, regionalCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b" },
        refused: { domainName: "api.example.edu", endpointConfiguration: { types: "REGIONAL" }, regionalCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b" },
    },
    "apigateway.domain-security-policy": { type: T.domain, ok: { domainName: "api.example.edu", securityPolicy: "TLS_1_2" }, refused: { domainName: "api.example.edu", securityPolicy: "TLS_1_1" } },
    "apigateway.base-path": { type: T.mapping, ok: { basePath: "v1/edx" }, refused: { basePath: "/v1" } },
    "apigateway.account-role": { type: T.account, ok: { cloudwatchRoleArn: ROLE }, refused: { cloudwatchRoleArn: "api-gateway-cloudwatch" } },
    "lambda.function-name": { type: T.fn, ok: { name: "red-authorizer-pair-authorizer-1a2b3c4" }, refused: { name: "red.1-authorizer" } },
    "lambda.runtime": { type: T.fn, ok: { name: "f", runtime: "nodejs22.x" }, refused: { name: "f", runtime: "nodejs16.x" } },
    "lambda.timeout": { type: T.fn, ok: { name: "f", timeout: 6 }, refused: { name: "f", timeout: 901 } },
    "lambda.memory-size": { type: T.fn, ok: { name: "f", memorySize: 512 }, refused: { name: "f", memorySize: 64 } },
    "lambda.architectures": { type: T.fn, ok: { name: "f", architectures: ["arm64"] }, refused: { name: "f", architectures: ["arm64", "x86_64"] } },
    "lambda.handler": { type: T.fn, ok: { name: "f", handler: "index.handler" }, refused: { name: "f", handler: "index handler" } },
    "lambda.description": { type: T.fn, ok: { name: "f", description: "api-ring authorizer" }, refused: { name: "f", description: "x".repeat(257) } },
    "lambda.environment-keys": { type: T.fn, ok: { name: "f", environment: { variables: { REDIS_HOST: "h" } } }, refused: { name: "f", environment: { variables: { AWS_REGION: "us-east-1" } } } },
    "lambda.environment-size": { type: T.fn, ok: { name: "f", environment: { variables: { A1: "x".repeat(4000) } } }, refused: { name: "f", environment: { variables: { A1: "x".repeat(4095) } } } },
    "lambda.vpc-config": { type: T.fn, ok: { name: "f", vpcConfig: { subnetIds: ["subnet-1"], securityGroupIds: ["sg-1"] } }, refused: { name: "f", vpcConfig: { subnetIds: [], securityGroupIds: ["sg-1"] } } },
    "lambda.layers": {
        type: T.fn, ok: { name: "f", layers: ["arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:99"] },
        refused: { name: "f", layers: ["arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64"] },
    },
    "lambda.permission-action": { type: T.permission, ok: { action: "lambda:InvokeFunction" }, refused: { action: "InvokeFunction" } },
    "lambda.permission-source-arn": { type: T.permission, ok: { action: "lambda:InvokeFunction", sourceArn: "arn:aws:execute-api:us-east-1:123456789012:abc/authorizers/*" }, refused: { action: "lambda:InvokeFunction", sourceArn: "abc/authorizers/*" } },
    "lambda.permission-function": {
        type: T.permission, ok: { function: "arn:aws:lambda:us-east-1:123456789012:function:register-pet" },
        refused: { function: "arn:aws:lambda:us-east-1:123456789012:function:register.pet" },
    },
    "lambda.permission-principal": { type: T.permission, ok: { principal: "apigateway.amazonaws.com" }, refused: { principal: "apigateway .amazonaws.com" } },
    "lambda.permission-qualifier": { type: T.permission, ok: { qualifier: "live" }, refused: { qualifier: "$LATEST" } },
    "iam.role-name": { type: T.role, ok: { name: "red-authorizer-pair-authorizer-role-1a2b3c4", assumeRolePolicy: { Statement: [] } }, refused: { name: "x".repeat(65), assumeRolePolicy: { Statement: [] } } },
    "iam.assume-role-policy": { type: T.role, ok: { name: "r", assumeRolePolicy: "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }, refused: { name: "r", assumeRolePolicy: "{\"Version\":" } },
    "iam.role-policy-name": { type: T.rolePolicy, ok: { name: "p-1", policy: "{\"Statement\":[]}" }, refused: { name: "p 1", policy: "{\"Statement\":[]}" } },
    "iam.role-policy-document": { type: T.rolePolicy, ok: { name: "p", policy: "{\"Statement\":[]}" }, refused: { name: "p", policy: "{}" } },
    "iam.policy-arn": { type: T.attachment, ok: { policyArn: "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess" }, refused: { policyArn: "AWSXRayDaemonWriteAccess" } },
    "elasticache.replication-group-id": { type: T.redis, ok: { replicationGroupId: "red-auth-cache-redis-1a2b3c4", description: "d" }, refused: { replicationGroupId: "red_1-auth-cache", description: "d" } },
    "elasticache.auth-token": { type: T.redis, ok: { replicationGroupId: "r", description: "d", transitEncryptionEnabled: true, authToken: "abc!&#$^<>-0123456789" }, refused: { replicationGroupId: "r", description: "d", transitEncryptionEnabled: true, authToken: "abcdefghij0123456789%" } },
    "elasticache.auth-token-needs-transit-encryption": { type: T.redis, ok: { replicationGroupId: "r", description: "d", transitEncryptionEnabled: true, authToken: "a".repeat(32) }, refused: { replicationGroupId: "r", description: "d", authToken: "a".repeat(32) } },
    "elasticache.failover-needs-replicas": { type: T.redis, ok: { replicationGroupId: "r", description: "d", automaticFailoverEnabled: true, numCacheClusters: 2 }, refused: { replicationGroupId: "r", description: "d", automaticFailoverEnabled: true, numCacheClusters: 1 } },
    "elasticache.engine": { type: T.redis, ok: { replicationGroupId: "r", description: "d", engine: "valkey" }, refused: { replicationGroupId: "r", description: "d", engine: "memcached" } },
    "elasticache.description": { type: T.redis, ok: { replicationGroupId: "r", description: "decision cache" }, refused: { replicationGroupId: "r" } },
    "elasticache.subnet-group-name": { type: T.subnets, ok: { name: "red-auth-cache-redis-subnets-1a2b3c4", description: "d" }, refused: { name: "red_subnets", description: "d" } },
    "elasticache.subnet-group-description": { type: T.subnets, ok: { name: "s", description: "private subnets" }, refused: { name: "s" } },
    "ec2.security-group-name": { type: T.sg, ok: { name: "red-auth-cache-lambda-sg-1a2b3c4" }, refused: { name: "sg-lambda" } },
    "ec2.security-group-description": { type: T.sg, ok: { name: "g", description: "api-ring decision cache: Redis from the authorizer Lambdas only" }, refused: { name: "g", description: "Redis from the authorizer's Lambdas" } },
    "ec2.security-group-rule-description": { type: T.sg, ok: { name: "g", ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, description: "Redis from the pair" }] }, refused: { name: "g", ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, description: "Redis <- pair" }] } },
    "ec2.security-group-rule-ports": { type: T.sg, ok: { name: "g", egress: [{ protocol: "-1", fromPort: 0, toPort: 0 }] }, refused: { name: "g", egress: [{ protocol: "-1", fromPort: 0, toPort: 65535 }] } },
    "ec2.vpc-cidr": { type: T.vpc, ok: { cidrBlock: "10.40.0.0/16" }, refused: { cidrBlock: "10.0.0.0/8" } },
    "ec2.subnet-cidr": { type: T.subnet, ok: { cidrBlock: "10.40.4.0/22" }, refused: { cidrBlock: "10.40.0.0/29" } },
    "ec2.route-target": { type: T.route, ok: { routeTableId: "rtb-1", natGatewayId: "nat-1", destinationCidrBlock: "0.0.0.0/0" }, refused: { routeTableId: "rtb-1", natGatewayId: "nat-1", gatewayId: "igw-1", destinationCidrBlock: "0.0.0.0/0" } },
    "sns.topic-name": { type: T.topic, ok: { name: "red-authorizer-pair-usage-1a2b3c4" }, refused: { name: "red.usage" } },
    "sns.subscription-protocol": { type: T.subscription, ok: { protocol: "lambda" }, refused: { protocol: "function" } },
    "sqs.queue-name": { type: T.queue, ok: { name: "red-authorizer-pair-usage-dlq-1a2b3c4" }, refused: { name: "red.dlq" } },
    "sqs.message-retention": { type: T.queue, ok: { name: "q", messageRetentionSeconds: 1209600 }, refused: { name: "q", messageRetentionSeconds: 1209601 } },
    "logs.log-group-name": { type: T.logGroup, ok: { name: "/aws/apigateway/api-ring-red/access" }, refused: { name: "/aws/apigateway/api ring" } },
    "logs.retention": { type: T.logGroup, ok: { name: "g", retentionInDays: 30 }, refused: { name: "g", retentionInDays: 31 } },
    "events.rule-name": { type: T.rule, ok: { name: "red-authorizer-pair-usage-flush-1a2b3c4" }, refused: { name: "red usage flush" } },
    "events.schedule": { type: T.rule, ok: { name: "r", scheduleExpression: "rate(1 minute)" }, refused: { name: "r", scheduleExpression: "every minute" } },
    "events.target-id": { type: T.target, ok: { targetId: "red-authorizer-pair-usage-flush-1a2b3c4" }, refused: { targetId: "x".repeat(65) } },
    "cloudwatch.alarm-name": { type: T.alarm, ok: ALARM, refused: { ...ALARM, name: "x".repeat(256) } },
    "cloudwatch.alarm-description": { type: T.alarm, ok: { ...ALARM, alarmDescription: "5XX rate" }, refused: { ...ALARM, alarmDescription: "x".repeat(1025) } },
    "cloudwatch.alarm-comparison": { type: T.alarm, ok: ALARM, refused: { ...ALARM, comparisonOperator: "Above" } },
    "cloudwatch.alarm-missing-data": { type: T.alarm, ok: ALARM, refused: { ...ALARM, treatMissingData: "zero" } },
    "cloudwatch.alarm-evaluation-periods": { type: T.alarm, ok: ALARM, refused: { ...ALARM, evaluationPeriods: 0, datapointsToAlarm: undefined } },
    "cloudwatch.alarm-datapoints": { type: T.alarm, ok: ALARM, refused: { ...ALARM, datapointsToAlarm: 4 } },
    "cloudwatch.alarm-metric": { type: T.alarm, ok: { ...ALARM, metricName: undefined, namespace: undefined, statistic: undefined, period: undefined, metricQueries: QUERIES }, refused: { ...ALARM, metricQueries: QUERIES } },
    "cloudwatch.dashboard-name": { type: T.dashboard, ok: { dashboardName: "api-ring", dashboardBody: "{\"widgets\":[]}" }, refused: { dashboardName: "api ring", dashboardBody: "{\"widgets\":[]}" } },
    "cloudwatch.dashboard-body": { type: T.dashboard, ok: { dashboardName: "d", dashboardBody: "{\"widgets\":[]}" }, refused: { dashboardName: "d", dashboardBody: "{\"widget\":[]}" } },
    "route53.record-type": { type: T.record, ok: { type: "A", aliases: [{ name: "d", zoneId: "Z" }] }, refused: { type: "ALIAS", aliases: [{ name: "d", zoneId: "Z" }] } },
    "route53.alias-or-records": { type: T.record, ok: { type: "A", aliases: [{ name: "d", zoneId: "Z" }] }, refused: { type: "A", aliases: [{ name: "d", zoneId: "Z" }], records: ["1.2.3.4"] } },
    "wafv2.web-acl-name": { type: T.acl, ok: { name: "red-gateway-web-acl-1a2b3c4", scope: "REGIONAL" }, refused: { name: "red.gateway.acl", scope: "REGIONAL" } },
    "wafv2.web-acl-description": { type: T.acl, ok: { name: "a", description: "api-ring slot red: requests carrying an x-api-ring- header are blocked" }, refused: { name: "a", description: "requests carrying an x-api-ring-* header are blocked" } },
    "wafv2.scope": { type: T.acl, ok: { name: "a", scope: "REGIONAL" }, refused: { name: "a", scope: "GLOBAL" } },
    "wafv2.metric-name": { type: T.acl, ok: { name: "a", visibilityConfig: { metricName: "api-ring-red-web-acl" } }, refused: { name: "a", visibilityConfig: { metricName: "api ring" } } },
    "wafv2.association-resource": { type: T.aclAssociation, ok: { resourceArn: "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/red", webAclArn: "w" }, refused: { resourceArn: "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5", webAclArn: "w" } },
    "apigateway.domain-routing-mode": { type: T.domain, ok: { domainName: "api.example.edu", routingMode: "ROUTING_RULE_THEN_BASE_PATH_MAPPING" }, refused: { domainName: "api.example.edu", routingMode: "ROUTING_RULE_THEN_API_MAPPING" } },
    "apigateway.deployment-needs-methods": { type: T.deployment, ok: { restApi: "a1b2c3d4e5" }, refused: { restApi: "f6g7h8i9j0" }, context: APIS },
    "apigatewayv2.routing-rule-priority": { type: T.routingRule, ok: routingRule("X-Ring-Cohort", "beta", { priority: 1_000_000 }), refused: routingRule("X-Ring-Cohort", "beta", { priority: 0 }) },
    "apigatewayv2.routing-rule-priority-unique": { type: T.routingRule, ok: routingRule("X-Ring-Cohort", "gamma", { priority: 200 }), refused: routingRule("X-Ring-Cohort", "gamma"), context: RULE_AT_100 },
    "apigatewayv2.routing-rule-conditions": {
        type: T.routingRule, ok: routingRule("X-Ring-Cohort", "beta", { conditions: [{ matchHeaders: { anyOf: { header: "A", valueGlob: "1" } } }, { matchHeaders: { anyOf: { header: "B", valueGlob: "2" } } }, { matchBasePaths: { anyOfs: ["v1"] } }] }),
        refused: routingRule("X-Ring-Cohort", "beta", { conditions: ["A", "B", "C"].map((header) => ({ matchHeaders: { anyOf: { header, valueGlob: "1" } } })) }),
    },
    "apigatewayv2.routing-rule-header-name": { type: T.routingRule, ok: routingRule("X".repeat(39), "beta"), refused: routingRule("X".repeat(40), "beta") },
    "apigatewayv2.routing-rule-header-value": { type: T.routingRule, ok: routingRule("X-Ring-Cohort", "*beta*"), refused: routingRule("X-Ring-Cohort", "be*ta") },
    "apigatewayv2.routing-rule-header-supported": { type: T.routingRule, ok: routingRule("X-Ring-Cohort", "beta"), refused: routingRule("X-Amzn-Trace-Id", "beta") },
    "apigatewayv2.routing-rule-action": { type: T.routingRule, ok: routingRule("X-Ring-Cohort", "beta"), refused: routingRule("X-Ring-Cohort", "beta", { actions: [{ invokeApi: { apiId: "a1b2c3d4e5" } }] }) },
    "ssm.parameter-name": { type: T.parameter, ok: { ...PARAMETER, name: "/api-ring/red/service_token.v1" }, refused: { ...PARAMETER, name: "api-ring/red/service-token" } },
    "ssm.parameter-name-reserved-prefix": { type: T.parameter, ok: { ...PARAMETER, name: "/api-ring/ssm-token" }, refused: { ...PARAMETER, name: "/SSM-token" } },
    "ssm.parameter-name-depth": { type: T.parameter, ok: { ...PARAMETER, name: `/${Array(15).fill("a").join("/")}` }, refused: { ...PARAMETER, name: `/${Array(16).fill("a").join("/")}` } },
    "ssm.parameter-name-length": { type: T.parameter, ok: { ...PARAMETER, name: "a".repeat(1011 - 45) }, refused: { ...PARAMETER, name: "a".repeat(1011 - 44) } },
    "ssm.parameter-type": { type: T.parameter, ok: PARAMETER, refused: { ...PARAMETER, type: "Secure" } },
    "ssm.parameter-value": { type: T.parameter, ok: { ...PARAMETER, value: "x".repeat(4096) }, refused: { ...PARAMETER, value: "x".repeat(4097) } },
    "ssm.parameter-value-references": { type: T.parameter, ok: PARAMETER, refused: { ...PARAMETER, value: "{{ssm:other}}" } },
    "ssm.parameter-tier": { type: T.parameter, ok: { ...PARAMETER, tier: "Intelligent-Tiering" }, refused: { ...PARAMETER, tier: "Premium" } },
    "ssm.parameter-description": { type: T.parameter, ok: { ...PARAMETER, description: "x".repeat(1024) }, refused: { ...PARAMETER, description: "x".repeat(1025) } },
    "ssm.parameter-key-id": { type: T.parameter, ok: { ...PARAMETER, keyId: "alias/api-ring" }, refused: { ...PARAMETER, keyId: "alias/api ring" } },
    "ssm.secure-string-key": { type: T.parameter, ok: { ...PARAMETER, keyId: "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-0000-0000-0000-000000000000" }, refused: { ...PARAMETER, keyId: "2222bbbb-0000-0000-0000-000000000000" }, context: KEYS },
    "kms.deletion-window": { type: T.key, ok: { deletionWindowInDays: 30 }, refused: { deletionWindowInDays: 31 } },
    "kms.description": { type: T.key, ok: { description: "x".repeat(8192) }, refused: { description: "x".repeat(8193) } },
    "kms.key-usage": { type: T.key, ok: { customerMasterKeySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" }, refused: { keyUsage: "SIGN_VERIFY" } },
    "kms.key-rotation": { type: T.key, ok: { enableKeyRotation: true }, refused: { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", enableKeyRotation: true } },
    "kms.rotation-period": { type: T.key, ok: { enableKeyRotation: true, rotationPeriodInDays: 90 }, refused: { rotationPeriodInDays: 365 } },
    "kms.key-policy": { type: T.key, ok: { policy: "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }, refused: { policy: "x".repeat(10) } },
    "ec2.internet-gateway-vpc": { type: T.igw, ok: { vpcId: "vpc-0f34b5eea5f708a2b" }, refused: { vpcId: "subnet-0f34b5eea5f708a2b" } },
    "ec2.route-table-vpc": { type: T.routeTable, ok: { vpcId: "vpc-0f34b5ee" }, refused: {} },
    "ec2.route-table-association-target": { type: T.association, ok: { routeTableId: "rtb-1", subnetId: "subnet-1" }, refused: { routeTableId: "rtb-1", subnetId: "subnet-1", gatewayId: "igw-1" } },
    "ec2.eip-domain": { type: T.eip, ok: { domain: "vpc" }, refused: { domain: "VPC" } },
    "ec2.nat-gateway-allocation": { type: T.nat, ok: { subnetId: "subnet-1", allocationId: "eipalloc-1" }, refused: { subnetId: "subnet-1" } },
    "ec2.tags": { type: T.nat, ok: { tags: { Name: "red-auth-cache-vpc-1", "api-ring:slot": "red" } }, refused: { tags: { "aws:cloudformation:stack-name": "red" } } },
    "arn.partition": { type: T.attachment, ok: { policyArn: "arn:aws-cn:iam::aws:policy/AWSXRayDaemonWriteAccess" }, refused: { policyArn: "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess" }, context: { region: "cn-north-1", partition: "aws-cn", account: {} } },
};

describe("the mock cloud's AWS rules", () => {
    it("pins every rule with a case, and names its source", () => {
        assert.deepStrictEqual(AWS_RULES.map((r) => r.id).filter((id) => !(id in CASES)), []);
        assert.deepStrictEqual(Object.keys(CASES).filter((id) => !AWS_RULES.some((r) => r.id === id)), []);
        for (const rule of AWS_RULES) assert.ok(rule.source.length > 20, `${rule.id} cites a source`);
    });

    for (const [id, c] of Object.entries(CASES)) {
        it(`${id}: accepts what AWS accepts and refuses what it refuses`, () => {
            const context = c.context ?? CONTEXT;
            const ok = checkResource(c.type, "r", c.ok, context).filter((r) => r.ruleId === id);
            assert.deepStrictEqual(ok, [], `accepted input refused: ${JSON.stringify(ok)}`);
            const refused = checkResource(c.type, "r", c.refused, c.refusedContext ?? context).filter((r) => r.ruleId === id);
            assert.strictEqual(refused.length >= 1, true, `refused input accepted: ${JSON.stringify(c.refused)}`);
            assert.match(`${refused[0].type} "${refused[0].name}": ${refused[0].input}`, new RegExp(`^${c.type.replace(/[/$]/g, "\\$&")} "r": \\S+`));
        });
    }

    it("masks a secret input's value in the refusal", () => {
        const [refusal] = checkResource(T.redis, "r", { replicationGroupId: "r", description: "d", transitEncryptionEnabled: true, authToken: "short" }, CONTEXT, ["authToken"]);
        assert.strictEqual(refusal.value, "[secret]");
        assert.strictEqual(refusal.ruleId, "elasticache.auth-token");
    });
});

describe("the mock cloud's routing rule rules and the live pointer's cohort checks agree (both from AWS's routing rules page)", () => {
    const HEADER_RULES = ["apigatewayv2.routing-rule-header-name", "apigatewayv2.routing-rule-header-value", "apigatewayv2.routing-rule-header-supported"];
    const refusedByMock = (rule: Record<string, unknown>, ids: string[]) => checkResource(T.routingRule, "r", rule, CONTEXT).some((r) => ids.includes(r.ruleId));
    const SAMPLES: [string, string][] = [
        ["X-Ring-Cohort", "beta"], ["X-Ring-Cohort", "beta*"], ["X-Ring-Cohort", "*beta"], ["X-Ring-Cohort", "*beta*"], ["X-Ring-Cohort", "*"], ["X-Ring-Cohort", "v1.2_rc-3~x"],
        ["X-Ring-Cohort", "be*ta"], ["X Ring", "beta"], ["X-Ring", "be/ta"], ["", ""], ["X-Ring-*", "beta"], ["X?Ring", "beta?"],
        ["X".repeat(39), "b"], ["X".repeat(40), "b"], ["X", "b".repeat(127)], ["X", "b".repeat(128)], ["X", `*${"b".repeat(37)}*`], ["X", `*${"b".repeat(38)}*`],
        ["Authorization", "x"], ["content-length", "x"], ["X-Amz-Date", "x"], ["x-amzn-trace-id", "x"], ["Access-Control-Request-Method", "x"], ["apigw-x", "x"],
        ["Via", "x"], ["X-Forwarded-For", "x"], ["x-restapi", "x"], ["X-Amzn", "x"], ["Originator", "x"],
    ];
    for (const [name, value] of SAMPLES) {
        it(`header ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}...(${name.length})` : name)}=${JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}...(${value.length})` : value)}`, () => {
            const cohorts = headerProblems({ name, value });
            assert.strictEqual(refusedByMock(routingRule(name, value), HEADER_RULES), cohorts.length > 0, `live/cohorts.ts says ${JSON.stringify(cohorts)}`);
        });
    }
    it("priorities and the number of headers", () => {
        for (const priority of [0, 1, 100, 1_000_000, 1_000_001, 1.5]) {
            const cohorts = cohortProblems([{ slot: "red", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority }]);
            assert.strictEqual(refusedByMock(routingRule("X-Ring-Cohort", "beta", { priority }), ["apigatewayv2.routing-rule-priority"]), cohorts.length > 0, `priority ${priority}`);
        }
        for (const count of [1, 2, 3]) {
            const headers = Array.from({ length: count }, (_, i) => ({ name: `X-Ring-${i}`, value: "beta" }));
            const cohorts = cohortProblems([{ slot: "red", headers, priority: 100 }]);
            const rule = routingRule("X", "y", { conditions: headers.map((h) => ({ matchHeaders: { anyOf: { header: h.name, valueGlob: h.value } } })) });
            assert.strictEqual(refusedByMock(rule, ["apigatewayv2.routing-rule-conditions"]), cohorts.length > 0, `${count} headers`);
        }
    });
});

describe("the mock cloud checks a resource against what the run created before it", () => {
    const cloud = () => new MockCloud({ region: "us-east-1", stackOutputs: () => undefined, account: {} });
    it("refuses a SecureString under an asymmetric key it created, and a second routing rule at a priority the domain has", () => {
        const mock = cloud();
        const key = mock.newResource({ type: T.key, name: "rsa", inputs: { customerMasterKeySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" }, custom: true });
        mock.newResource({ type: T.parameter, name: "token", inputs: { type: "SecureString", value: "v", keyId: key.state.arn }, custom: true });
        mock.newResource({ type: T.routingRule, name: "cohort-a", inputs: routingRule("X-Ring-Cohort", "a"), custom: true });
        mock.newResource({ type: T.routingRule, name: "cohort-b", inputs: routingRule("X-Ring-Cohort", "b"), custom: true });
        assert.deepStrictEqual(mock.refusals.map((r) => `${r.name} ${r.ruleId}`), ["token ssm.secure-string-key", "cohort-b apigatewayv2.routing-rule-priority-unique"]);
    });
    it("accepts them under a symmetric key and at distinct priorities, and names an unnamed parameter as pulumi-aws does", () => {
        const mock = cloud();
        const key = mock.newResource({ type: T.key, name: "secrets", inputs: {}, custom: true });
        const parameter = mock.newResource({ type: T.parameter, name: "token", inputs: { type: "SecureString", value: "v", keyId: key.state.arn }, custom: true });
        mock.newResource({ type: T.routingRule, name: "cohort-a", inputs: routingRule("X-Ring-Cohort", "a"), custom: true });
        mock.newResource({ type: T.routingRule, name: "cohort-b", inputs: routingRule("X-Ring-Cohort", "b", { priority: 200 }), custom: true });
        assert.deepStrictEqual(mock.refusals, []);
        assert.match(String(parameter.state.name), /^token-[0-9a-f]{7}$/);
    });
    it("forgets what an earlier deployment created once another starts (the component harness's builds)", () => {
        const mock = cloud();
        mock.newResource({ type: T.routingRule, name: "first-cohort-100", inputs: routingRule("X-Ring-Cohort", "a"), custom: true });
        mock.startDeployment();
        mock.newResource({ type: T.routingRule, name: "second-cohort-100", inputs: routingRule("X-Ring-Cohort", "a"), custom: true });
        assert.deepStrictEqual(mock.refusals, []);
    });
});

describe("pulumi-aws autonaming in the mock cloud", () => {
    it("names a resource <logical name>-<7 hex> within its type's maximum length, lower-cased where the provider lower-cases", () => {
        assert.deepStrictEqual(autoname("aws:elasticache/replicationGroup:ReplicationGroup", "Red-auth-cache-redis", {}, "1a2b3c4"), { field: "replicationGroupId", name: "red-auth-cache-redis-1a2b3c4" });
        assert.deepStrictEqual(autoname("aws:lambda/function:Function", "f", { name: "given" }, "1a2b3c4"), undefined);
    });

    it("fails as the provider fails when the name and the suffix pass the maximum length", () => {
        const named = autoname("aws:elasticache/replicationGroup:ReplicationGroup", "sixteen-chars-xx-auth-cache-redis", {}, "1a2b3c4");
        assert.deepStrictEqual(named, {
            field: "replicationGroupId",
            error: "could not make instance of 'aws:elasticache/replicationGroup:ReplicationGroup': name 'sixteen-chars-xx-auth-cache-redis-' plus 7 random chars is longer than maximum length 40",
        });
    });
});
