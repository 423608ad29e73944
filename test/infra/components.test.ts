import { userKeyInHeader } from "../../handlers/credentials";
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { AuthCacheNetwork, REDIS_PORT } from "../../components/authCacheNetwork";
import { AuthorizerPair, SECRETS_EXTENSION_LATEST_PARAMETER } from "../../components/authorizerPair";
import { DomainFlip } from "../../components/domainFlip";
import { GatewayRing, StageLimits } from "../../components/gatewayRing";
import { RingDashboard, ringWidgets } from "../../components/ringDashboard";
import { SlotWatch } from "../../components/slotWatch";
import { bakeAlarmNames, slotAlarmNames } from "../../outputs";
import type { AlarmThresholds } from "../../config";
import { DEFAULT_CREDENTIALS, settingsFromEnvironment } from "../../handlers/settings";
import { bundleSpec, BundledSpec, CONTEXT_HEADERS } from "../../openapi";
import { isSecretValue, MOCK_ACCOUNT } from "../../preview/mock-cloud";
import { build, resolve, unwrap } from "./harness";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting on recorded inputs

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const LIMITS: StageLimits = { logLevel: "INFO", metrics: true, caching: false, cacheClusterSize: "0.5", rateLimit: 250, burstLimit: 400 };
const HOSTS = { edxapp_host: "courses.example.edu", discovery_host: "discovery.example.edu" };
const INVOKE_ARN = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:${MOCK_ACCOUNT}:function:authz/invocations`;
let counter = 0;
const unique = (base: string) => `${base}${++counter}`;

function inputs(r: { inputs: Record<string, unknown> }): Json {
    return unwrap(r.inputs) as Json;
}

describe("GatewayRing", () => {
    let spec: BundledSpec;
    before(async () => {
        spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: userKeyInHeader("Authorization"), resultTtlSeconds: 0 });
    });
    const gateway = (overrides: Partial<ConstructorParameters<typeof GatewayRing>[1]> = {}) => {
        const name = unique("gw");
        return build((opts) => new GatewayRing(name, {
            slot: "red", spec, hosts: HOSTS, releaseId: "release-1", limits: LIMITS,
            authorizerInvokeArn: INVOKE_ARN, authorizerFunctionName: "authz", ...overrides,
        }, opts));
    };
    const trigger = (b: Awaited<ReturnType<typeof gateway>>) => inputs(b.one("aws:apigateway/deployment:Deployment")).triggers.redeployment as string;

    it("serves the bundled body with the authorizer's invocation URI, in overwrite mode, regional, multipart as binary", async () => {
        const b = await gateway();
        const api = inputs(b.one("aws:apigateway/restApi:RestApi"));
        const body = JSON.parse(api.body);
        assert.strictEqual(body.securityDefinitions.threescale["x-amazon-apigateway-authorizer"].authorizerUri, INVOKE_ARN);
        assert.strictEqual(api.putRestApiMode, "overwrite");
        assert.deepStrictEqual(api.binaryMediaTypes, ["multipart/form-data"]);
        const merged = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: userKeyInHeader("Authorization"), resultTtlSeconds: 0, binaryMediaTypes: ["image/*", "application/pdf"] });
        const configured = inputs((await gateway({ spec: merged })).one("aws:apigateway/restApi:RestApi"));
        assert.deepStrictEqual(configured.binaryMediaTypes, ["multipart/form-data", "image/*", "application/pdf"], "the document's, then config's");
        assert.deepStrictEqual(JSON.parse(configured.body)["x-amazon-apigateway-binary-media-types"], ["multipart/form-data", "image/*", "application/pdf"], "the body API Gateway imports has the same");
        assert.strictEqual(api.name, "api-ring-red");
        assert.deepStrictEqual(api.endpointConfiguration, { types: "REGIONAL" });
    });

    it("names the stage after the slot, with the hosts and release id as variables, access logs and X-Ray", async () => {
        const b = await gateway();
        const stage = inputs(b.one("aws:apigateway/stage:Stage"));
        assert.strictEqual(stage.stageName, "red");
        assert.deepStrictEqual(stage.variables, { ...HOSTS, id: "release-1" });
        const logs = b.one("aws:cloudwatch/logGroup:LogGroup");
        assert.strictEqual(stage.accessLogSettings.destinationArn, logs.state.arn);
        assert.ok(JSON.parse(stage.accessLogSettings.format).requestId);
        assert.strictEqual(stage.xrayTracingEnabled, true);
        assert.strictEqual(stage.cacheClusterEnabled, false);
        assert.strictEqual(await resolve(b.component.invokeUrl), `https://${b.one("aws:apigateway/restApi:RestApi").id}.execute-api.us-east-1.amazonaws.com/red`);
    });

    it("applies the stage's limits to every method", async () => {
        const b = await gateway({ limits: { ...LIMITS, caching: true, cacheClusterSize: "1.6" } });
        const settings = inputs(b.one("aws:apigateway/methodSettings:MethodSettings"));
        assert.strictEqual(settings.methodPath, "*/*");
        assert.strictEqual(settings.stageName, "red");
        assert.deepStrictEqual(settings.settings, {
            loggingLevel: "INFO", metricsEnabled: true, dataTraceEnabled: false, cachingEnabled: true, cacheDataEncrypted: true,
            throttlingRateLimit: 250, throttlingBurstLimit: 400,
        });
        const stage = inputs(b.one("aws:apigateway/stage:Stage"));
        assert.strictEqual(stage.cacheClusterEnabled, true);
        assert.strictEqual(stage.cacheClusterSize, "1.6");
    });

    it("redeploys exactly when the body or the stage variables change", async () => {
        const base = trigger(await gateway());
        assert.strictEqual(trigger(await gateway()), base, "same body and variables: same deployment");
        assert.strictEqual(trigger(await gateway({ limits: { ...LIMITS, rateLimit: 900, burstLimit: 1000 } })), base, "limits are stage settings, not a deployment");
        assert.notStrictEqual(trigger(await gateway({ hosts: { ...HOSTS, discovery_host: "d2.example.edu" } })), base);
        assert.notStrictEqual(trigger(await gateway({ releaseId: "release-2" })), base);
        assert.notStrictEqual(trigger(await gateway({ authorizerInvokeArn: INVOKE_ARN.replace("authz", "authz2") })), base);
        const other = await bundleSpec(path.join(PROJECT, "test/fixtures/oas3/openapi.yaml"), { credentials: userKeyInHeader("Authorization"), resultTtlSeconds: 0 });
        assert.notStrictEqual(trigger(await gateway({ spec: other, hosts: { discovery_host: "d.example.edu" } })), base);
    });

    it("lets only this API's authorizers invoke the authorizer function", async () => {
        const b = await gateway();
        const permission = inputs(b.one("aws:lambda/permission:Permission"));
        assert.strictEqual(permission.principal, "apigateway.amazonaws.com");
        assert.strictEqual(permission.function, "authz");
        assert.strictEqual(permission.sourceArn, `${b.one("aws:apigateway/restApi:RestApi").state.executionArn}/authorizers/*`);
    });

    it("lets each Lambda function the document names without credentials be invoked from exactly its stage, method and resource", async () => {
        const pets = await bundleSpec(path.join(PROJECT, "test/fixtures/any-document/pets.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 });
        const b = await gateway({ spec: pets, hosts: {}, stageVariables: { register_function: "register-pet" } });
        const api = b.one("aws:apigateway/restApi:RestApi").state.executionArn as string;
        const granted = b.all("aws:lambda/permission:Permission").map((p) => inputs(p)).filter((p) => p.function !== "authz")
            .map((p) => [p.function, p.qualifier, p.principal, p.action, p.sourceArn.replace(api, "<api>")]).sort();
        assert.deepStrictEqual(granted, [
            ["arn:aws:lambda:us-east-1:123456789012:function:adoptions", undefined, "apigateway.amazonaws.com", "lambda:InvokeFunction", "<api>/red/POST/adoptions"],
            ["arn:aws:lambda:us-east-1:123456789012:function:list-pets", undefined, "apigateway.amazonaws.com", "lambda:InvokeFunction", "<api>/red/GET/pets"],
            ["arn:aws:lambda:us-east-1:123456789012:function:partner-token-check", undefined, "apigateway.amazonaws.com", "lambda:InvokeFunction", "<api>/authorizers/*"],
            ["arn:aws:lambda:us-east-1:123456789012:function:pet-details", "live", "apigateway.amazonaws.com", "lambda:InvokeFunction", "<api>/red/GET/pets/*"],
            ["arn:aws:lambda:us-east-1:123456789012:function:register-pet", undefined, "apigateway.amazonaws.com", "lambda:InvokeFunction", "<api>/red/POST/pets"],
        ]);
        await assert.rejects(gateway({ spec: pets, hosts: {}, stageVariables: { register_function: "arn:aws:s3:::pets-bucket" } }),
            /cannot name the Lambda function POST \/pets invokes: the stage variable register_function is "arn:aws:s3:::pets-bucket"; expected the Lambda function POST \/pets invokes/);
    });

    it("puts a web ACL in front of the stage that blocks an x-api-ring-* header in any spelling, before routing (issue 17, item 4)", async () => {
        const b = await gateway();
        const acl = inputs(b.one("aws:wafv2/webAcl:WebAcl"));
        assert.deepStrictEqual([acl.scope, acl.defaultAction], ["REGIONAL", { allow: {} }]);
        assert.strictEqual(acl.rules.length, 1);
        const rule = acl.rules[0];
        assert.deepStrictEqual(rule.action, { block: {} });
        const regex = rule.statement.regexMatchStatement;
        assert.deepStrictEqual(regex.fieldToMatch, { headers: [{ matchPattern: { all: {} }, matchScope: "KEY", oversizeHandling: "MATCH" }] });
        assert.deepStrictEqual(regex.textTransformations, [{ priority: 0, type: "NONE" }]);
        const association = inputs(b.one("aws:wafv2/webAclAssociation:WebAclAssociation"));
        assert.strictEqual(association.resourceArn, b.one("aws:apigateway/stage:Stage").state.arn);
        assert.strictEqual(association.webAclArn, b.one("aws:wafv2/webAcl:WebAcl").state.arn);
        // The pattern, read as WAF reads it (PCRE, which agrees with JavaScript on character classes):
        // every context header the document maps, in any case and with _ or - at each separator.
        const pattern = new RegExp(regex.regexString);
        for (const h of CONTEXT_HEADERS) {
            const parts = h.header.split("-");
            for (let mask = 0; mask < 1 << (parts.length - 1); mask++) {
                const name = parts.reduce((acc, p, i) => (i === 0 ? p : `${acc}${mask & (1 << (i - 1)) ? "_" : "-"}${p}`), "");
                for (const spelled of [name, name.toUpperCase(), name.replace(/\b[a-z]/g, (c) => c.toUpperCase())]) assert.ok(pattern.test(spelled), spelled);
            }
        }
        for (const other of ["x-api-key", "x-api-ringer", "authorization", "x-amzn-trace-id", "xapiringplan"]) assert.ok(!pattern.test(other), other);
    });

    it("refuses a spec that uses a stage variable neither the hosts nor the other stage variables define", async () => {
        await assert.rejects(gateway({ hosts: { edxapp_host: "courses.example.edu" } }),
            /uses stage variable discovery_host, which neither hosts nor stageVariables define; add discovery_host: <value> to gateway:hosts \(backend hosts\) or gateway:stageVariables/);
        const b = await gateway({ hosts: { edxapp_host: "courses.example.edu" }, stageVariables: { discovery_host: "discovery.example.edu", landing_page: "https://www.example.edu/" } });
        assert.deepStrictEqual(inputs(b.one("aws:apigateway/stage:Stage")).variables,
            { edxapp_host: "courses.example.edu", discovery_host: "discovery.example.edu", landing_page: "https://www.example.edu/", id: "release-1" });
    });
});

describe("DomainFlip", () => {
    const certificateArn = `arn:aws:acm:us-east-1:${MOCK_ACCOUNT}:certificate/0f0f0f0f-1111-2222-3333-444444444444`;
    const beta = { slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta*" }], priority: 100 };

    it("maps the existing domain's root to the live slot, and creates nothing else", async () => {
        const name = unique("live");
        const b = await build((opts) => new DomainFlip(name, { domainName: "api.example.edu", basePath: "", live: { restApiId: "abc123defg", stageName: "black" } }, opts));
        const mapping = inputs(b.one("aws:apigateway/basePathMapping:BasePathMapping"));
        assert.deepStrictEqual({ domain: mapping.domainName, api: mapping.restApi, stage: mapping.stageName, base: mapping.basePath },
            { domain: "api.example.edu", api: "abc123defg", stage: "black", base: undefined });
        assert.strictEqual(b.all("aws:apigateway/domainName:DomainName").length, 0, "an existing domain is not created");
        assert.strictEqual(b.all("aws:apigatewayv2/routingRule:RoutingRule").length, 0);
        assert.strictEqual(await resolve(b.component.liveUrl), "https://api.example.edu/");
    });

    it("maps nothing before the first flip", async () => {
        const b = await build((opts) => new DomainFlip(unique("live"), { domainName: "api.example.edu", basePath: "" }, opts));
        assert.strictEqual(b.all("aws:apigateway/basePathMapping:BasePathMapping").length, 0);
    });

    it("creates the domain with TLS 1.2 and a Route 53 alias when given a certificate and zone; the routing mode left to the domain without a cohort", async () => {
        const name = unique("live");
        const b = await build((opts) => new DomainFlip(name, {
            domainName: "api.example.edu", basePath: "v1", live: { restApiId: "abc123defg", stageName: "red" }, certificateArn, hostedZoneId: "Z0123456789ABCDEFGHIJ",
        }, opts));
        const domain = b.one("aws:apigateway/domainName:DomainName");
        assert.strictEqual(inputs(domain).securityPolicy, "TLS_1_2");
        assert.deepStrictEqual(inputs(domain).endpointConfiguration, { types: "REGIONAL" });
        assert.ok(!("routingMode" in inputs(domain)), "no cohort: the provider keeps the mode the domain has");
        const alias = inputs(b.one("aws:route53/record:Record"));
        assert.deepStrictEqual(alias.aliases, [{ name: domain.state.regionalDomainName, zoneId: "Z1UJRXOUMOOFQ8", evaluateTargetHealth: false }]);
        assert.strictEqual(inputs(b.one("aws:apigateway/basePathMapping:BasePathMapping")).basePath, "v1");
    });

    it("makes a cohort an API Gateway routing rule: its headers, its priority, its slot's API and stage", async () => {
        const b = await build((opts) => new DomainFlip(unique("live"), {
            domainName: "api.example.edu", basePath: "", live: { restApiId: "redapi0000", stageName: "red" },
            cohorts: [{ cohort: { ...beta, headers: [...beta.headers, { name: "X-Team", value: "qa" }] }, restApiId: "blackapi00", stageName: "black" }],
        }, opts));
        const rule = inputs(b.one("aws:apigatewayv2/routingRule:RoutingRule"));
        assert.deepStrictEqual(rule, {
            domainName: "api.example.edu", priority: 100,
            conditions: [{ matchHeaders: { anyOf: { header: "X-Ring-Cohort", valueGlob: "beta*" } } }, { matchHeaders: { anyOf: { header: "X-Team", valueGlob: "qa" } } }],
            actions: [{ invokeApi: { apiId: "blackapi00", stage: "black" } }],
        });
    });

    it("a cohort under a base path matches it and strips it, as the mapping does", async () => {
        const b = await build((opts) => new DomainFlip(unique("live"), {
            domainName: "api.example.edu", basePath: "v1", live: { restApiId: "redapi0000", stageName: "red" }, certificateArn,
            cohorts: [{ cohort: beta, restApiId: "blackapi00", stageName: "black" }],
        }, opts));
        const rule = inputs(b.one("aws:apigatewayv2/routingRule:RoutingRule"));
        assert.strictEqual(inputs(b.one("aws:apigateway/domainName:DomainName")).routingMode, "ROUTING_RULE_THEN_BASE_PATH_MAPPING", "a cohort needs rules first: the apigateway API's name for rules, then the mapping");
        assert.deepStrictEqual((rule.conditions as unknown[])[1], { matchBasePaths: { anyOfs: ["v1"] } });
        assert.deepStrictEqual(rule.actions, [{ invokeApi: { apiId: "blackapi00", stage: "black", stripBasePath: true } }]);
    });

    it("refuses a hosted zone without a certificate", () => {
        assert.throws(() => new DomainFlip(unique("live"), { domainName: "api.example.edu", basePath: "", live: { restApiId: "a", stageName: "red" }, hostedZoneId: "Z1" }),
            /hostedZoneId is set but certificateArn is not/);
    });
});

describe("AuthCacheNetwork", () => {
    const network = (nodes = 2) => {
        const name = unique("net");
        return build((opts) => new AuthCacheNetwork(name, {
            cidrBlock: "10.40.0.0/16", availabilityZones: 2, engine: "redis", engineVersion: "7.1",
            nodeType: "cache.t4g.micro", nodes, authToken: pulumi.secret("redis-auth-token-0123456789"),
        }, opts));
    };

    it("runs Redis encrypted in transit and at rest, with a secret AUTH token", async () => {
        const b = await network();
        const redis = b.one("aws:elasticache/replicationGroup:ReplicationGroup");
        const r = inputs(redis);
        assert.strictEqual(r.transitEncryptionEnabled, true);
        assert.strictEqual(r.atRestEncryptionEnabled, true);
        assert.strictEqual(r.authToken, "redis-auth-token-0123456789");
        assert.strictEqual(r.automaticFailoverEnabled, true);
        assert.strictEqual(r.numCacheClusters, 2);
        assert.strictEqual(r.port, REDIS_PORT);
        const raw = redis.inputs.authToken as Record<string, unknown>;
        assert.ok(typeof raw === "object" && "value" in raw, "the AUTH token input is a Pulumi secret");
    });

    it("admits Redis traffic only from the Lambda security group", async () => {
        const b = await network();
        const lambdaGroup = b.one("aws:ec2/securityGroup:SecurityGroup", "-lambda-sg");
        const redisGroup = inputs(b.one("aws:ec2/securityGroup:SecurityGroup", "-redis-sg"));
        assert.deepStrictEqual(redisGroup.ingress, [{
            protocol: "tcp", fromPort: REDIS_PORT, toPort: REDIS_PORT, securityGroups: [lambdaGroup.id], description: "Redis from the authorizer pair",
        }]);
        assert.deepStrictEqual(inputs(b.one("aws:elasticache/replicationGroup:ReplicationGroup")).securityGroupIds, [b.one("aws:ec2/securityGroup:SecurityGroup", "-redis-sg").id]);
    });

    it("puts the cache in the VPC's private subnets behind one NAT gateway", async () => {
        const b = await network();
        const vpc = b.one("awsx:ec2:Vpc");
        assert.deepStrictEqual(inputs(b.one("aws:elasticache/subnetGroup:SubnetGroup")).subnetIds, vpc.state.privateSubnetIds);
        assert.deepStrictEqual(inputs(vpc).natGateways, { strategy: "Single" });
        assert.deepStrictEqual(await resolve(b.component.privateSubnetIds), vpc.state.privateSubnetIds);
    });

    it("turns failover off for a single node", async () => {
        const r = inputs((await network(1)).one("aws:elasticache/replicationGroup:ReplicationGroup"));
        assert.strictEqual(r.automaticFailoverEnabled, false);
        assert.strictEqual(r.multiAzEnabled, false);
    });
});

describe("AuthorizerPair", () => {
    const subnets = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"];
    const pairArgs = (metricsService?: string, porta?: { adminUrl: string; accessToken: pulumi.Input<string> }): ConstructorParameters<typeof AuthorizerPair>[1] => ({
        metricsService,
        porta,
        settings: {
            threescale: { backendUrl: "https://su1.3scale.net", serviceId: "2555417777820", timeoutMs: 2000 },
            redisTimeoutMs: 150, tokenPattern: "^[a-f0-9]{32}$", cacheTtlSeconds: 300, negativeTtlSeconds: 30,
            staleTtlSeconds: 86400, failureMode: "resilient", planRoutes: { Basic: ["discovery/*"] }, defaultRoutes: [],
            usageWindowSeconds: 60, credentials: DEFAULT_CREDENTIALS, stage: "red",
        },
        serviceToken: pulumi.secret("s3rvice-token-0123456789"),
        redisHost: "master.redis.example.use1.cache.amazonaws.com",
        redisPort: 6379,
        redisAuthToken: pulumi.secret("redis-auth-token-0123456789"),
        subnetIds: subnets,
        securityGroupIds: ["sg-0lambda"],
        flushSchedule: "rate(1 minute)",
    });
    const pair = (metricsService?: string, porta?: { adminUrl: string; accessToken: pulumi.Input<string> }) => {
        const name = unique("pair");
        return build((opts) => new AuthorizerPair(name, pairArgs(metricsService, porta), opts));
    };
    const functions = (b: Awaited<ReturnType<typeof pair>>) => b.all("aws:lambda/function:Function");

    it("runs both functions in the private subnets with the Lambda security group, well under API Gateway's 29 s", async () => {
        const b = await pair();
        assert.strictEqual(functions(b).length, 2);
        for (const f of functions(b)) {
            const i = inputs(f);
            assert.deepStrictEqual(i.vpcConfig, { subnetIds: subnets, securityGroupIds: ["sg-0lambda"] }, f.name);
            assert.strictEqual(i.runtime, "nodejs22.x");
            if (f.name.endsWith("-authorizer")) assert.ok(i.timeout < 29, `${f.name} timeout ${i.timeout}`);
        }
    });

    it("names the slot's metrics through Powertools' own variables, and publishes none without a service", async () => {
        const named = await pair("api-ring-red");
        for (const f of functions(named)) {
            const env = inputs(f).environment.variables;
            assert.deepStrictEqual([env.POWERTOOLS_SERVICE_NAME, env.POWERTOOLS_METRICS_NAMESPACE], ["api-ring-red", "api-ring"], f.name);
        }
        for (const f of functions(await pair())) assert.strictEqual(inputs(f).environment.variables.POWERTOOLS_SERVICE_NAME, undefined);
    });

    it("keeps the tokens out of the functions' configuration: SecureString parameters under the slot's own KMS key, named in the environment (issue 17 item 6)", async () => {
        const b = await pair();
        const key = b.one("aws:kms/key:Key");
        assert.strictEqual(inputs(key).enableKeyRotation, true);
        const parameters = b.all("aws:ssm/parameter:Parameter");
        assert.deepStrictEqual(parameters.map((p) => [inputs(p).type, inputs(p).keyId, unwrap(p.inputs.value)]).sort(), [
            ["SecureString", key.state.arn, "redis-auth-token-0123456789"],
            ["SecureString", key.state.arn, "s3rvice-token-0123456789"],
        ]);
        for (const p of parameters) assert.ok(isSecretValue(p.inputs.value), `${p.name}: the value is a Pulumi secret`);
        const names = Object.fromEntries(parameters.map((p) => [unwrap(p.inputs.value) === "s3rvice-token-0123456789" ? "serviceToken" : "redisAuthToken", p.state.name]));
        for (const f of functions(b)) {
            const variables = inputs(f).environment.variables as Record<string, string>;
            assert.ok(!isSecretValue(f.inputs.environment), "nothing secret left in the environment");
            assert.ok(!Object.values(variables).some((v) => ["s3rvice-token-0123456789", "redis-auth-token-0123456789"].some((token) => String(v).includes(token))), "no token in the functions' configuration");
            assert.ok(!("THREESCALE_SERVICE_TOKEN" in variables) && !("REDIS_AUTH_TOKEN" in variables));
            assert.strictEqual(variables.PARAMETER_VERSIONS, "1.1", "a new value (a new version) changes the functions' configuration: new containers read it");
            const settings = settingsFromEnvironment(variables);
            assert.deepStrictEqual(settings.secretParameters, names);
            assert.strictEqual(settings.redis.host, "master.redis.example.use1.cache.amazonaws.com");
            assert.strictEqual(settings.redis.tls, true);
            assert.strictEqual(settings.failureMode, "resilient");
            assert.deepStrictEqual(settings.planRoutes, { Basic: ["discovery/*"] });
            assert.strictEqual(settings.usageTopicArn, b.one("aws:sns/topic:Topic").state.arn);
        }
    });

    it("gives porta's URL and access token to the reporter alone, the token in a SecureString parameter only the reporter reads", async () => {
        const b = await pair(undefined, { adminUrl: "https://acme-admin.3scale.net", accessToken: pulumi.secret("porta-access-token-0123456789") });
        const key = b.one("aws:kms/key:Key");
        const portaParameter = b.all("aws:ssm/parameter:Parameter").find((p) => unwrap(p.inputs.value) === "porta-access-token-0123456789");
        assert.ok(portaParameter, "a parameter holds porta's token");
        assert.deepStrictEqual([inputs(portaParameter).type, inputs(portaParameter).keyId], ["SecureString", key.state.arn]);
        assert.ok(isSecretValue(portaParameter.inputs.value), "the value is a Pulumi secret");
        for (const f of functions(b)) {
            const variables = inputs(f).environment.variables as Record<string, string>;
            assert.ok(!isSecretValue(f.inputs.environment), "nothing secret left in the environment");
            assert.ok(!Object.values(variables).some((v) => String(v).includes("porta-access-token-0123456789")), "no porta token in the functions' configuration");
            assert.ok(!("THREESCALE_ACCESS_TOKEN" in variables));
            const settings = settingsFromEnvironment(variables);
            if (f.name.endsWith("-reporter")) {
                assert.deepStrictEqual([settings.threescale.adminUrl, settings.secretParameters.portaAccessToken], ["https://acme-admin.3scale.net", portaParameter.state.name]);
                assert.strictEqual(variables.PARAMETER_VERSIONS, "1.1.1", "a new porta token (a new version) replaces the reporter's containers");
            } else {
                assert.deepStrictEqual([settings.threescale.adminUrl, settings.secretParameters.portaAccessToken], [undefined, undefined], "the authorizer never reads porta");
            }
        }
        const reads = b.all("aws:iam/rolePolicy:RolePolicy").map((p) => ({
            role: p.name,
            resources: (JSON.parse(inputs(p).policy).Statement as Record<string, unknown>[]).find((st) => st.Sid === "ReadOwnSecrets")?.Resource as string[],
        }));
        for (const { role, resources } of reads) {
            assert.strictEqual(resources.includes(portaParameter.state.arn as string), role.includes("-reporter"), `${role}: porta's parameter is the reporter's alone`);
        }
    });

    it("lets each function read exactly its two parameters and decrypt with the slot's key through Parameter Store, nothing more", async () => {
        const b = await pair();
        const key = b.one("aws:kms/key:Key").state.arn;
        const parameterArns = b.all("aws:ssm/parameter:Parameter").map((p) => p.state.arn).sort();
        const policies = b.all("aws:iam/rolePolicy:RolePolicy").map((p) => JSON.parse(inputs(p).policy).Statement as Record<string, unknown>[]);
        assert.strictEqual(policies.length, 2);
        for (const statements of policies) {
            const read = statements.find((st) => st.Sid === "ReadOwnSecrets");
            // The Parameters and Secrets extension calls GetParameter, one parameter a call (AWS Systems Manager user guide).
            assert.deepStrictEqual([read?.Action, (read?.Resource as string[]).slice().sort()], [["ssm:GetParameter"], parameterArns]);
            const decrypt = statements.find((st) => st.Sid === "DecryptOwnSecrets");
            assert.deepStrictEqual([decrypt?.Action, decrypt?.Resource, decrypt?.Condition], [["kms:Decrypt"], key, { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } }]);
        }
    });

    it("reads the secrets through AWS's Parameters and Secrets extension: both functions carry the latest arm64 layer AWS publishes for the region, or the one config pins", async () => {
        const latest = await pair();
        for (const f of functions(latest)) {
            const i = inputs(f);
            assert.deepStrictEqual(i.architectures, ["arm64"]);
            assert.deepStrictEqual(i.layers, ["arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:99"], `${f.name}: AWS's public parameter ${SECRETS_EXTENSION_LATEST_PARAMETER}`);
            // Nothing tells the extension another port: the functions read it on its default one.
            assert.ok(!("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in (i.environment.variables as Record<string, string>)));
        }
        const pinned = "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24";
        const name = unique("pair");
        const b = await build((opts) => new AuthorizerPair(name, { ...pairArgs(), secretsExtensionLayerArn: pinned }, opts));
        assert.deepStrictEqual(functions(b).map((f) => inputs(f).layers), [[pinned], [pinned]]);
    });

    it("gives each role VPC access, X-Ray and one least-privilege statement, never a managed FullAccess policy", async () => {
        const b = await pair();
        const attached = b.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => inputs(a).policyArn as string);
        assert.ok(attached.every((arn) => !/FullAccess$/.test(arn)), attached.join(", "));
        assert.deepStrictEqual([...new Set(attached)].sort(), [
            "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        ]);
        const statements = b.all("aws:iam/rolePolicy:RolePolicy").map((p) => JSON.parse(inputs(p).policy).Statement[0]);
        // (each policy's other statements read the function's secrets: the test above)
        const topic = b.one("aws:sns/topic:Topic").state.arn;
        const dlq = b.one("aws:sqs/queue:Queue").state.arn;
        assert.deepStrictEqual(statements.map((s) => [s.Action, s.Resource]).sort(), [[["sns:Publish"], topic], [["sqs:SendMessage"], dlq]].sort());
        for (const role of b.all("aws:iam/role:Role")) {
            const trust = inputs(role).assumeRolePolicy;
            assert.deepStrictEqual((typeof trust === "string" ? JSON.parse(trust) : trust).Statement[0].Principal, { Service: "lambda.amazonaws.com" });
        }
    });

    it("links the pair through an encrypted topic, a schedule and a dead-letter queue", async () => {
        const b = await pair();
        assert.strictEqual(inputs(b.one("aws:sns/topic:Topic")).kmsMasterKeyId, "alias/aws/sns");
        const reporter = b.one("aws:lambda/function:Function", "-reporter");
        assert.strictEqual(inputs(b.one("aws:sns/topicSubscription:TopicSubscription")).endpoint, reporter.state.arn);
        assert.strictEqual(inputs(reporter).deadLetterConfig.targetArn, b.one("aws:sqs/queue:Queue").state.arn);
        assert.strictEqual(inputs(b.one("aws:sqs/queue:Queue")).sqsManagedSseEnabled, true);
        assert.strictEqual(inputs(b.one("aws:cloudwatch/eventRule:EventRule")).scheduleExpression, "rate(1 minute)");
        assert.strictEqual(inputs(b.one("aws:cloudwatch/eventTarget:EventTarget")).arn, reporter.state.arn);
        const principals = b.all("aws:lambda/permission:Permission").map((p) => inputs(p).principal).sort();
        assert.deepStrictEqual(principals, ["events.amazonaws.com", "sns.amazonaws.com"]);
    });

    it("ships each function as a CallbackFunction: its bundle, the lazily loaded packages it needs, and its serialized factory", async () => {
        const b = await pair();
        for (const f of functions(b)) {
            const files = await archiveFiles(f.inputs.code);
            const module = f.name.endsWith("-authorizer") ? "authorizer" : "reporter";
            // The function's folder, named by its bundle's content (handler-archive.ts buildHandler).
            const own = Object.keys(files).find((k) => k.startsWith(`.lambda/${f.name}/`) && k.endsWith(`/${module}.js`))?.slice(0, -`/${module}.js`.length) ?? "";
            assert.match(own, new RegExp(`^\\.lambda/${f.name}/[0-9a-f]{16}$`));
            assert.strictEqual(f.inputs.handler, "__index.handler");
            // Nothing but the bundle and what the handlers load lazily: no package of package.json's dependencies whole.
            assert.deepStrictEqual(Object.keys(files).sort(), [`${own}/${module}.js`, `${own}/node_modules/@aws-lambda-powertools/metrics/index.js`,
                `${own}/node_modules/fast-xml-parser/index.js`, "__index.js"].sort());
            const bundle = files[`${own}/${module}.js`];
            assert.ok(!/require\("@pulumi\//.test(bundle), "the bundle loads no Pulumi package");
            // Closure serialization's mark: every captured name reached through a `with` block.
            assert.ok(!/\bwith\s*\(/.test(bundle), "the bundle is plain modules, not serialized closures");
            assert.ok(!/sourceMappingURL/.test(bundle), "and carries no source map reference");
            // CallbackFunction's serialized factory: one `with` block, its own, whose scope is the bundle's path and factory name.
            const index = files["__index.js"];
            assert.strictEqual(index.match(/\bwith\s*\(/g)?.length, 1, index);
            const factory = module === "authorizer" ? "createAuthorizerHandler" : "createReporterHandler";
            assert.ok(index.includes(`with({ entry: "./${own}/${module}.js", exportName: "${factory}"`), index);
        }
    });

    it("keeps the functions' URNs: a CallbackFunction is an aws.lambda.Function, so a deployed stack updates them in place", async () => {
        const name = unique("urns");
        const b = await build((opts) => new AuthorizerPair(name, pairArgs(), opts));
        const urns = await Promise.all([b.component.authorizer, b.component.reporter].map((f) => resolve(f.urn)));
        // The URNs the plain aws.lambda.Function resources had (main before issue 18): same type, parent and name.
        assert.deepStrictEqual(urns, ["authorizer", "reporter"].map((fn) =>
            `urn:pulumi:red::api-ring::api-ring:ring:AuthorizerPair$aws:lambda/function:Function::${name}-${fn}`));
    });
});

/** Each file of a function's code (an AssetArchive as registered) by its path in the archive, with its text. */
async function archiveFiles(code: unknown): Promise<Record<string, string>> {
    assert.ok(code instanceof pulumi.asset.AssetArchive, "the code is an AssetArchive");
    const files: Record<string, string> = {};
    for (const [entry, asset] of Object.entries(await code.assets)) {
        if (asset instanceof pulumi.asset.StringAsset) {
            files[entry] = await (asset as unknown as { text: Promise<string> }).text;
            continue;
        }
        const source = await (asset as unknown as { path: Promise<string> }).path;
        if (asset instanceof pulumi.asset.FileAsset) {
            files[entry] = fs.readFileSync(source, "utf8");
            continue;
        }
        assert.ok(asset instanceof pulumi.asset.FileArchive && fs.statSync(source).isDirectory(), `${entry} is a file or a folder`);
        for (const file of fs.readdirSync(source, { recursive: true, withFileTypes: true })) {
            if (file.isFile()) files[`${entry}/${path.relative(source, path.join(file.parentPath, file.name))}`] = fs.readFileSync(path.join(file.parentPath, file.name), "utf8");
        }
    }
    return files;
}

describe("SlotWatch", () => {
    const THRESHOLDS: AlarmThresholds = {
        serverErrorRate: 0.05, latencyP99Ms: 3000, authorizerErrors: 2, authorizerThrottles: 3, deadLetterMessages: 4,
        minRequests: 20, periodSeconds: 120, evaluationPeriods: 3, datapointsToAlarm: 2,
    };
    const watch = (overrides: Partial<AlarmThresholds> = {}) => {
        const name = unique("watch");
        return build((opts) => new SlotWatch(name, {
            project: "api-ring", slot: "black", apiName: "api-ring-black", stageName: "black",
            authorizerFunctionName: "black-authz-123", deadLetterQueueName: "black-dlq-123", thresholds: { ...THRESHOLDS, ...overrides },
        }, opts));
    };
    const alarm = (b: Awaited<ReturnType<typeof watch>>, suffix: string) => inputs(b.one("aws:cloudwatch/metricAlarm:MetricAlarm", suffix));
    type Query = { id: string; expression?: string; returnData?: boolean; metric?: { namespace: string; metricName: string; stat: string; period: number; dimensions: Record<string, string> } };
    const query = (a: Json, id: string) => (a.metricQueries as Query[]).find((q) => q.id === id) as Query;

    it("alarms on the API's 5XX rate and p99 latency by ApiName and Stage, ignoring periods with too few requests", async () => {
        const b = await watch();
        const rate = alarm(b, "-5xx-rate");
        assert.strictEqual(rate.name, "api-ring-black-5xx-rate");
        assert.strictEqual(rate.threshold, 0.05);
        assert.strictEqual(rate.comparisonOperator, "GreaterThanThreshold");
        assert.deepStrictEqual(query(rate, "errors").metric, { namespace: "AWS/ApiGateway", metricName: "5XXError", stat: "Sum", period: 120, dimensions: { ApiName: "api-ring-black", Stage: "black" } });
        assert.deepStrictEqual(query(rate, "requests").metric?.metricName, "Count");
        assert.deepStrictEqual(query(rate, "rate"), { id: "rate", expression: "IF(requests >= 20, errors / requests, 0)", label: "5XX rate", returnData: true });
        const latency = alarm(b, "-latency-p99");
        assert.strictEqual(latency.threshold, 3000);
        assert.strictEqual(query(latency, "p99").metric?.stat, "p99");
        assert.strictEqual(query(latency, "latency").expression, "IF(requests >= 20, p99, 0)");
        for (const a of [rate, latency]) {
            assert.deepStrictEqual([a.evaluationPeriods, a.datapointsToAlarm, a.treatMissingData], [3, 2, "notBreaching"]);
            assert.deepStrictEqual(a.alarmActions, []);
        }
    });

    it("alarms on authorizer faults (Lambda errors minus the tokens it refused on purpose) and throttles", async () => {
        const b = await watch();
        const errors = alarm(b, "-authorizer-errors");
        assert.strictEqual(errors.name, "api-ring-black-authorizer-errors");
        assert.deepStrictEqual(query(errors, "errors").metric?.dimensions, { FunctionName: "black-authz-123" });
        assert.deepStrictEqual(query(errors, "rejected").metric, {
            namespace: "api-ring", metricName: "RejectedTokens", stat: "Sum", period: 120, dimensions: { service: "api-ring-black" },
        });
        assert.strictEqual(query(errors, "faults").expression, "FILL(errors, 0) - FILL(rejected, 0)");
        assert.deepStrictEqual([errors.comparisonOperator, errors.threshold], ["GreaterThanOrEqualToThreshold", 2]);
        const throttles = alarm(b, "-authorizer-throttles");
        assert.deepStrictEqual([throttles.namespace, throttles.metricName, throttles.statistic, throttles.period, throttles.threshold, throttles.dimensions],
            ["AWS/Lambda", "Throttles", "Sum", 120, 3, { FunctionName: "black-authz-123" }]);
    });

    it("alarms at once on the reporter's dead-letter queue, outside the bake set", async () => {
        const b = await watch();
        const dlq = alarm(b, "-usage-dead-letters");
        assert.deepStrictEqual([dlq.namespace, dlq.metricName, dlq.statistic, dlq.threshold, dlq.evaluationPeriods, dlq.datapointsToAlarm, dlq.dimensions],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 4, 1, 1, { QueueName: "black-dlq-123" }]);
        assert.strictEqual(await resolve(b.component.deadLetterAlarmName), "api-ring-black-usage-dead-letters");
        assert.deepStrictEqual(await resolve(b.component.alarmNames),
            ["api-ring-black-5xx-rate", "api-ring-black-latency-p99", "api-ring-black-authorizer-errors", "api-ring-black-authorizer-throttles"]);
        assert.deepStrictEqual(bakeAlarmNames(slotAlarmNames("api-ring", "black")), await resolve(b.component.alarmNames));
    });

    it("alarms at once on usage 3scale will never take, outside the bake set", async () => {
        const b = await watch();
        const rejected = alarm(b, "-usage-rejected");
        assert.deepStrictEqual([rejected.name, rejected.namespace, rejected.metricName, rejected.statistic, rejected.comparisonOperator, rejected.threshold, rejected.evaluationPeriods, rejected.datapointsToAlarm, rejected.dimensions],
            ["api-ring-black-usage-rejected", "api-ring", "RejectedHits", "Sum", "GreaterThanOrEqualToThreshold", 1, 1, 1, { service: "api-ring-black" }]);
        assert.ok(!bakeAlarmNames(slotAlarmNames("api-ring", "black")).includes(rejected.name as string));
    });

    it("notifies a topic when one is configured", async () => {
        const topic = `arn:aws:sns:us-east-1:${MOCK_ACCOUNT}:ops`;
        const b = await watch({ actionsTopicArn: topic });
        for (const a of b.all("aws:cloudwatch/metricAlarm:MetricAlarm")) {
            assert.deepStrictEqual([inputs(a).alarmActions, inputs(a).okActions], [[topic], [topic]], a.name);
        }
    });
});

describe("RingDashboard", () => {
    type Widget = { type: string; x: number; y: number; width: number; properties: Json };
    const dashboard = async (slots: string[]) => {
        const name = unique("ring");
        const b = await build((opts) => new RingDashboard(name, { project: "api-ring", slots, periodSeconds: 60 }, opts));
        const d = inputs(b.one("aws:cloudwatch/dashboard:Dashboard"));
        return { b, d, widgets: JSON.parse(d.dashboardBody).widgets as Widget[] };
    };
    const column = (widgets: Widget[], slot: string) => widgets.filter((w) => String(w.properties.title ?? "").startsWith(`${slot}: `));

    it("puts every slot side by side: traffic, latency, decisions, cache and 3scale, faults, throttles, reports, dead letters", async () => {
        const { d, widgets, b } = await dashboard(["red", "black"]);
        assert.strictEqual(d.dashboardName, "api-ring");
        assert.strictEqual(await resolve(b.component.dashboardUrl), "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=api-ring");
        const red = column(widgets, "red");
        const black = column(widgets, "black");
        assert.strictEqual(red.length, 8);
        assert.deepStrictEqual(red.map((w) => [w.x, w.width]), red.map(() => [0, 12]));
        assert.deepStrictEqual(black.map((w) => [w.x, w.width]), black.map(() => [12, 12]));
        assert.deepStrictEqual(red.map((w) => w.y), black.map((w) => w.y), "rows line up");
        assert.deepStrictEqual(black[0].properties.metrics, [
            ["AWS/ApiGateway", "Count", "ApiName", "api-ring-black", "Stage", "black", { stat: "Sum", label: "requests" }],
            ["AWS/ApiGateway", "4XXError", "ApiName", "api-ring-black", "Stage", "black", { stat: "Sum", label: "4XX" }],
            ["AWS/ApiGateway", "5XXError", "ApiName", "api-ring-black", "Stage", "black", { stat: "Sum", label: "5XX" }],
        ]);
        assert.deepStrictEqual((black[1].properties.metrics as Json[]).map((m) => m[6].stat), ["p50", "p99"]);
        assert.deepStrictEqual((black[2].properties.metrics as Json[]).map((m) => [m[0], m[1], m[3], m[5]]),
            ["cache", "3scale", "stale", "fail-open", "fail-closed"].map((source) => ["api-ring", "Decisions", "api-ring-black", source]));
        const hitRate = (black[3].properties.metrics as Json[]).find((m) => m[0]?.id === "hitRate")?.[0];
        assert.strictEqual(hitRate.expression, "100 * FILL(dcache, 0) / (FILL(dcache, 0) + FILL(d3scale, 0) + FILL(dstale, 0) + FILL(dfailopen, 0) + FILL(dfailclosed, 0))");
        assert.deepStrictEqual((black[3].properties.metrics as Json[]).filter((m) => m[1] === "Decisions").map((m) => [m[5], m[6].id, m[6].visible]),
            [["cache", "dcache", false], ["3scale", "d3scale", false], ["stale", "dstale", false], ["fail-open", "dfailopen", false], ["fail-closed", "dfailclosed", false]]);
        assert.ok(JSON.stringify(black[3].properties.metrics).includes('"ThreescaleLatency"'));
        const reporter = widgets.find((w) => w.properties.title === "black: reporter: hits reported, calls, failures" || String(w.properties.title).endsWith("reporter: hits reported, calls, failures"));
        assert.deepStrictEqual((reporter?.properties.metrics as Json[]).map((m) => m[1]),
            ["ReportedHits", "ReportCalls", "ReportFailures", "RejectedHits", "RefusedHits", "UnverifiedHits", "AtRiskHits"]);
        assert.deepStrictEqual(black[7].properties.annotations, { alarms: [`arn:aws:cloudwatch:us-east-1:${MOCK_ACCOUNT}:alarm:api-ring-black-usage-dead-letters`] });
        assert.ok(widgets.every((w) => w.type !== "metric" || w.properties.region === "us-east-1"));
    });

    it("shows the state of every slot's alarms, by ARN", async () => {
        const { widgets } = await dashboard(["red", "black", "blue"]);
        const alarms = widgets.filter((w) => w.type === "alarm");
        assert.strictEqual(alarms.length, 1);
        const arns = alarms[0].properties.alarms as string[];
        assert.strictEqual(arns.length, 18);
        for (const slot of ["red", "black", "blue"]) {
            const names = slotAlarmNames("api-ring", slot);
            for (const name of [...bakeAlarmNames(names), names.deadLetters, names.rejectedUsage]) {
                assert.ok(arns.includes(`arn:aws:cloudwatch:us-east-1:${MOCK_ACCOUNT}:alarm:${name}`), name);
            }
        }
        assert.deepStrictEqual(["red", "black", "blue"].map((s) => column(widgets, s)[0].x), [0, 8, 16]);
    });

    it("refuses an empty ring", () => {
        assert.throws(() => new RingDashboard(unique("ring"), { project: "api-ring", slots: [] }), /the ring has no slots/);
    });
});

describe("RingDashboard: a large ring", () => {
    it("splits the alarm states over widgets of at most 100 alarms, and lays slots out six to a row below them", () => {
        const slots = Array.from({ length: 21 }, (_, i) => `s${i}`);
        const widgets = ringWidgets("api-ring", slots, "us-east-1", (n) => `arn:aws:cloudwatch:us-east-1:${MOCK_ACCOUNT}:alarm:${n}`, 60);
        const alarmWidgets = widgets.filter((w) => w.type === "alarm");
        assert.deepStrictEqual(alarmWidgets.map((w) => (w.properties.alarms as string[]).length), [100, 26]);
        const first = widgets.filter((w) => w.type === "metric" && String(w.properties.title).startsWith("s0: "));
        assert.strictEqual(first[0].y, 2 + 2 * 3, "below the header and both alarm widgets");
        const seventh = widgets.filter((w) => w.type === "metric" && String(w.properties.title).startsWith("s6: "));
        assert.deepStrictEqual([seventh[0].x, seventh[0].y], [0, first[0].y + 8 * 6]);
    });
});
