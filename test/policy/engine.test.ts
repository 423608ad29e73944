// The offline runner's engine semantics (policy/offline.ts), the rules' behaviour under a real
// `pulumi preview` (unknown values, secrets the engine unwraps), called directly with the
// args @pulumi/policy's server builds, and the config file check.
import * as assert from "assert";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Secret } from "@pulumi/policy";
import { secretsPreservingProxy } from "@pulumi/policy/secret";
import { checkPreviewConfig, checkConfigFile, plainSecretsInConfig } from "../../policy/configFile";
import { checkStack, policyResources, runPack } from "../../policy/offline";
import { redisIngressLambdaOnly } from "../../policy/rules/redisIngress";
import { redisLambdasInPrivateSubnets } from "../../policy/rules/lambdaNetwork";
import { stageThrottlingAndLogging } from "../../policy/rules/stage";
import { looksSecret, secretsStaySecret } from "../../policy/rules/secrets";
import { policyProxy } from "../../policy/rules/support";
import { STACK_URN, brokenStack, find, goodResources, resource, stack, withChange } from "./fixtures";

const UNKNOWN_STRING = policyProxy.unknownStringValue;

/** Resource validation args as @pulumi/policy's server builds them for the real engine. */
function engineArgs(type: string, props: Record<string, unknown>, name = "r"): ResourceValidationArgs {
    return {
        type, name, urn: `urn:pulumi:s::p::${type}::${name}`, props: policyProxy.unknownCheckingProxy(props),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(), isType: () => false, asType: () => undefined, getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => { throw Object.assign(new Error("not applicable"), { reason }); },
    };
}

/** A stack policy's violations over hand-built PolicyResources (as the engine builds them, dependencies included). */
function runStack(policy: StackValidationPolicy, resources: PolicyResource[]): string[] {
    const out: string[] = [];
    policy.validateStack({ resources, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable: (): never => { throw new Error("n/a"); } }, (m) => out.push(m));
    return out;
}

function policyResource(type: string, name: string, props: Record<string, unknown>, propertyDependencies: Record<string, PolicyResource[]> = {}): PolicyResource {
    return {
        type, name, urn: `urn:pulumi:s::p::${type}::${name}`, props: policyProxy.unknownCheckingProxy(props),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        dependencies: Object.values(propertyDependencies).flat(), propertyDependencies,
        isType: () => false, asType: () => undefined,
    } as PolicyResource;
}

describe("policy pack: the offline runner", () => {
    it("gives stack validations the engine's resource shape: outputs, parent, dependencies, provider, opts", () => {
        const resources = policyResources(stack(goodResources(), { outputs: { slot: "red" } }));
        const redis = resources.find((r) => r.name === "redis") as PolicyResource;
        const redisGroup = resources.find((r) => r.name === "redis-sg") as PolicyResource;
        const stackResource = resources.find((r) => r.type === "pulumi:pulumi:Stack") as PolicyResource;
        assert.strictEqual(redis.parent, stackResource);
        assert.strictEqual(redis.opts.parent, STACK_URN);
        assert.deepStrictEqual(redis.propertyDependencies.securityGroupIds, [redisGroup]);
        assert.ok(redis.dependencies.includes(redisGroup));
        assert.strictEqual(redis.props.id, "redis-id");
        assert.deepStrictEqual(redis.provider && { type: redis.provider.type, props: redis.provider.props }, { type: "pulumi:providers:aws", props: { region: "us-east-1" } });
        assert.strictEqual(stackResource.props.slot, "red");
        const fn = resources.find((r) => r.name === "authorizer") as PolicyResource;
        assert.deepStrictEqual(fn.propertyDependencies.vpcConfig.map((d) => d.name).sort(), ["lambda-sg", "vpc"]);
    });

    it("records not-applicable answers, honours enforcement levels from policy config, and never mutates the preview", () => {
        const preview = withChange("usage", (i) => { delete i.kmsMasterKeyId; });
        const before = JSON.stringify(preview);
        const run = runPack(preview);
        assert.ok(run.notApplicable.some((n) => n.policy === "sns-topic-encrypted" && n.urn === find(preview.resources, "redis").urn && /only applies to resources of type 'aws:sns\/topic:Topic'/.test(n.reason ?? "")));
        assert.deepStrictEqual(checkStack(preview, { "sns-topic-encrypted": "advisory" }).map((v) => v.enforcementLevel), ["advisory"]);
        assert.deepStrictEqual(checkStack(preview, { "sns-topic-encrypted": { enforcementLevel: "disabled" } }), []);
        assert.deepStrictEqual(checkStack(preview, { "sns-topic-encrypted": "remediate" }).map((v) => v.enforcementLevel), ["mandatory"]);
        assert.strictEqual(JSON.stringify(preview), before);
    });

    it("reports a policy that reads an unknown value as the engine does: advisory, can't run during preview", () => {
        const reader: ResourceValidationPolicy = {
            name: "reads-unknown", description: "test", enforcementLevel: "mandatory",
            validateResource: (args, report) => { if (args.type === "aws:sns/topic:Topic" && args.props.kmsMasterKeyId === "x") report("never"); },
        };
        const preview = withChange("usage", (i) => { i.kmsMasterKeyId = UNKNOWN_STRING; });
        const v = checkStack(preview, {}, { policies: [reader] });
        assert.deepStrictEqual(v.map((x) => [x.policy, x.enforcementLevel, x.name]), [["reads-unknown", "advisory", "usage"]]);
        assert.match(v[0].message, /can't run policy 'reads-unknown' during preview: string value at \.kmsMasterKeyId can't be known during preview/);
    });

    it("the pack's own rules treat unknown values as not yet known, never as violations", () => {
        const resources = goodResources();
        find(resources, "redis").inputs.securityGroupIds = [UNKNOWN_STRING];
        find(resources, "redis-sg").inputs.ingress[0].securityGroups = [UNKNOWN_STRING];
        find(resources, "authorizer").inputs.vpcConfig = { subnetIds: UNKNOWN_STRING, securityGroupIds: [UNKNOWN_STRING] };
        find(resources, "usage").inputs.kmsMasterKeyId = UNKNOWN_STRING;
        find(resources, "stage").inputs.restApi = UNKNOWN_STRING;
        find(resources, "stage").inputs.accessLogSettings.destinationArn = UNKNOWN_STRING;
        find(resources, "settings").inputs.restApi = UNKNOWN_STRING;
        find(resources, "api").inputs.body = UNKNOWN_STRING;
        find(resources, "domain").inputs.securityPolicy = UNKNOWN_STRING;
        find(resources, "red-authorizer-throttles").inputs.dimensions = { FunctionName: UNKNOWN_STRING };
        find(resources, "red-usage-dead-letters").inputs.dimensions = UNKNOWN_STRING;
        find(resources, "red-latency-p99").inputs.metricQueries = UNKNOWN_STRING;
        assert.deepStrictEqual(checkStack(stack(resources)), []);
    });
});

describe("policy pack: under the real engine (args as @pulumi/policy's server builds them)", () => {
    it("redis-ingress-lambda-only follows propertyDependencies when the ids are unknown", () => {
        const lambdaGroup = policyResource("aws:ec2/securityGroup:SecurityGroup", "lambda-sg", {});
        const bastion = policyResource("aws:ec2/securityGroup:SecurityGroup", "bastion-sg", {});
        const fn = policyResource("aws:lambda/function:Function", "fn", { vpcConfig: { subnetIds: [UNKNOWN_STRING], securityGroupIds: [UNKNOWN_STRING] } }, { vpcConfig: [lambdaGroup] });
        const ok = policyResource("aws:ec2/securityGroup:SecurityGroup", "redis-sg", { ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: [UNKNOWN_STRING] }] }, { ingress: [lambdaGroup] });
        const redis = (group: PolicyResource) => policyResource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", { port: 6379, securityGroupIds: [UNKNOWN_STRING] }, { securityGroupIds: [group] });
        assert.deepStrictEqual(runStack(redisIngressLambdaOnly, [lambdaGroup, bastion, fn, ok, redis(ok)]), []);
        const bad = policyResource("aws:ec2/securityGroup:SecurityGroup", "redis-sg", { ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: [UNKNOWN_STRING] }] }, { ingress: [bastion] });
        assert.deepStrictEqual(runStack(redisIngressLambdaOnly, [lambdaGroup, bastion, fn, bad, redis(bad)]), [
            "redis-sg (security group of Redis redis): ingress[0] admits security group bastion-sg, which no Lambda of this stack runs in; admit only the Lambda security group, on port 6379.",
        ]);
    });

    it("redis-lambdas-in-private-subnets does not judge subnets it cannot know yet", () => {
        const vpc = policyResource("awsx:ec2:Vpc", "vpc", { privateSubnetIds: UNKNOWN_STRING, publicSubnetIds: UNKNOWN_STRING });
        const fn = policyResource("aws:lambda/function:Function", "fn", { environment: { variables: { REDIS_HOST: UNKNOWN_STRING } }, vpcConfig: { subnetIds: UNKNOWN_STRING, securityGroupIds: [UNKNOWN_STRING] } }, { vpcConfig: [vpc] });
        assert.deepStrictEqual(runStack(redisLambdasInPrivateSubnets, [vpc, fn]), []);
        const naked = policyResource("aws:lambda/function:Function", "fn", { environment: { variables: { REDIS_HOST: UNKNOWN_STRING } } });
        assert.match(runStack(redisLambdasInPrivateSubnets, [vpc, naked])[0], /fn uses Redis \(REDIS_HOST\) but has no vpcConfig/);
    });

    it("stage-throttling-and-logging matches method settings to their stage through dependencies when ids are unknown", () => {
        const api = policyResource("aws:apigateway/restApi:RestApi", "api", {});
        const stage = policyResource("aws:apigateway/stage:Stage", "stage", { restApi: UNKNOWN_STRING, stageName: "red", accessLogSettings: { destinationArn: UNKNOWN_STRING, format: "{}" } }, { restApi: [api] });
        const ms = policyResource("aws:apigateway/methodSettings:MethodSettings", "ms", { restApi: UNKNOWN_STRING, stageName: UNKNOWN_STRING, methodPath: "*/*", settings: { throttlingRateLimit: 10, throttlingBurstLimit: 20, loggingLevel: "OFF" } }, { restApi: [api], stageName: [stage] });
        assert.deepStrictEqual(runStack(stageThrottlingAndLogging, [api, stage, ms]), []);
        assert.match(runStack(stageThrottlingAndLogging, [api, stage])[0], /has no aws.apigateway.MethodSettings for methodPath \*\/\*/);
    });

    it("secrets-stay-secret: a secret in a Lambda environment is refused under the real engine too (the name is enough); for an AUTH token it cannot see secretness, so it is not applicable rather than wrong", () => {
        const validate = secretsStaySecret.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void;
        const reports: string[] = [];
        validate(engineArgs("aws:lambda/function:Function", { environment: { variables: { X_TOKEN: "v", X_TOKEN_PARAMETER: "p" } } }, "f"), (m) => reports.push(m));
        assert.strictEqual(reports.length, 1);
        assert.match(reports[0], /^f: environment variable X_TOKEN holds a secret/);
        const redis = engineArgs("aws:elasticache/replicationGroup:ReplicationGroup", { authToken: "v" }, "r");
        assert.throws(() => validate(redis, (m) => reports.push(m)), (e: Error & { reason?: string }) => /cannot tell a secret from a plain value/.test(e.reason ?? ""));
        assert.strictEqual(reports.length, 1);
    });

    it("secrets-stay-secret: its remediation makes a plain AUTH token secret, and leaves a Lambda environment alone (moving a secret to a store is not a wrap)", () => {
        // What makeRemediateRpcFun hands a remediation: unknownCheckingProxy(secretsPreservingProxy(raw)), secrets as Secret.
        const redis = engineArgs("aws:elasticache/replicationGroup:ReplicationGroup", {}, "r");
        redis.props = policyProxy.unknownCheckingProxy(secretsPreservingProxy({ engine: "redis", authToken: "plain" }));
        const result = secretsStaySecret.remediateResource?.(redis) as { authToken: unknown };
        assert.ok(result.authToken instanceof Secret && result.authToken.value === "plain");
        redis.props = policyProxy.unknownCheckingProxy(secretsPreservingProxy({ engine: "redis", authToken: new Secret("already") }));
        assert.strictEqual(secretsStaySecret.remediateResource?.(redis), undefined, "nothing plain: no remediation");
        const lambda = engineArgs("aws:lambda/function:Function", {}, "f");
        lambda.props = policyProxy.unknownCheckingProxy(secretsPreservingProxy({ runtime: "nodejs22.x", environment: { variables: { THREESCALE_SERVICE_TOKEN: "plain" } } }));
        assert.strictEqual(secretsStaySecret.remediateResource?.(lambda), undefined);
    });

    it("looksSecret follows the naming rule", () => {
        assert.deepStrictEqual(["REDIS_AUTH_TOKEN", "serviceToken", "DB_PASSWORD", "API_KEY", "clientSecret", "KMS_KEY_ARN", "serviceId", "BACKEND_URL", "REDIS_HOST"].filter((n) => looksSecret(n)),
            ["REDIS_AUTH_TOKEN", "serviceToken", "DB_PASSWORD", "API_KEY", "clientSecret"]);
    });
});

describe("policy pack: stack config files", () => {
    it("lists keys that must be secure but are plain", () => {
        const text = [
            "config:",
            "  aws:region: us-east-1",
            "  threescale:serviceToken: plain-token",
            "  threescale:serviceId: \"1\"",
            "  cache:authToken:",
            "    secure: v1:abc",
            "  db:password: hunter2",
            "  aws:secretKey: AKIA",
            "",
        ].join("\n");
        assert.deepStrictEqual(plainSecretsInConfig(text), ["threescale:serviceToken", "db:password", "aws:secretKey"]);
        const v = checkConfigFile("red", text);
        assert.deepStrictEqual(v.map((x) => [x.policy, x.name]), [["secrets-stay-secret", "threescale:serviceToken"], ["secrets-stay-secret", "db:password"], ["secrets-stay-secret", "aws:secretKey"]]);
        assert.strictEqual(v[0].message, "Pulumi.red.yaml: threescale:serviceToken is set in plain text; remove it from the file and run `pulumi config set --secret threescale:serviceToken <value> --stack red`.");
        assert.deepStrictEqual(plainSecretsInConfig("config:\n  threescale:serviceToken:\n    secure: v1:x\n"), []);
    });

    it("checks a preview's config the same way", () => {
        assert.deepStrictEqual(checkPreviewConfig(stack([], { config: { "threescale:serviceToken": "[secret]" }, secretConfig: ["threescale:serviceToken"] })), []);
        assert.deepStrictEqual(checkPreviewConfig(stack([], { config: { "threescale:serviceToken": "t", "cache:authToken": "a" } })).map((v) => v.name), ["threescale:serviceToken", "cache:authToken"]);
    });
});

describe("policy pack: a deliberately broken stack", () => {
    it("produces exactly the expected violations", () => {
        const { preview, expected } = brokenStack();
        const violations = checkStack(preview);
        assert.deepStrictEqual(violations.map((v) => `${v.policy} ${v.name}`).sort(), expected, violations.map((v) => `${v.policy}: ${v.message}`).join("\n"));
        assert.ok(violations.every((v) => v.enforcementLevel === "mandatory"));
        const text = violations.map((v) => v.message).join("\n");
        for (const needle of ["admits CIDR 0.0.0.0/0", "runs in public subnet(s) subnet-public-a", "AmazonElastiCacheFullAccess", "throttlingRateLimit is unset",
            "throttlingBurstLimit is unset", "response caching is on without cacheDataEncrypted", "environment variable THREESCALE_SERVICE_TOKEN holds a secret"]) {
            assert.ok(text.includes(needle), needle);
        }
    });

    it("with stricter policy config, limits the program allows become violations", () => {
        const preview = stack(goodResources());
        const v = checkStack(preview, { "stage-throttling-and-logging": { maxRateLimit: 100, maxBurstLimit: 200 } });
        assert.deepStrictEqual(v.map((x) => x.message), [
            "stage red (stage): throttlingRateLimit 500 is above the policy's maximum 100; lower it (gateway:rateLimit).",
            "stage red (stage): throttlingBurstLimit 1000 is above the policy's maximum 200; lower it (gateway:burstLimit).",
        ]);
    });

    it("an extra resource the fixtures never produce is judged too", () => {
        const preview = withChange("redis-sg", () => undefined);
        preview.resources.push(resource("aws:sns/topic:Topic", "plain-topic", {}));
        assert.deepStrictEqual(checkStack(preview).map((v) => `${v.policy} ${v.name}`), ["sns-topic-encrypted plain-topic"]);
    });
});
