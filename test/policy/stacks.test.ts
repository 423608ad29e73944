// The pack over the project's own stacks, from their offline previews (child processes).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkConfigFile } from "../../policy/configFile";
import { PolicyConfig, checkStack } from "../../policy/offline";
import { allStacks, previewStack } from "../../preview/cli";
import { checkStackOffline } from "../../preview/policy-check";
import { listStacks } from "../../stack-config";
import { Json, resource } from "./fixtures";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

describe("policy pack: the project's stacks", function () {
    this.timeout(120_000);

    it("covers every stack config present, the live pointer's included, and the pack is in the CLI's shape", () => {
        assert.deepStrictEqual(listStacks(PROJECT), ["black", "red"]);
        assert.deepStrictEqual(allStacks(PROJECT).map((s) => [s.stack, path.relative(PROJECT, s.dir)]), [["black", ""], ["red", ""], ["live", "live"]]);
        for (const file of ["PulumiPolicy.yaml", "package.json", "index.ts"]) assert.ok(fs.existsSync(path.join(PROJECT, "policy", file)), file);
    });

    for (const name of ["red", "black"]) {
        it(`stack ${name}: no violation, its config file included`, () => {
            assert.deepStrictEqual(checkStackOffline(name).violations, []);
        });
    }

    it("the live pointer's stack: no violation, its config file included", () => {
        assert.deepStrictEqual(checkStackOffline("live", {}, path.join(PROJECT, "live")).violations, []);
    });

    it("the program's web ACL is what stage-blocks-forged-context-headers asks for: dropping its association or its block action is reported", () => {
        const preview = previewStack("red");
        const acl = preview.resources.find((r) => r.type === "aws:wafv2/webAcl:WebAcl") as { inputs: Json };
        acl.inputs.rules[0].action = { count: {} };
        assert.deepStrictEqual(checkStack(preview).map((v) => [v.policy, v.name]), [["stage-blocks-forged-context-headers", "red-gateway-web-acl"]]);
        preview.resources = preview.resources.filter((r) => r.type !== "aws:wafv2/webAclAssociation:WebAclAssociation");
        assert.deepStrictEqual(checkStack(preview).map((v) => [v.policy, v.name]), [["stage-blocks-forged-context-headers", "red-gateway-stage"]]);
    });

    it("a plain secret in a stack config file is a violation naming the fix", () => {
        const v = checkConfigFile("red", "config:\n  threescale:serviceToken: plain-token\n  threescale:serviceId: \"1\"\n");
        assert.deepStrictEqual(v.map((x) => x.name), ["threescale:serviceToken"]);
        assert.match(v[0].message, /pulumi config set --secret threescale:serviceToken <value> --stack red/);
    });

    it("a deliberately broken config (limits above the pack's thresholds, caching on) and broken resources give the expected violations", () => {
        const preview = previewStack("red", { overrides: { "gateway:rateLimit": "4000", "gateway:burstLimit": "5000", "gateway:caching": "true" } });
        const config: PolicyConfig = { "stage-throttling-and-logging": { maxRateLimit: 1000, maxBurstLimit: 2000 } };
        const fromConfig = checkStack(preview, config);
        assert.deepStrictEqual(fromConfig.map((v) => v.policy), ["stage-throttling-and-logging", "stage-throttling-and-logging"]);
        assert.match(fromConfig.map((v) => v.message).join("\n"), /4000/);
        assert.match(fromConfig.map((v) => v.message).join("\n"), /5000/);
        // What the program never produces: an unencrypted stage cache, Redis open to a CIDR, a FullAccess role.
        const settings = preview.resources.find((r) => r.type === "aws:apigateway/methodSettings:MethodSettings") as { inputs: Json };
        settings.inputs.settings.cacheDataEncrypted = false;
        const redisGroup = preview.resources.find((r) => r.name.endsWith("-redis-sg")) as { inputs: Json };
        redisGroup.inputs.ingress.push({ protocol: "tcp", fromPort: 6379, toPort: 6379, cidrBlocks: ["10.0.0.0/8"] });
        preview.resources.push(resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", { policyArn: "arn:aws:iam::aws:policy/AmazonElastiCacheFullAccess" }));
        const hit = [...new Set(checkStack(preview, config).map((v) => v.policy))].sort();
        assert.deepStrictEqual(hit, ["no-managed-full-access", "redis-ingress-lambda-only", "stage-throttling-and-logging"]);
    });
});
