// The stand-in pulumi itself (fake-pulumi.ts, fake-engine.ts, fake-backend.ts): the ring tests can
// only be trusted as far as it does what the engine and the CLI do. Each case is a rule read from
// pulumi/pulumi (cited in the stand-in's files), run through the stand-in as a user would.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DOMAIN, Harness, LIVE_PROJECT, LIVE_STACK } from "./harness";

const MAPPING = "aws:apigateway/basePathMapping:BasePathMapping";
const RULE = "aws:apigatewayv2/routingRule:RoutingRule";

describe("the stand-in pulumi runs the program as the engine does", function () {
    this.timeout(300_000);
    let h: Harness;
    before(async () => {
        h = await Harness.create();
        h.deploy(["red", "black"], "red");
    });
    after(async () => h?.cleanup());

    it("`up` runs the stack's real program: its outputs and resources are the program's", () => {
        const red = h.stack("red");
        assert.match(String(red.outputs.specSha256), /^[0-9a-f]{64}$/);
        assert.ok(red.secretOutputs.includes("redisAuthToken"));
        assert.ok(red.resources.some((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup"), "the primary's Redis");
        assert.ok(red.resources.some((r) => r.type === "pulumi:providers:aws" && r.urn.endsWith("::default_7_48_0")), "its default provider");
        assert.ok(red.resources.filter((r) => r.custom && r.type.startsWith("aws:")).every((r) => r.provider?.startsWith("urn:pulumi:red::api-ring::pulumi:providers:aws::")));
    });

    it("a targeted up changes only the targeted resources, and writes every root output from the program's run", () => {
        const before = h.stack("black");
        const stage = before.resources.find((r) => r.type === "aws:apigateway/stage:Stage")?.urn as string;
        const api = before.resources.find((r) => r.type === "aws:apigateway/restApi:RestApi") ;
        const clone = h.cloneProject();
        h.editSpec("9.9.9", clone);
        h.setConfig("black", "gateway:releaseId", "release-targeted", clone);
        const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "black", "--target", stage], clone);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const after = h.stack("black");
        assert.strictEqual(after.outputs.releaseId, "release-targeted", "root outputs come from the program's run");
        assert.notStrictEqual(after.outputs.specSha256, before.outputs.specSha256);
        assert.deepStrictEqual(after.resources.find((r) => r.urn === api?.urn)?.inputs, api?.inputs, "the REST API was not targeted: its old state stays");
        assert.notDeepStrictEqual(after.resources.find((r) => r.urn === stage)?.inputs, before.resources.find((r) => r.urn === stage)?.inputs, "the stage was");
        h.up("black");
    });

    it("a program error fails the update with the program's message, and the state stays", () => {
        const clone = h.cloneProject();
        fs.writeFileSync(path.join(clone, "api", "openapi.yaml"), "swagger: [\n");
        const before = JSON.stringify(h.stack("black"));
        const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "black"], clone);
        assert.strictEqual(r.code, 255);
        assert.match(r.stdout, /Diagnostics:\n {2}pulumi:pulumi:Stack \(api-ring-black\):\n.*\n? {4}error: gateway:spec: cannot use api\/openapi\.yaml/);
        const after = h.stack("black");
        assert.strictEqual(JSON.stringify({ ...after, history: [] }), JSON.stringify({ ...JSON.parse(before), history: [] }));
        assert.strictEqual(after.history[after.history.length - 1].result, "failed");
    });

    it("an update that fails after the program registered its outputs writes them over the old ones and keeps those it did not register (step_executor.go)", () => {
        const saved = JSON.stringify(h.state());
        try {
            // A cohort's rule in the live pointer, so a change that ends it deletes the rule after the program finished.
            h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
            h.changePointer({ live: "red", cohorts: [{ slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }] });
            h.editOutputs(LIVE_STACK, (o) => { o.legacy = "an output this program no longer registers"; }, LIVE_PROJECT);
            h.failStep("delete", RULE, "deleting API Gateway v2 Routing Rule: TooManyRequestsException: Too Many Requests");
            const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", LIVE_STACK], h.liveDir,
                { API_RING_LIVE_CHANGE: JSON.stringify({ expectedLive: "red", live: "black", previousLive: "red", cohorts: [] }) });
            assert.strictEqual(r.code, 255, r.stdout + r.stderr);
            assert.match(r.stdout, /error: aws:apigatewayv2\/routingRule:RoutingRule live-cohort-100: deleting API Gateway v2 Routing Rule: TooManyRequestsException/);
            const after = h.pointer();
            assert.deepStrictEqual([after.liveSlot, after.previousLive, after.cohorts], ["black", "red", []], "the outputs the program registered replace the old ones");
            assert.strictEqual(after.legacy, "an output this program no longer registers", "an old output the program did not register stays");
            assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("black").restApiId, stage: "black" }, "the mapping's update ran before the delete failed");
            assert.ok(h.stack(LIVE_STACK, LIVE_PROJECT).resources.some((x) => x.type === RULE), "the rule that failed to delete stays in the state");
            assert.strictEqual(h.state().aws?.routingRules?.[DOMAIN]?.length, 1, "and in AWS");
        } finally {
            h.writeState(JSON.parse(saved));
        }
    });

    it("a StackReference to a stack that does not exist fails the update (backendClient.GetStackOutputs)", () => {
        const st = h.state();
        const saved = JSON.stringify(st);
        delete st.stacks[`${LIVE_PROJECT}/${LIVE_STACK}`];
        h.writeState(st);
        try {
            const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "black"]);
            assert.strictEqual(r.code, 255, r.stdout + r.stderr);
            assert.match(r.stdout, /unknown stack "organization\/api-ring-live\/live"/);
        } finally {
            h.writeState(JSON.parse(saved));
        }
    });

    it("`config set` writes the stack file beside the project's Pulumi.yaml; --secret writes a secure value", () => {
        assert.strictEqual(h.pulumi(["config", "set", "gateway:rateLimit", "42", "--stack", "black"]).code, 0);
        assert.strictEqual(h.pulumi(["config", "set", "--secret", "ring:smokeTestKey", "k", "--stack", "red"]).code, 0);
        assert.strictEqual(h.config("black")["gateway:rateLimit"], "42");
        assert.deepStrictEqual(h.config("red")["ring:smokeTestKey"], { secure: "fake:k" });
        h.setConfig("black", "gateway:rateLimit", 500);
        h.setConfig("red", "ring:smokeTestKey", undefined);
    });

    it("`state move` moves a component and its children, copies their provider, and renames their URNs (state_move.go)", () => {
        const clone = h.cloneProject();
        const st = h.state();
        const saved = JSON.stringify(st);
        const black = st.stacks["api-ring/black"];
        const watch = black.resources.find((r) => r.type === "api-ring:ring:SlotWatch") as { urn: string };
        const children = black.resources.filter((r) => r.parent === watch.urn);
        const r = h.pulumi(["state", "move", "--source", "black", "--dest", "organization/api-ring-live/live", "--yes", watch.urn], clone);
        try {
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const after = h.state();
        const moved = after.stacks[`${LIVE_PROJECT}/${LIVE_STACK}`].resources;
        assert.ok(!after.stacks["api-ring/black"].resources.some((x) => x.urn === watch.urn || x.parent === watch.urn), "gone from the source");
        const movedWatch = moved.find((x) => x.type === "api-ring:ring:SlotWatch");
        assert.strictEqual(movedWatch?.urn, "urn:pulumi:live::api-ring-live::api-ring:ring:SlotWatch::black-watch");
        assert.strictEqual(movedWatch?.parent, "urn:pulumi:live::api-ring-live::pulumi:pulumi:Stack::api-ring-live-live");
        assert.strictEqual(moved.filter((x) => x.parent === movedWatch?.urn).length, children.length, "children move with it");
        assert.ok(moved.some((x) => x.urn === "urn:pulumi:live::api-ring-live::pulumi:providers:aws::default_7_48_0"), "the provider is copied");
        assert.ok(after.stacks["api-ring/black"].resources.some((x) => x.type === "pulumi:providers:aws"), "and stays in the source");
        const again = h.pulumi(["state", "move", "--source", "black", "--dest", "organization/api-ring-live/live", "--yes", watch.urn], clone);
        assert.strictEqual(again.code, 255);
        assert.match(again.stderr, /no resources found to move/);
        assert.match(again.stdout, /warning: Resource .* not found in source stack/);
        const provider = after.stacks["api-ring/black"].resources.find((x) => x.type === "pulumi:providers:aws")?.urn as string;
        assert.match(h.pulumi(["state", "move", "--source", "black", "--dest", "organization/api-ring-live/live", "--yes", provider], clone).stderr, /cannot move providers/);
        } finally {
            h.writeState(JSON.parse(saved));
        }
    });

    it("a mapping created where AWS has one fails with API Gateway's ConflictException", () => {
        const st = h.state();
        const saved = JSON.stringify(st);
        const pointer = st.stacks[`${LIVE_PROJECT}/${LIVE_STACK}`];
        pointer.resources = pointer.resources.filter((x) => x.type !== MAPPING);
        h.writeState(st);
        try {
            const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", LIVE_STACK], h.liveDir);
            assert.strictEqual(r.code, 255, r.stdout + r.stderr);
            assert.match(r.stdout, /ConflictException: Base path already exists for this domain name/);
        } finally {
            h.writeState(JSON.parse(saved));
        }
    });
});
