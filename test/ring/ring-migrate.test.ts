// Moving a ring deployed before the live pointer (the mapping in the primary's state) to the live
// pointer's stack: `ring migrate` moves the state with `pulumi state move` and never deletes or creates
// the mapping in AWS; the dangerous order (the primary deployed with this release first) is refused by
// the program and by `ring deploy`.
import * as assert from "assert";
import type { RingHistoryEntry } from "../../outputs";
import { DOMAIN, Harness, LIVE_PROJECT, LIVE_STACK, eachTestDeployed } from "./harness";

const MAPPING = "aws:apigateway/basePathMapping:BasePathMapping";
const DOMAIN_NAME = "aws:apigateway/domainName:DomainName";
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444";
const earlier: RingHistoryEntry[] = [
    { at: "2026-11-20T09:00:00Z", kind: "flip", from: "red", to: "black", by: "ci (ci)", why: "release 1", gate: "passed" },
    { at: "2026-11-21T09:00:00Z", kind: "flip", from: "black", to: "red", by: "ci (ci)", why: "release 2", gate: "passed" },
];

describe("ring: moving a ring deployed before the live pointer", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h, ["red", "black"], null);
    beforeEach(() => h.oldRing("red", earlier, "black"));

    /** What AWS saw happen to the mapping. */
    const mappingCalls = () => (h.state().aws?.calls ?? []).filter((c) => c.type === MAPPING).map((c) => c.op);

    it("a plain `pulumi up` of the primary with this release is refused by the program, naming the fix; nothing is deleted", () => {
        const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "red"]);
        assert.strictEqual(r.code, 255, r.stdout);
        assert.match(r.stdout, /ring:live: got "red"; expected no value on "red": ring:live is now the state of the live pointer's stack .*`npm run ring -- migrate`/);
        assert.deepStrictEqual(mappingCalls(), []);
        assert.ok(h.stack("red").resources.some((x) => x.type === MAPPING), "the mapping is still in the primary's state");
        // Even with the old keys removed by hand, the program sees from its own last outputs that the mapping was never moved.
        h.setConfig("red", "ring:live", undefined);
        h.setConfig("red", "ring:previousLive", undefined);
        h.setConfig("red", "domain:name", undefined);
        h.pulumi(["stack", "init", LIVE_STACK], h.liveDir);
        const again = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "red"]);
        assert.strictEqual(again.code, 255, again.stdout);
        assert.match(again.stdout, /stack "red" was deployed by a ring that kept the custom domain's mapping in the primary's state .* this update would delete the mapping.*`npm run ring -- migrate`/s);
        assert.deepStrictEqual(mappingCalls(), []);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
    });

    it("a plain `pulumi up` of the live pointer before the move does not unlock the primary: it is refused until the live pointer holds the mapping, and `ring migrate` still moves it", async () => {
        // The old keys removed by hand, then the live pointer's stack updated with nothing to apply (README: a plain update keeps what is live).
        h.setConfig("red", "ring:live", undefined);
        h.setConfig("red", "ring:previousLive", undefined);
        h.setConfig("red", "domain:name", undefined);
        h.pulumi(["stack", "init", LIVE_STACK], h.liveDir);
        h.up(LIVE_STACK, h.liveDir);
        assert.strictEqual(h.pointer().liveSlot, null, "the live pointer says nothing is live: it has not taken the mapping over");
        const r = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "red"]);
        assert.strictEqual(r.code, 255, r.stdout);
        assert.match(r.stdout, /stack "red" was deployed by a ring that kept the custom domain's mapping in the primary's state .* this update would delete the mapping.*`npm run ring -- migrate`/s);
        assert.deepStrictEqual(mappingCalls(), [], "AWS never saw the mapping deleted");
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        assert.ok(h.stack("red").resources.some((x) => x.type === MAPPING), "the mapping is still in the primary's state");

        // The move still works from there, and only then does the primary deploy.
        const migrate = await h.run("migrate");
        assert.strictEqual(migrate.code, 0, `${migrate.stderr}\n${migrate.pulumiOutput}`);
        assert.strictEqual(h.pointer().liveSlot, "red");
        h.up("red");
        assert.deepStrictEqual(mappingCalls(), []);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
    });

    it("`ring deploy` of the primary and `ring flip` refuse until it is moved; status says so", async () => {
        h.pulumi(["stack", "init", LIVE_STACK], h.liveDir);
        // Black live (the old primary's last flip), so red is the idle slot a release would go to.
        h.setAwsMapping({ restApiId: String(h.outputs("black").restApiId), stage: "black" });
        const deploy = await h.run("deploy", "red");
        assert.strictEqual(deploy.code, 3, deploy.stderr);
        assert.match(deploy.stderr, /stack red still holds the custom domain's base path mapping in its state .*\n {2}fix: move it first, without touching AWS: `npm run ring -- migrate`/);
        const flip = await h.run("flip", "red", "--no-bake");
        assert.strictEqual(flip.code, 3, flip.stderr);
        assert.match((await h.run("status")).stdout, /warning: stack red still holds the custom domain's mapping .*`npm run ring -- migrate`/);
        assert.deepStrictEqual(h.mutatingCalls().filter((p) => p.words[0] === "up"), []);
    });

    it("`ring migrate --dry-run` prints every command, state move first, and changes nothing", async () => {
        const before = JSON.stringify(h.state());
        const r = await h.run("migrate", "--dry-run");
        assert.strictEqual(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.deepStrictEqual(lines.slice(0, 3), [
            "would run: (cd live && pulumi stack init live)",
            `would run: pulumi state move --source red --dest organization/${LIVE_PROJECT}/${LIVE_STACK} --yes ` +
            "urn:pulumi:red::api-ring::api-ring:ring:DomainFlip::live 'urn:pulumi:red::api-ring::api-ring:ring:DomainFlip$aws:apigateway/basePathMapping:BasePathMapping::live-mapping'",
            lines[2],
        ]);
        assert.match(lines[2], /^would run: \(cd live && API_RING_LIVE_CHANGE='\{"expectedLive":null,"live":"red","previousLive":"black","cohorts":\[\],"history":\[/);
        assert.deepStrictEqual(lines.slice(3), ["would run: pulumi config rm ring:live --stack red", "would run: pulumi config rm ring:previousLive --stack red", "would run: pulumi config rm domain:name --stack red"]);
        assert.deepStrictEqual(h.mutatingCalls(), []);
        assert.strictEqual(JSON.stringify(h.state()), before);
    });

    it("`ring migrate` moves the mapping to the live pointer's stack without AWS seeing a delete or a create, and carries the history over", async () => {
        const r = await h.run("migrate");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.strictEqual(r.stdout.trim(), "red");
        assert.deepStrictEqual(mappingCalls(), [], "the mapping was neither deleted nor created, nor even updated");
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        const pointer = h.stack(LIVE_STACK, LIVE_PROJECT);
        assert.ok(pointer.resources.some((x) => x.urn === `urn:pulumi:${LIVE_STACK}::${LIVE_PROJECT}::api-ring:ring:DomainFlip$${MAPPING}::live-mapping`));
        assert.ok(!h.stack("red").resources.some((x) => x.type === MAPPING), "gone from the primary's state");
        assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive, h.pointer().ringHistory], ["red", "black", earlier]);
        assert.deepStrictEqual([h.config("red")["ring:live"], h.config("red")["ring:previousLive"], h.config("red")["domain:name"]], [undefined, undefined, undefined]);
        assert.strictEqual(h.config(LIVE_STACK, h.liveDir)["domain:name"], DOMAIN);
        assert.match(r.stderr, /migrate: done; red is live, as before\. Commit the changed stack files/);

        // The primary deploys with this release now, and the mapping stays; the ring carries on.
        h.up("red");
        assert.deepStrictEqual(mappingCalls(), []);
        assert.ok(!("liveSlot" in h.outputs("red")), "the primary's old outputs are gone");
        const flip = await h.run("flip", "black", "--no-bake", "--reason", "release 3");
        assert.strictEqual(flip.code, 0, flip.stderr);
        assert.deepStrictEqual(mappingCalls(), ["update"]);
        assert.deepStrictEqual((await h.history()).map((e) => e.why), ["release 1", "release 2", "release 3"]);
    });

    it("moves a ring whose primary created the domain: the live pointer's first update leaves the domain and the mapping as they are, and a cohort later sets the routing mode", async () => {
        await h.cleanup();
        h = await Harness.create();
        h.deploy(["red", "black"], null);
        h.oldRing("red", earlier, "black", { certificateArn: CERTIFICATE });
        const r = await h.run("migrate");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        const pointer = h.stack(LIVE_STACK, LIVE_PROJECT);
        assert.ok(pointer.resources.some((x) => x.urn === `urn:pulumi:${LIVE_STACK}::${LIVE_PROJECT}::api-ring:ring:DomainFlip$${DOMAIN_NAME}::live-domain`), "the domain moved");
        assert.deepStrictEqual(h.state().aws?.calls ?? [], [], "AWS saw no call: not the domain (its routing mode, its tags), not the mapping");
        assert.strictEqual(h.config(LIVE_STACK, h.liveDir)["domain:certificateArn"], CERTIFICATE);
        h.up("red");
        assert.deepStrictEqual(h.state().aws?.calls?.filter((c) => c.type === MAPPING || c.type === DOMAIN_NAME) ?? [], []);

        // The first cohort sets the routing mode in its own update; the domain keeps its tags.
        const cohort = await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta");
        assert.strictEqual(cohort.code, 0, cohort.stderr);
        assert.deepStrictEqual(h.state().aws?.calls?.filter((c) => c.type === DOMAIN_NAME).map((c) => c.op), ["update"]);
        assert.strictEqual(h.state().aws?.domains?.[DOMAIN]?.routingMode, "ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        const domain = h.stack(LIVE_STACK, LIVE_PROJECT).resources.find((x) => x.type === DOMAIN_NAME);
        assert.deepStrictEqual(domain?.inputs?.tags, { "api-ring:project": "api-ring", "api-ring:slot": "red" });
    });

    it("refuses a live pointer's stack in another region: the moved provider would be replaced, and the mapping with it", async () => {
        h.setConfig(LIVE_STACK, "aws:region", "eu-west-1", h.liveDir);
        const r = await h.run("migrate");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /aws:region is us-east-1 on red but eu-west-1 on the live pointer's stack live/);
        assert.deepStrictEqual(h.mutatingCalls().filter((p) => p.words[0] === "state" || p.words[0] === "up"), []);
    });

    it("nothing to move in a ring that never kept the mapping in its primary", async () => {
        await h.cleanup();
        h = await Harness.create();
        h.deploy(["red", "black"], "red");
        const r = await h.run("migrate");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /stack red holds no api-ring:ring:DomainFlip \(the custom domain's mapping\): there is nothing to move/);
    });
});
