import * as assert from "assert";
import * as yaml from "js-yaml";
import * as fs from "fs";
import * as path from "path";
import { ResourceValidationArgs } from "@pulumi/policy";
import { PolicyConfig, Violation, checkStack } from "../../policy/engine";
import { policies } from "../../policy/policies";
import { plainSecretsInConfig, secretsStaySecret } from "../../policy/secrets";
import { previewStack } from "../../scripts/offline-preview";
import { checkStackOffline } from "../../scripts/policy-check";
import { listStacks } from "../../scripts/stack-config";
import { goodResources, resource, stack, withChange } from "./fixtures";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixture inputs

function only(violations: Violation[], policy: string): Violation[] {
    const others = violations.filter((v) => v.policy !== policy);
    assert.deepStrictEqual(others, [], `only ${policy} is violated`);
    assert.ok(violations.length > 0, `${policy} is violated`);
    return violations;
}

describe("policy pack: the correct fixture stack passes every rule", () => {
    it("reports nothing", () => {
        assert.deepStrictEqual(checkStack(stack(goodResources())), []);
    });
    it("has the ten mandatory rules", () => {
        assert.deepStrictEqual(policies.map((p) => [p.name, p.enforcementLevel]), [
            ["redis-encryption-and-auth", "mandatory"], ["redis-ingress-lambda-only", "mandatory"],
            ["redis-lambdas-in-private-subnets", "mandatory"], ["no-managed-full-access", "mandatory"],
            ["stage-throttling-and-logging", "mandatory"], ["methods-use-authorizer", "mandatory"],
            ["sns-topic-encrypted", "mandatory"], ["domain-tls-1-2", "mandatory"],
            ["secrets-stay-secret", "mandatory"], ["lambda-runtime-supported", "mandatory"],
        ]);
    });
});

describe("policy pack: each rule catches its violation", () => {
    it("redis-encryption-and-auth: transit, at rest, AUTH token", () => {
        const v = only(checkStack(withChange("redis", (i) => { i.transitEncryptionEnabled = false; i.atRestEncryptionEnabled = false; delete i.authToken; })), "redis-encryption-and-auth");
        assert.deepStrictEqual(v.map((x) => x.message.split(":")[1].trim().split(" ")[0]), ["transitEncryptionEnabled", "atRestEncryptionEnabled", "no"]);
        assert.match(v[2].message, /no authToken/);
    });

    it("redis-ingress-lambda-only: a CIDR, a port range, a foreign group", () => {
        const resources = goodResources();
        resources.push(resource("aws:ec2/securityGroup:SecurityGroup", "bastion-sg", {}, { id: "sg-bastion" }));
        const redisGroup = resources.find((r) => r.name === "redis-sg") as { inputs: Json };
        redisGroup.inputs.ingress = [
            { protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: ["sg-lambda", "sg-bastion"] },
            { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] },
        ];
        const v = only(checkStack(stack(resources)), "redis-ingress-lambda-only");
        assert.ok(v.some((x) => /ingress\[0\] admits security group bastion-sg, which no Lambda uses/.test(x.message)), v.map((x) => x.message).join("\n"));
        assert.ok(v.some((x) => /ingress\[1\] opens ports 0-65535 instead of only 6379/.test(x.message)));
        assert.ok(v.some((x) => /ingress\[1\] admits CIDR 0\.0\.0\.0\/0/.test(x.message)));
        assert.ok(v.every((x) => x.name === "redis-sg"));
    });

    it("redis-ingress-lambda-only: a separate ingress rule resource open to the world", () => {
        const resources = goodResources();
        resources.push(resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "open", { securityGroupId: "sg-redis", fromPort: 6379, toPort: 6379, cidrIpv4: "0.0.0.0/0" }));
        const v = only(checkStack(stack(resources)), "redis-ingress-lambda-only");
        assert.match(v[0].message, /open \(Redis of redis\) admits CIDR 0\.0\.0\.0\/0/);
    });

    it("redis-lambdas-in-private-subnets: a public subnet, and no VPC at all", () => {
        const pub = only(checkStack(withChange("authorizer", (i) => { i.vpcConfig.subnetIds = ["subnet-public-a"]; })), "redis-lambdas-in-private-subnets");
        assert.match(pub[0].message, /authorizer runs in public subnet\(s\) subnet-public-a/);
        // Without a VPC the Lambda group also serves no Lambda, which the ingress rule reports too.
        const none = checkStack(withChange("authorizer", (i) => { delete i.vpcConfig; }));
        assert.deepStrictEqual(none.map((v) => v.policy).sort(), ["redis-ingress-lambda-only", "redis-lambdas-in-private-subnets"]);
        assert.match(none.find((v) => v.policy === "redis-lambdas-in-private-subnets")?.message ?? "", /uses Redis but has no vpcConfig/);
    });

    it("no-managed-full-access: an attachment and a role's managed policies", () => {
        const resources = goodResources();
        resources.push(resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "s3", { policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" }));
        resources.push(resource("aws:iam/role:Role", "role", { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonSNSFullAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"] }));
        const v = only(checkStack(stack(resources)), "no-managed-full-access");
        assert.deepStrictEqual(v.map((x) => x.name), ["s3", "role"]);
        assert.match(v[0].message, /attaches arn:aws:iam::aws:policy\/AmazonS3FullAccess/);
    });

    it("stage-throttling-and-logging: no throttling, no log level, no access logs, no method settings, unencrypted cache", () => {
        const noLimits = only(checkStack(withChange("settings", (i) => { i.settings = { cachingEnabled: true }; })), "stage-throttling-and-logging");
        assert.deepStrictEqual(noLimits.map((x) => x.message.replace(/^stage red: /, "").split(" ")[0]).sort(), ["loggingLevel", "response", "throttlingBurstLimit", "throttlingRateLimit"]);
        const noLogs = only(checkStack(withChange("stage", (i) => { delete i.accessLogSettings; })), "stage-throttling-and-logging");
        assert.match(noLogs[0].message, /has no access logging/);
        const noSettings = only(checkStack(withChange("settings", (i) => { i.methodPath = "GET/heartbeat"; })), "stage-throttling-and-logging");
        assert.match(noSettings[0].message, /has no method settings for \*\/\*/);
    });

    it("stage-throttling-and-logging: thresholds come from policy config", () => {
        const config: PolicyConfig = { "stage-throttling-and-logging": { maxRateLimit: 100, maxBurstLimit: 200, logLevels: ["INFO"] } };
        const v = only(checkStack(stack(goodResources()), config), "stage-throttling-and-logging");
        assert.deepStrictEqual(v.map((x) => x.message.split(": ")[1].split(" ")[0]), ["throttlingRateLimit", "throttlingBurstLimit", "loggingLevel"]);
        assert.match(v[0].message, /500 is above the policy's maximum 100/);
    });

    it("methods-use-authorizer: a method without the authorizer", () => {
        const v = only(checkStack(withChange("api", (i) => {
            const doc = JSON.parse(i.body);
            doc.paths["/discovery/v1/catalogs"].get.security = [{ someOtherScheme: [] }];
            doc.paths["/enterprise"] = { post: {} };
            i.body = JSON.stringify(doc);
        })), "methods-use-authorizer");
        assert.deepStrictEqual(v.map((x) => x.message.split(": ")[1].split(" has")[0]), ["GET /discovery/v1/catalogs", "POST /enterprise"]);
    });

    it("sns-topic-encrypted and domain-tls-1-2", () => {
        assert.match(only(checkStack(withChange("usage", (i) => { delete i.kmsMasterKeyId; })), "sns-topic-encrypted")[0].message, /no kmsMasterKeyId/);
        assert.match(only(checkStack(withChange("domain", (i) => { i.securityPolicy = "TLS_1_0"; })), "domain-tls-1-2")[0].message, /securityPolicy is TLS_1_0; set TLS_1_2/);
    });

    it("secrets-stay-secret: a plain token in a Lambda environment, a plain AUTH token", () => {
        const v = only(checkStack(withChange("authorizer", (i, r) => {
            r.secretInputs = [];
            i.environment = { variables: { REDIS_HOST: "h", THREESCALE_SERVICE_TOKEN: "plain", USAGE_TOPIC_ARN: "arn" } };
        })), "secrets-stay-secret");
        assert.deepStrictEqual(v.map((x) => x.message), ["authorizer: environment variable THREESCALE_SERVICE_TOKEN is plain text; pass it as a Pulumi secret."]);
        assert.match(only(checkStack(withChange("redis", (_i, r) => { r.secretInputs = []; })), "secrets-stay-secret")[0].message, /authToken is plain text/);
    });

    it("secrets-stay-secret: under the real CLI, which does not say what is secret, it is not applicable rather than wrong", () => {
        let reason = "";
        const args = {
            type: "aws:lambda/function:Function", name: "f", urn: "u", props: { environment: { variables: { X_TOKEN: "v" } } },
            notApplicable: (r?: string) => { reason = r ?? ""; throw new Error("not applicable"); },
        } as unknown as ResourceValidationArgs;
        const reports: string[] = [];
        const validate = secretsStaySecret.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void;
        assert.throws(() => validate(args, (m) => reports.push(m)), /not applicable/);
        assert.deepStrictEqual(reports, []);
        assert.match(reason, /offline/);
    });

    it("secrets-stay-secret: stack config files keep tokens as secure values", () => {
        const text = "config:\n  threescale:serviceToken: plain-token\n  cache:authToken:\n    secure: v1:abc\n  threescale:serviceId: \"1\"\n";
        assert.deepStrictEqual(plainSecretsInConfig(text, (t) => yaml.load(t)), ["threescale:serviceToken"]);
    });

    it("lambda-runtime-supported: a deprecated runtime, and the allow-list from config", () => {
        assert.match(only(checkStack(withChange("authorizer", (i) => { i.runtime = "nodejs16.x"; })), "lambda-runtime-supported")[0].message, /runtime nodejs16\.x is not one of nodejs20\.x, nodejs22\.x, nodejs24\.x/);
        assert.strictEqual(checkStack(stack(goodResources()), { "lambda-runtime-supported": { allowedRuntimes: ["nodejs24.x"] } }).length, 1);
        assert.deepStrictEqual(checkStack(withChange("authorizer", (i) => { i.runtime = "nodejs16.x"; }), { "lambda-runtime-supported": "disabled" }), []);
    });
});

describe("policy pack: the project's stacks", function () {
    this.timeout(120_000);
    for (const name of ["red", "black"]) {
        it(`stack ${name}: no violation, its config file included`, () => {
            assert.deepStrictEqual(checkStackOffline(name).violations, []);
        });
    }

    it("covers every stack config present", () => {
        assert.deepStrictEqual(listStacks(PROJECT), ["black", "red"]);
        assert.ok(fs.existsSync(path.join(PROJECT, "policy", "PulumiPolicy.yaml")));
    });

    it("a deliberately broken config (limits above the pack's thresholds, caching on) and broken resources give the expected violations", () => {
        const preview = previewStack("red", { overrides: { "gateway:rateLimit": "4000", "gateway:burstLimit": "5000", "gateway:caching": "true" } });
        const config: PolicyConfig = { "stage-throttling-and-logging": { maxRateLimit: 1000, maxBurstLimit: 2000 } };
        const fromConfig = checkStack(preview, config).map((v) => `${v.policy}: ${v.message}`);
        assert.deepStrictEqual(fromConfig, [
            "stage-throttling-and-logging: stage red: throttlingRateLimit 4000 is above the policy's maximum 1000.",
            "stage-throttling-and-logging: stage red: throttlingBurstLimit 5000 is above the policy's maximum 2000.",
        ]);
        // The same stack with what the program never produces: caching unencrypted, an open Redis group, a FullAccess role.
        const settings = preview.resources.find((r) => r.type === "aws:apigateway/methodSettings:MethodSettings") as { inputs: Json };
        settings.inputs.settings.cacheDataEncrypted = false;
        const redisGroup = preview.resources.find((r) => r.name.endsWith("-redis-sg")) as { inputs: Json };
        redisGroup.inputs.ingress.push({ protocol: "tcp", fromPort: 6379, toPort: 6379, cidrBlocks: ["10.0.0.0/8"] });
        preview.resources.push(resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", { policyArn: "arn:aws:iam::aws:policy/AmazonElastiCacheFullAccess" }));
        const policiesHit = [...new Set(checkStack(preview, config).map((v) => v.policy))].sort();
        assert.deepStrictEqual(policiesHit, ["no-managed-full-access", "redis-ingress-lambda-only", "stage-throttling-and-logging"]);
    });
});
