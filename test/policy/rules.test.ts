// Each rule of the pack on a stack that passes and on one that violates it, through the
// offline runner (policy/offline.ts), asserting the policy name and what the message says.
import * as assert from "assert";
import { PolicyConfig, Violation, checkStack } from "../../policy/offline";
import { policies } from "../../policy/policies";
import { OPENAPI3, SWAGGER, alarm, find, goodResources, resource, stack, withChange } from "./fixtures";
import { policyProxy } from "../../policy/rules/support";

const UNKNOWN_STRING = policyProxy.unknownStringValue;

/** The violations, asserting every one is of `policy` and there is at least one. */
function only(violations: Violation[], policy: string): Violation[] {
    assert.deepStrictEqual(violations.filter((v) => v.policy !== policy), [], `only ${policy} is violated`);
    assert.ok(violations.length > 0, `${policy} is violated`);
    return violations;
}

function messages(violations: Violation[]): string[] {
    return violations.map((v) => v.message);
}

describe("policy pack: rules", () => {
    it("has the mandatory rules, kebab-case, described", () => {
        assert.deepStrictEqual(policies.map((p) => p.name), [
            "redis-encryption-and-auth", "redis-ingress-lambda-only", "redis-lambdas-in-private-subnets", "no-managed-full-access",
            "stage-throttling-and-logging", "methods-use-authorizer", "sns-topic-encrypted", "domain-tls-1-2",
            "secrets-stay-secret", "secret-outputs-stay-secret", "lambda-runtime-supported", "slots-have-alarms",
            "private-subnets-egress-through-nat", "redis-in-private-subnets", "rest-api-fails-on-warnings",
            "stage-blocks-forged-context-headers",
        ]);
        for (const p of policies) {
            assert.strictEqual(p.enforcementLevel, "mandatory", p.name);
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(p.description.length > 20, p.name);
        }
    });

    it("the correct stack passes every rule", () => {
        assert.deepStrictEqual(checkStack(stack(goodResources())), []);
    });

    describe("redis-encryption-and-auth", () => {
        it("reports transit and at-rest encryption off, a 'preferred' transit mode and no AUTH token", () => {
            const v = only(checkStack(withChange("redis", (i) => {
                i.transitEncryptionEnabled = false;
                i.transitEncryptionMode = "preferred";
                delete i.atRestEncryptionEnabled;
                delete i.authToken;
            })), "redis-encryption-and-auth");
            assert.deepStrictEqual(messages(v), [
                "redis: transitEncryptionEnabled is false; set it to true so tokens and decisions never cross the VPC in clear text.",
                "redis: transitEncryptionMode is \"preferred\", which still accepts unencrypted connections; set it to \"required\" (or leave it unset).",
                "redis: atRestEncryptionEnabled is unset; set it to true so cached decisions are encrypted on disk.",
                "redis: no authToken; set one (16-128 characters, a Pulumi secret) so only clients holding it can connect.",
            ]);
            assert.ok(v.every((x) => x.name === "redis" && x.type === "aws:elasticache/replicationGroup:ReplicationGroup"));
        });
    });

    describe("redis-ingress-lambda-only", () => {
        it("reports, on the Redis group, a CIDR, IPv6, a port range, all protocols, self and a group no Lambda uses", () => {
            const resources = goodResources();
            resources.push(resource("aws:ec2/securityGroup:SecurityGroup", "bastion-sg", {}, { id: "sg-bastion" }));
            find(resources, "redis-sg").inputs.ingress = [
                { protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: ["sg-lambda", "sg-bastion"] },
                { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
                { protocol: "-1", fromPort: 0, toPort: 0, self: true },
            ];
            const v = only(checkStack(stack(resources)), "redis-ingress-lambda-only");
            assert.deepStrictEqual(messages(v), [
                "redis-sg (security group of Redis redis): ingress[0] admits security group bastion-sg, which no Lambda of this stack runs in; admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[1] opens ports 0-65535 instead of only 6379; admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[1] admits CIDR 0.0.0.0/0; admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[1] admits IPv6 CIDR ::/0; admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[2] admits all protocols and ports (protocol -1); admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[2] opens ports 0-0 instead of only 6379; admit only the Lambda security group, on port 6379.",
                "redis-sg (security group of Redis redis): ingress[2] admits its own members (self); admit only the Lambda security group, on port 6379.",
            ]);
            assert.ok(v.every((x) => x.name === "redis-sg"));
        });

        it("reports separate ingress rule resources (vpc and ec2 shapes) and ignores egress and other groups' rules", () => {
            const resources = goodResources();
            resources.push(
                resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "open", { securityGroupId: "sg-redis", ipProtocol: "tcp", fromPort: 6379, toPort: 6379, cidrIpv4: "0.0.0.0/0" }),
                resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "from-lambda", { securityGroupId: "sg-redis", ipProtocol: "tcp", fromPort: 6379, toPort: 6379, referencedSecurityGroupId: "sg-lambda" }),
                resource("aws:ec2/securityGroupRule:SecurityGroupRule", "from-elsewhere", { type: "ingress", securityGroupId: "sg-redis", protocol: "tcp", fromPort: 6379, toPort: 6379, sourceSecurityGroupId: "sg-0123456789" }),
                resource("aws:ec2/securityGroupRule:SecurityGroupRule", "egress", { type: "egress", securityGroupId: "sg-redis", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }),
                resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "lambda-https", { securityGroupId: "sg-lambda", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
            );
            const v = only(checkStack(stack(resources)), "redis-ingress-lambda-only");
            assert.deepStrictEqual(v.map((x) => `${x.name}: ${x.message}`), [
                "open: open (ingress rule of redis-sg (security group of Redis redis)): admits CIDR 0.0.0.0/0; admit only the Lambda security group, on port 6379.",
                "from-elsewhere: from-elsewhere (ingress rule of redis-sg (security group of Redis redis)): admits security group sg-0123456789, which no Lambda of this stack runs in; admit only the Lambda security group, on port 6379.",
            ]);
        });

        it("reports a replication group without security groups", () => {
            const v = only(checkStack(withChange("redis", (i) => { delete i.securityGroupIds; })), "redis-ingress-lambda-only");
            assert.match(v[0].message, /^redis: no securityGroupIds, so the VPC's default security group applies/);
        });
    });

    describe("redis-lambdas-in-private-subnets", () => {
        it("reports a public subnet, a subnet outside the VPC, and a missing vpcConfig", () => {
            const resources = goodResources();
            find(resources, "authorizer").inputs.vpcConfig.subnetIds = ["subnet-private-a", "subnet-public-b"];
            find(resources, "reporter").inputs.vpcConfig.subnetIds = ["subnet-elsewhere"];
            const v = only(checkStack(stack(resources)), "redis-lambdas-in-private-subnets");
            assert.deepStrictEqual(messages(v), [
                "authorizer runs in public subnet(s) subnet-public-b; use the VPC's private subnets (awsx Vpc privateSubnetIds).",
                "reporter runs in subnet(s) subnet-elsewhere, which are not private subnets of the VPC; use the VPC's private subnets.",
            ]);
            const none = checkStack(withChange("authorizer", (i) => { delete i.vpcConfig; })).filter((x) => x.policy === "redis-lambdas-in-private-subnets");
            assert.deepStrictEqual(messages(none), ["authorizer uses Redis (REDIS_HOST) but has no vpcConfig; give it vpcConfig with the VPC's private subnet ids and the Lambda security group."]);
            const noGroups = only(checkStack(withChange("authorizer", (i) => { i.vpcConfig.securityGroupIds = []; })), "redis-lambdas-in-private-subnets");
            assert.match(noGroups[0].message, /its vpcConfig has no securityGroupIds/);
        });

        it("ignores functions without REDIS_HOST", () => {
            assert.deepStrictEqual(checkStack(withChange("reporter", (i) => {
                delete i.environment.variables.REDIS_HOST;
                delete i.vpcConfig;
            })), []);
        });

        it("classifies subnets by the aws:ec2/subnet children of a real preview (SubnetType tag, mapPublicIpOnLaunch)", () => {
            const resources = goodResources().filter((r) => r.type !== "awsx:ec2:Vpc");
            resources.push(
                resource("aws:ec2/subnet:Subnet", "private-1", { tags: { SubnetType: "Private" } }, { id: "subnet-private-a" }),
                resource("aws:ec2/subnet:Subnet", "private-2", { tags: { SubnetType: "Private" } }, { id: "subnet-private-b" }),
                resource("aws:ec2/subnet:Subnet", "public-1", { mapPublicIpOnLaunch: true, tags: { SubnetType: "Public" } }, { id: "subnet-public-a" }),
            );
            assert.deepStrictEqual(checkStack(stack(resources)), []);
            find(resources, "reporter").inputs.vpcConfig.subnetIds = ["subnet-public-a"];
            assert.deepStrictEqual(messages(only(checkStack(stack(resources)), "redis-lambdas-in-private-subnets")), [
                "reporter runs in public subnet(s) public-1; use the VPC's private subnets (awsx Vpc privateSubnetIds).",
            ]);
        });

        it("on a secondary slot, compares with the primary's outputs behind the StackReference", () => {
            const resources = goodResources().filter((r) => !["awsx:ec2:Vpc", "aws:elasticache/replicationGroup:ReplicationGroup"].includes(r.type) && !r.name.endsWith("-sg"));
            resources.push(resource("pulumi:pulumi:StackReference", "primary", { name: "org/api-ring/red" }, {
                id: "org/api-ring/red", state: { outputs: { privateSubnetIds: ["subnet-private-a", "subnet-private-b"], lambdaSecurityGroupId: "sg-lambda" } },
            }));
            assert.deepStrictEqual(checkStack(stack(resources)), []);
            find(resources, "authorizer").inputs.vpcConfig.subnetIds = ["subnet-other"];
            assert.match(only(checkStack(stack(resources)), "redis-lambdas-in-private-subnets")[0].message, /authorizer runs in subnet\(s\) subnet-other, which are not private subnets/);
        });
    });

    describe("no-managed-full-access", () => {
        it("reports AWS managed *FullAccess policies in any partition; customer policies and other managed ones pass", () => {
            const resources = goodResources();
            resources.push(
                resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "s3", { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" }),
                resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "gov", { role: "r", policyArn: "arn:aws-us-gov:iam::aws:policy/AWSLambda_FullAccess" }),
                resource("aws:iam/role:Role", "role", { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonSNSFullAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"] }),
                resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "customer", { role: "r", policyArn: "arn:aws:iam::123456789012:policy/MyFullAccess" }),
                resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "xray", { role: "r", policyArn: "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess" }),
            );
            const v = only(checkStack(stack(resources)), "no-managed-full-access");
            assert.deepStrictEqual(v.map((x) => x.name), ["s3", "gov", "role"]);
            assert.strictEqual(v[0].message, "s3: policyArn attaches the AWS managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess; grant only the actions and resources the role needs (an inline aws.iam.RolePolicy).");
            assert.match(v[2].message, /^role: managedPolicyArns attaches the AWS managed policy arn:aws:iam::aws:policy\/AmazonSNSFullAccess/);
        });
    });

    describe("stage-throttling-and-logging", () => {
        it("reports missing throttling, log level and encryption of an enabled cache on the method settings", () => {
            const v = only(checkStack(withChange("settings", (i) => { i.settings = { cachingEnabled: true, throttlingRateLimit: 0 }; })), "stage-throttling-and-logging");
            assert.deepStrictEqual(messages(v), [
                "stage red (stage): throttlingRateLimit is 0; set a limit above 0 (gateway:rateLimit).",
                "stage red (stage): throttlingBurstLimit is unset; set a limit above 0 (gateway:burstLimit).",
                "stage red (stage): loggingLevel is unset; set one of OFF, ERROR, INFO (gateway:logLevel).",
                "stage red (stage): response caching is on without cacheDataEncrypted; set cacheDataEncrypted: true.",
            ]);
            assert.ok(v.every((x) => x.name === "settings"));
        });

        it("reports a stage without access logging, and one without */* method settings", () => {
            assert.deepStrictEqual(messages(only(checkStack(withChange("stage", (i) => { delete i.accessLogSettings.format; })), "stage-throttling-and-logging")), [
                "stage red (stage) has no accessLogSettings.format; set accessLogSettings with a CloudWatch log group ARN and a format.",
            ]);
            for (const change of [(i: Record<string, unknown>) => { i.methodPath = "GET/heartbeat"; }, (i: Record<string, unknown>) => { i.stageName = "black"; }, (i: Record<string, unknown>) => { i.restApi = "other"; }]) {
                const v = only(checkStack(withChange("settings", change)), "stage-throttling-and-logging");
                assert.deepStrictEqual(messages(v), ["stage red (stage) has no aws.apigateway.MethodSettings for methodPath */*; add them with throttlingRateLimit, throttlingBurstLimit and loggingLevel."]);
                assert.strictEqual(v[0].name, "stage");
            }
        });

        it("takes its thresholds from policy config", () => {
            const config: PolicyConfig = { "stage-throttling-and-logging": { maxRateLimit: 100, minBurstLimit: 2000, logLevels: ["INFO"] } };
            assert.deepStrictEqual(messages(only(checkStack(stack(goodResources()), config), "stage-throttling-and-logging")), [
                "stage red (stage): throttlingRateLimit 500 is above the policy's maximum 100; lower it (gateway:rateLimit).",
                "stage red (stage): throttlingBurstLimit 1000 is below the policy's minimum 2000; raise it (gateway:burstLimit).",
                "stage red (stage): loggingLevel is \"ERROR\"; set one of INFO (gateway:logLevel).",
            ]);
            assert.match(checkStack(withChange("settings", (i) => { i.settings.throttlingBurstLimit = 6000; }))[0].message, /throttlingBurstLimit 6000 is above the policy's maximum 5000/);
        });
    });

    describe("methods-use-authorizer", () => {
        it("reports operations without the authorizer in Swagger 2.0, including ANY and an empty requirement", () => {
            const v = only(checkStack(withChange("api", (i) => {
                const doc = JSON.parse(i.body);
                doc.paths["/discovery/v1/catalogs"].get.security = [{ someOtherScheme: [] }];
                doc.paths["/enterprise"] = { post: {}, put: { security: [{ threescale: [] }, {}] } };
                doc.paths["/{proxy+}"]["x-amazon-apigateway-any-method"] = {};
                i.body = JSON.stringify(doc);
            })), "methods-use-authorizer");
            assert.deepStrictEqual(messages(v), [
                "api: GET /discovery/v1/catalogs has a requirement (someOtherScheme) in its own security that names no scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM or an API key); add the authorizer's security requirement, or mark it public with security: [].",
                "api: ANY /{proxy+} has no security requirement (neither its own nor a document-level default); add the authorizer's security requirement, or mark it public with security: [].",
                "api: PUT /enterprise has an empty requirement ({}) in its own security, which lets callers skip the authorizer; add the authorizer's security requirement, or mark it public with security: [].",
                "api: POST /enterprise has no security requirement (neither its own nor a document-level default); add the authorizer's security requirement, or mark it public with security: [].",
            ]);
        });

        it("accepts API Gateway's own public marker, x-amazon-apigateway-auth: {type: none}, as the upstream token route writes it", () => {
            const body = (mark: (doc: Record<string, any>) => void) => withChange("api", (i) => { // eslint-disable-line @typescript-eslint/no-explicit-any -- editing a parsed document
                const doc = JSON.parse(i.body);
                mark(doc);
                i.body = JSON.stringify(doc);
            });
            assert.deepStrictEqual(checkStack(body((doc) => {
                doc.paths["/oauth2/token"] = { post: { "x-amazon-apigateway-auth": { type: "NONE" } } };
            })), []);
            assert.deepStrictEqual(checkStack(body((doc) => {
                doc.paths["/oauth2/token"] = { post: { "x-amazon-apigateway-auth": { type: "AWS_IAM" } } };
            })), [], "IAM protects it (test/policy/auth-kinds.test.ts has the other kinds)");
            const v = only(checkStack(body((doc) => {
                doc.paths["/oauth2/token"] = { post: { "x-amazon-apigateway-auth": { type: "cognito" } } };
            })), "methods-use-authorizer");
            assert.deepStrictEqual(messages(v), [
                "api: POST /oauth2/token has no security requirement (neither its own nor a document-level default); add the authorizer's security requirement, or mark it public with security: [].",
            ]);
        });

        it("with publicRoutes in its config, reports a public operation the list does not name", () => {
            const config: PolicyConfig = { "methods-use-authorizer": { publicRoutes: ["GET /heartbeat"] } };
            assert.deepStrictEqual(checkStack(stack(goodResources()), config), []);
            const v = only(checkStack(withChange("api", (i) => {
                const doc = JSON.parse(i.body);
                doc.paths["/registrar/login"] = { "x-amazon-apigateway-any-method": { security: [] } };
                doc.paths["/oauth2/token"] = { post: { "x-amazon-apigateway-auth": { type: "none" } } };
                i.body = JSON.stringify(doc);
            }), config), "methods-use-authorizer");
            assert.deepStrictEqual(messages(v), [
                "api: ANY /registrar/login is public (security: []) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
                "api: POST /oauth2/token is public (x-amazon-apigateway-auth: none) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
            ]);
        });

        it("reads OpenAPI 3 (components.securitySchemes) and the document-level default", () => {
            assert.deepStrictEqual(checkStack(withChange("api", (i) => { i.body = JSON.stringify(OPENAPI3); })), []);
            const v = only(checkStack(withChange("api", (i) => { i.body = JSON.stringify({ ...OPENAPI3, security: [{ other: [] }] }); })), "methods-use-authorizer");
            assert.deepStrictEqual(messages(v), [
                "api: GET /courses/v1/courses has a requirement (other) in the document-level security that names no scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM or an API key); add the authorizer's security requirement, or mark it public with security: [].",
            ]);
            const noScheme = only(checkStack(withChange("api", (i) => { i.body = JSON.stringify({ ...SWAGGER, securityDefinitions: {} }); })), "methods-use-authorizer");
            assert.match(noScheme[0].message, /^api: the OpenAPI body defines no security scheme with x-amazon-apigateway-authorizer/);
            assert.match(only(checkStack(withChange("api", (i) => { i.body = "swagger: '2.0'"; })), "methods-use-authorizer")[0].message, /body is not JSON/);
        });
    });

    describe("sns-topic-encrypted, domain-tls-1-2, lambda-runtime-supported", () => {
        it("reports an unencrypted topic", () => {
            assert.deepStrictEqual(messages(only(checkStack(withChange("usage", (i) => { delete i.kmsMasterKeyId; })), "sns-topic-encrypted")), [
                "usage: no kmsMasterKeyId, so messages are stored unencrypted; set kmsMasterKeyId (\"alias/aws/sns\" or a customer managed key).",
            ]);
        });

        it("reports a domain on TLS 1.0 or without a security policy", () => {
            assert.deepStrictEqual(messages(only(checkStack(withChange("domain", (i) => { i.securityPolicy = "TLS_1_0"; })), "domain-tls-1-2")), [
                "domain: securityPolicy is \"TLS_1_0\"; set securityPolicy to TLS_1_2.",
            ]);
            assert.match(checkStack(withChange("domain", (i) => { delete i.securityPolicy; }))[0].message, /securityPolicy is unset/);
        });

        it("reports a deprecated runtime; the allow-list comes from policy config", () => {
            assert.deepStrictEqual(messages(only(checkStack(withChange("authorizer", (i) => { i.runtime = "nodejs16.x"; })), "lambda-runtime-supported")), [
                "authorizer: runtime is \"nodejs16.x\", not one of nodejs20.x, nodejs22.x, nodejs24.x; move the function to a supported runtime.",
            ]);
            const strict = checkStack(stack(goodResources()), { "lambda-runtime-supported": { allowedRuntimes: ["nodejs24.x"] } });
            assert.deepStrictEqual(strict.map((v) => v.name), ["authorizer", "reporter"]);
        });
    });

    describe("rest-api-fails-on-warnings", () => {
        it("reports a REST API imported from a body without failOnWarnings: true, whatever else it is set to", () => {
            for (const value of [undefined, false, "true"]) {
                const v = only(checkStack(withChange("api", (i) => { if (value === undefined) delete i.failOnWarnings; else i.failOnWarnings = value; })), "rest-api-fails-on-warnings");
                assert.deepStrictEqual(messages(v), [
                    `api: failOnWarnings is ${value === undefined ? "unset" : JSON.stringify(value)}; set it to true, so a part of the body PutRestApi cannot import fails the update instead of being dropped (the provider never reads the import's warnings).`,
                ]);
            }
        });

        it("says nothing of a REST API built without a body", () => {
            assert.deepStrictEqual(checkStack(withChange("api", (i) => { delete i.body; delete i.failOnWarnings; })).filter((v) => v.policy === "rest-api-fails-on-warnings"), []);
        });
    });

    describe("secrets-stay-secret and secret-outputs-stay-secret", () => {
        it("refuses a secret-looking variable in a Lambda environment, a Pulumi secret or not, but not *_ARN, *_ID, *_URL, *_PARAMETER or other names (issue 17 item 6)", () => {
            // GetFunctionConfiguration shows the environment in clear to anyone allowed to read the function.
            const v = only(checkStack(withChange("authorizer", (i, r) => {
                r.secretInputs = ["environment.variables.REDIS_AUTH_TOKEN"];
                i.environment.variables = {
                    REDIS_HOST: "h", REDIS_AUTH_TOKEN: "[secret]", THREESCALE_SERVICE_TOKEN: "plain", DB_PASSWORD: "p", API_KEY: "k",
                    SIGNING_KEY_ARN: "arn", THREESCALE_SERVICE_ID: "1", SECRET_URL: "https://x", CACHE_TTL_SECONDS: "60",
                    THREESCALE_SERVICE_TOKEN_PARAMETER: "pair-service-token-1a2b3c4", TOKEN_PATTERN: "^[a-z]{16}$",
                };
            })), "secrets-stay-secret");
            assert.deepStrictEqual(messages(v), ["REDIS_AUTH_TOKEN", "THREESCALE_SERVICE_TOKEN", "DB_PASSWORD", "API_KEY"].map((n) =>
                `authorizer: environment variable ${n} holds a secret, and a Lambda environment is shown in clear to anyone who can read the function's configuration (GetFunctionConfiguration); ` +
                "keep the value in a secrets store (a SecureString parameter or a Secrets Manager secret the function's role alone may read) and put its name in the environment (e.g. NAME_PARAMETER)."));
        });

        it("reports a plain AUTH token", () => {
            assert.deepStrictEqual(messages(only(checkStack(withChange("redis", (i, r) => { r.secretInputs = []; i.authToken = "plain-auth-token"; })), "secrets-stay-secret")), [
                "redis: authToken is a plain value; pass it as a Pulumi secret (secret config or pulumi.secret(...)) so it is encrypted in state and masked in output.",
            ]);
        });

        it("reports secret-looking stack outputs that are not secret", () => {
            const good = stack(goodResources(), { outputs: { redisAuthToken: "[secret]", usageTopicArn: "arn", lambdaSecurityGroupId: "sg" }, secretOutputs: ["redisAuthToken"] });
            assert.deepStrictEqual(checkStack(good), []);
            const bad = stack(goodResources(), { outputs: { redisAuthToken: "plain", usageTopicArn: "arn" } });
            const v = only(checkStack(bad), "secret-outputs-stay-secret");
            assert.deepStrictEqual(messages(v), ["stack output redisAuthToken is a plain value; export it as pulumi.secret(...) (or not at all) so it is encrypted in state and masked in output."]);
            assert.strictEqual(v[0].type, "pulumi:pulumi:Stack");
        });
    });

    describe("slots-have-alarms", () => {
        const without = (...names: string[]) => stack(goodResources().filter((r) => !names.includes(r.name)));

        it("reports a stage without its 5XX and latency alarms, naming the metric and its dimensions", () => {
            const v = only(checkStack(without("red-5xx-rate", "red-latency-p99")), "slots-have-alarms");
            assert.deepStrictEqual(messages(v), ["5XXError", "Latency"].map((m) =>
                `stage red has no CloudWatch alarm on AWS/ApiGateway ${m} (ApiName "api-ring-red", Stage "red"); add an aws.cloudwatch.MetricAlarm on it (components/slotWatch.ts makes one per slot).`));
            assert.ok(v.every((x) => x.name === "stage"));
        });

        it("reports the function API Gateway invokes without error and throttle alarms, and a dead-letter queue without a depth alarm", () => {
            const v = only(checkStack(without("red-authorizer-errors", "red-authorizer-throttles", "red-usage-dead-letters")), "slots-have-alarms");
            assert.deepStrictEqual(v.map((x) => [x.name, x.message.split(";")[0]]), [
                ["authorizer", 'authorizer function authorizer has no CloudWatch alarm on AWS/Lambda Errors (FunctionName "authorizer")'],
                ["authorizer", 'authorizer function authorizer has no CloudWatch alarm on AWS/Lambda Throttles (FunctionName "authorizer")'],
                ["usage-dlq", 'dead-letter queue usage-dlq (of reporter) has no CloudWatch alarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName "usage-dlq")'],
            ]);
        });

        it("an alarm on another stage or function does not count", () => {
            const resources = goodResources().filter((r) => r.name !== "red-5xx-rate" && r.name !== "red-authorizer-throttles");
            resources.push(alarm("black-5xx", "AWS/ApiGateway", "5XXError", { ApiName: "api-ring-black", Stage: "black" }, true));
            resources.push(alarm("other-throttles", "AWS/Lambda", "Throttles", { FunctionName: "reporter" }));
            const v = only(checkStack(stack(resources)), "slots-have-alarms");
            assert.deepStrictEqual(v.map((x) => x.message.split(" has no")[0]), ["stage red", "authorizer function authorizer"]);
        });

        it("functions nothing invokes through API Gateway need no alarms; values a preview does not know yet count as matching", () => {
            const resources = goodResources().filter((r) => !r.name.startsWith("red-authorizer") && r.name !== "invokes-authorizer");
            assert.deepStrictEqual(checkStack(stack(resources)), []);
            const unknownName = goodResources();
            find(unknownName, "red-5xx-rate").inputs.metricQueries[0].metric.dimensions.Stage = UNKNOWN_STRING;
            assert.deepStrictEqual(checkStack(stack(unknownName)), []);
        });
    });
    describe("stage-blocks-forged-context-headers", () => {
        const POLICY = "stage-blocks-forged-context-headers";
        const FIX = "give it a rule with action block whose regexMatchStatement inspects the names of all headers (fieldToMatch.headers: matchPattern all, matchScope KEY, oversizeHandling MATCH) " +
            "with a regexString that matches x-api-ring- in any case with - or _ at each separator (components/reservedHeaders.ts builds one).";
        const blocksNothing = (reasons: string) => `stage red (stage): web ACL web-acl does not block headers named x-api-ring-* in every spelling (${reasons}); ${FIX}`;
        /** The good stack with the web ACL's one rule changed. */
        const withRule = (change: (rule: Record<string, any>) => void) => withChange("web-acl", (i) => change(i.rules[0])); // eslint-disable-line @typescript-eslint/no-explicit-any -- editing fixture JSON

        it("reports a stage without a web ACL association, and one whose association names another stage", () => {
            const none = "stage red (stage) has no AWS WAF web ACL association; associate a web ACL whose rule blocks headers named x-api-ring-* in any spelling (components/gatewayRing.ts does).";
            const v = only(checkStack(stack(goodResources().filter((r) => r.name !== "web-acl-association"))), POLICY);
            assert.deepStrictEqual(v.map((x) => [x.name, x.message]), [["stage", none]]);
            const other = only(checkStack(withChange("web-acl-association", (i) => { i.resourceArn = "arn:aws:apigateway:us-east-1::/restapis/api123/stages/black"; })), POLICY);
            assert.deepStrictEqual(messages(other), [none]);
        });

        it("reports a rule whose regular expression misses a spelling a backend folds into the same header", () => {
            const v = only(checkStack(withRule((r) => { r.statement.regexMatchStatement.regexString = "^x-api-ring-"; })), POLICY);
            assert.deepStrictEqual(v.map((x) => [x.name, x.message]), [["web-acl", blocksNothing("rule reserved-context-headers: regexString \"^x-api-ring-\" does not match X-Api-Ring-Plan")]]);
            const separators = only(checkStack(withRule((r) => { r.statement.regexMatchStatement.regexString = "^[xX]-[aA][pP][iI]-[rR][iI][nN][gG]-"; })), POLICY);
            assert.match(separators[0].message, /does not match X_API_RING_PLAN\)/);
        });

        it("reports a rule that counts instead of blocking, inspects header values, or lets oversized headers through", () => {
            assert.deepStrictEqual(messages(only(checkStack(withRule((r) => { r.action = { count: {} }; })), POLICY)), [
                blocksNothing("rule reserved-context-headers: action is count, not block"),
            ]);
            assert.deepStrictEqual(messages(only(checkStack(withRule((r) => { r.statement.regexMatchStatement.fieldToMatch.headers[0].matchScope = "VALUE"; })), POLICY)), [
                blocksNothing("rule reserved-context-headers: fieldToMatch.headers inspects \"VALUE\", not the header names (matchScope KEY or ALL)"),
            ]);
            assert.deepStrictEqual(messages(only(checkStack(withRule((r) => {
                r.statement.regexMatchStatement.fieldToMatch.headers[0].oversizeHandling = "CONTINUE";
                r.statement.regexMatchStatement.fieldToMatch.headers[0].matchPattern = { includedHeaders: ["x-api-ring-plan"] };
            })), POLICY)), [
                blocksNothing("rule reserved-context-headers: fieldToMatch.headers inspects only some headers, not all (matchPattern all) " +
                    "and lets a header past WAF's first 8 KB or 200 headers through (oversizeHandling \"CONTINUE\", not MATCH)"),
            ]);
        });

        it("judges the rule by what it matches: a text transformation to lowercase with a lowercase pattern blocks every spelling", () => {
            const lower = (type: string) => withRule((r) => {
                r.statement.regexMatchStatement.regexString = "^x[-_]api[-_]ring[-_]";
                r.statement.regexMatchStatement.textTransformations = [{ priority: 0, type }];
            });
            assert.deepStrictEqual(checkStack(lower("LOWERCASE")), []);
            assert.deepStrictEqual(messages(only(checkStack(lower("NONE")), POLICY)), [
                blocksNothing("rule reserved-context-headers: regexString \"^x[-_]api[-_]ring[-_]\" does not match X-Api-Ring-Plan"),
            ]);
            assert.deepStrictEqual(checkStack(withRule((r) => { r.statement.regexMatchStatement.regexString = "(?i)^x[-_]api[-_]ring[-_]"; })), []);
        });

        it("reports a blocking rule that an earlier allow rule pre-empts, a CloudFront web ACL, and a web ACL outside the stack", () => {
            const preempted = only(checkStack(withChange("web-acl", (i) => {
                i.rules[0].priority = 1;
                i.rules.push({ name: "allow-office", priority: 0, action: { allow: {} }, statement: { ipSetReferenceStatement: { arn: "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/office/1" } } });
            })), POLICY);
            assert.deepStrictEqual(messages(preempted), [blocksNothing("rule reserved-context-headers: rule allow-office (priority 0) allows requests before it runs")]);
            assert.deepStrictEqual(messages(only(checkStack(withChange("web-acl", (i) => { i.scope = "CLOUDFRONT"; })), POLICY)), [
                "stage red (stage): web ACL web-acl has scope \"CLOUDFRONT\"; an API Gateway stage takes a REGIONAL web ACL (scope: \"REGIONAL\").",
            ]);
            const elsewhere = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shared/9";
            assert.deepStrictEqual(messages(only(checkStack(withChange("web-acl-association", (i) => { i.webAclArn = elsewhere; })), POLICY)), [
                `stage red (stage): its web ACL association web-acl-association names web ACL ${elsewhere}, which is not a web ACL of this stack, so the policy cannot see its rules; associate one of this stack's (components/gatewayRing.ts does).`,
            ]);
            assert.deepStrictEqual(messages(only(checkStack(withChange("web-acl-association", (i) => { delete i.webAclArn; })), POLICY)), [
                "stage red (stage): its web ACL association web-acl-association names no web ACL (webAclArn is unset); associate one of this stack's (components/gatewayRing.ts does).",
            ]);
            assert.match(only(checkStack(withChange("web-acl", (i) => { i.rules = []; })), POLICY)[0].message, /\(no rule inspects header names with a regexMatchStatement\)/);
        });

        it("values a preview does not know yet count as matching: the association's ARNs, the rules, the pattern", () => {
            assert.deepStrictEqual(checkStack(withChange("web-acl-association", (i) => { i.resourceArn = UNKNOWN_STRING; i.webAclArn = UNKNOWN_STRING; })), []);
            assert.deepStrictEqual(checkStack(withChange("web-acl-association", (i) => { i.webAclArn = UNKNOWN_STRING; })), []);
            assert.deepStrictEqual(checkStack(withChange("web-acl", (i) => { i.rules = UNKNOWN_STRING; i.scope = UNKNOWN_STRING; })), []);
            assert.deepStrictEqual(checkStack(withRule((r) => {
                r.action = UNKNOWN_STRING;
                r.statement.regexMatchStatement.regexString = UNKNOWN_STRING;
                r.statement.regexMatchStatement.fieldToMatch.headers = UNKNOWN_STRING;
            })), []);
        });
    });
});
