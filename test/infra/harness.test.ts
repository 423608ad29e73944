import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { synthesizeLivePointerOutputs, synthesizeOutputs } from "../../preview/cli";
import { DomainFlip } from "../../components/domainFlip";
import { build, referencedStacks, resolve, useMockCloud } from "./harness";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

describe("test harness", () => {
    it("fails the run on an unhandled promise rejection", function () {
        this.timeout(30_000);
        const mocha = path.join(PROJECT, "node_modules", "mocha", "bin", "mocha.js");
        const run = spawnSync(process.execPath, [mocha, "--no-config", "--require", path.join(PROJECT, "bin/test/setup.js"),
            path.join(PROJECT, "test/fixtures/rejection/unhandled.js")], { encoding: "utf8" });
        assert.notStrictEqual(run.status, 0, run.stdout);
        assert.match(run.stdout + run.stderr, /an Output chain failed/);
    });
});

describe("examples/consumer", () => {
    it("reads the primary's and the live pointer's outputs through typed StackReferences", async () => {
        await useMockCloud();
        const red = synthesizeOutputs(PROJECT, "red");
        const live: Record<string, unknown> = synthesizeLivePointerOutputs(path.join(PROJECT, "live"), "live");
        live.cohorts = [{ slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }];
        referencedStacks.set("red", red);
        referencedStacks.set("live", live);
        const consumer = await import("../../examples/consumer/index");
        assert.strictEqual(await resolve(consumer.liveSlot), "red");
        assert.strictEqual(await resolve(consumer.heartbeatUrl), `${String(live.liveUrl)}heartbeat`);
        assert.deepStrictEqual(await resolve(consumer.cohorts), ["X-Ring-Cohort=beta -> black"]);
        assert.strictEqual(await resolve(consumer.privateSubnetCount), (red.privateSubnetIds as string[]).length);
        assert.strictEqual(await resolve(consumer.usageTopicArn), red.usageTopicArn);
    });
});

describe("test harness: AWS's rules", () => {
    it("fails a build whose resource AWS would refuse, naming resource, input, value and rule", async () => {
        await assert.rejects(build((opts) => new DomainFlip("harness-refused", {
            domainName: "api.example.edu", basePath: "", live: { restApiId: "a1b2c3d4e5", stageName: "red" },
            certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555",
        }, opts)), /AWS would refuse:\naws:apigateway\/domainName:DomainName "harness-refused-domain": regionalCertificateArn "arn:aws:acm:eu-west-1:[^"]+" refused: .*the certificate is in eu-west-1, the API in us-east-1/);
    });
});
