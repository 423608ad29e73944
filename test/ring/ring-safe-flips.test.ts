// Safe flips, end to end in-process (runRing) against the stand-in pulumi, with the AWS SDK
// clients stubbed at the SDK's own level (aws-sdk-client-mock): what is live comes from AWS,
// drift is refused, the gate smoke-tests the target's stage URL (a loopback server), the bake
// watches the alarms and flips back by itself, and every move is recorded in a bounded history.
import * as assert from "assert";
import { GetBasePathMappingCommand } from "@aws-sdk/client-api-gateway";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { bakeAlarmNames, slotAlarmNames } from "../../outputs";
import { BAKE_POLL_MS } from "../../ring/ops";
import { Harness, TEST_KEY, eachTestDeployed, flag } from "./harness";

const BLACK_ALARMS = bakeAlarmNames(slotAlarmNames("api-ring", "black"));

describe("ring: what is live comes from AWS", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("status shows AWS's mapping beside what the live pointer says, read with GetBasePathMapping in the live pointer's region", async () => {
        h.setConfig("live", "aws:region", "eu-west-1", h.liveDir);
        const r = await h.run("status");
        assert.strictEqual(r.code, 0, r.stderr);
        const api = String(h.outputs("red").restApiId);
        assert.match(r.stdout, new RegExp(`^mapping: api\\.example\\.edu/ -> api ${api}, stage red \\(AWS\\); live pointer: red$`, "m"));
        assert.deepStrictEqual(h.apiGatewayMock.commandCalls(GetBasePathMappingCommand).map((c) => c.args[0].input), [{ domainName: "api.example.edu", basePath: "(none)" }]);
        assert.deepStrictEqual(h.regions, ["eu-west-1", "us-east-1"], "the domain in the live pointer's region, the alarms in the primary's");
        const j = JSON.parse((await h.run("status", "--json")).stdout);
        assert.deepStrictEqual(j.mapping, { restApiId: api, stage: "red", slot: "red" });
        assert.strictEqual(j.drift, undefined);
    });

    it("a flip made in the console is drift: status names both values, exit 0", async () => {
        const black = String(h.outputs("black").restApiId);
        h.setAwsMapping({ restApiId: black, stage: "black" });
        const r = await h.run("status");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /^live: black /m, "the live slot is what AWS maps, not ring:live");
        assert.match(r.stdout, /live pointer: red {2}DRIFT$/m);
        assert.match(r.stdout, /warning: drift: AWS maps api\.example\.edu\/ to black \(api \w+, stage black\), but the live pointer \(stack live\) says red/);
        const j = JSON.parse((await h.run("status", "--json")).stdout);
        assert.deepStrictEqual([j.live, j.pointerLive, j.drift.aws, j.drift.pointer], ["black", "red", "black", "red"]);
    });

    it("flip and deploy refuse on drift (exit 3), naming both values and the fix; nothing changes", async () => {
        h.setAwsMapping({ restApiId: "seed0api00", stage: "bootstrap" });
        const before = JSON.stringify(h.state());
        for (const args of [["flip", "black"], ["deploy"], ["deploy", "black"], ["rollback"]]) {
            const r = await h.run(...args);
            assert.strictEqual(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
            if (args[0] !== "rollback") {
                assert.match(r.stderr, /drift: AWS maps api\.example\.edu\/ to stage bootstrap of api seed0api00, outside the ring, but the live pointer \(stack live\) says red/);
                assert.match(r.stderr, /fix: to point api\.example\.edu\/ back at red: `npm run ring -- flip red --override-drift --reason "<why>"`/);
            }
        }
        assert.deepStrictEqual(h.mutatingCalls(), []);
        assert.strictEqual(JSON.stringify(h.state()), before);
    });

    it("--override-drift resolves it with a gated flip, recorded in the history", async () => {
        const black = String(h.outputs("black").restApiId);
        h.setAwsMapping({ restApiId: black, stage: "black" });
        const r = await h.run("flip", "black", "--override-drift", "--reason", "rolled forward in the console during the incident", "--no-bake");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(h.pointer().liveSlot, "black");
        const [entry] = (await h.history());
        assert.deepStrictEqual([entry.kind, entry.from, entry.to, entry.gate], ["flip", "black", "black", "passed"]);
        assert.match(entry.why, /^rolled forward in the console during the incident; overrode drift: AWS maps api\.example\.edu\/ to black/);
        assert.strictEqual((await h.run("status", "--json")).stdout.includes('"drift"'), false);
    });

    it("a mapping AWS already has (the seed's) refuses the first flip until the live pointer adopts it, naming the pulumi import", async () => {
        await h.cleanup();
        h = await Harness.create();
        h.deploy(["red"], null);
        h.setAwsMapping({ restApiId: "seed0api00", stage: "bootstrap" });
        const deploy = await h.run("deploy", "--dry-run");
        assert.strictEqual(deploy.code, 0, `a deploy never touches the mapping: ${deploy.stderr}`);
        const r = await h.run("flip", "red", "--no-bake");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /api\.example\.edu\/ already has a base path mapping in AWS \(to bootstrap \(api seed0api00\)\), which the live pointer's first update would fail to create/);
        assert.match(r.stderr, /in live\/, `pulumi import --file adopt\.json --generate-code=false --yes -s live`/);
        assert.ok(r.stderr.includes('"id":"api.example.edu/","parent":"live"'));
        assert.deepStrictEqual(h.mutatingCalls(), []);
        h.adoptMapping({ restApiId: "seed0api00", stage: "bootstrap" });
        const adopted = await h.run("flip", "red", "--no-bake", "--reason", "take the domain over from the seed");
        assert.strictEqual(adopted.code, 0, adopted.stderr);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" }, "the first flip points the adopted mapping at red");
        assert.deepStrictEqual(h.state().aws?.calls?.map((c) => [c.op, c.type.split(":").pop()]), [["update", "BasePathMapping"]], "updated in place, never created or deleted");
        assert.deepStrictEqual((await h.history()).map((e) => [e.from, e.to]), [["bootstrap (api seed0api00)", "red"]]);
    });

    it("an adopted mapping stays protected until the first flip: a plain `pulumi up` of the live stack in between is refused and deletes nothing", async () => {
        await h.cleanup();
        h = await Harness.create();
        h.deploy(["red"], null);
        const seed = { restApiId: "seed0api00", stage: "bootstrap" };
        h.setAwsMapping(seed);
        h.adoptMapping(seed);
        // Nothing is live yet, so the live pointer's program declares no mapping: the engine would delete it.
        const up = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "live"], h.liveDir);
        assert.notStrictEqual(up.code, 0, up.stdout);
        // The engine's diagnostic, in the update's output as the CLI prints diagnostics.
        assert.match(up.stdout, /error: unable to delete resource ".*live-mapping"\n\s*as it is currently marked for protection/);
        assert.deepStrictEqual(h.awsMapping(), seed, "the seed's mapping still serves");
        assert.ok(h.stack("live", "api-ring-live").resources.some((r) => r.id === "api.example.edu/"), "and stays in the live pointer's state");
        const flip = await h.run("flip", "red", "--no-bake", "--reason", "take the domain over from the seed");
        assert.strictEqual(flip.code, 0, flip.stderr);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        const mapping = h.stack("live", "api-ring-live").resources.find((r) => r.id === "api.example.edu/");
        assert.strictEqual(mapping?.protect ?? false, false, "the first flip declares the mapping, unprotected: rollbacks and later flips update it as before");
    });

    it("AWS unreadable: flip and deploy stop (exit 1) naming the call and the fix; status prints what it can and exits 1", async () => {
        h.apiGatewayMock.on(GetBasePathMappingCommand).rejects(Object.assign(new Error("The security token included in the request is invalid."), { name: "UnrecognizedClientException" }));
        for (const args of [["flip", "black"], ["deploy"]]) {
            const r = await h.run(...args);
            assert.strictEqual(r.code, 1, r.stderr);
            assert.match(r.stderr, /reading the live mapping of api\.example\.edu\/ from AWS \(GetBasePathMapping\) failed: UnrecognizedClientException: The security token/);
            assert.match(r.stderr, /fix: check the AWS credentials/);
        }
        const st = await h.run("status");
        assert.strictEqual(st.code, 1);
        assert.match(st.stdout, /^red \(primary\)/m);
        assert.match(st.stdout, /^live: unknown \(AWS could not be read\)/m);
        assert.match(st.stdout, /warning: reading the live mapping of api\.example\.edu\/ from AWS \(GetBasePathMapping\) failed/);
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });
});

describe("ring: the gate before a flip", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("smoke-tests the target's own stage URL: heartbeat with its release id", async () => {
        const r = await h.run("flip", "black", "--no-bake");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(h.stage.requests.map((q) => `${q.method} ${q.url}`), ["GET /black/heartbeat"]);
        assert.match(r.stderr, /gate: ok {3}GET https:\/\/[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com\/black\/heartbeat: expected HTTP 200 with release "release-2026-11-23\.2", got HTTP 200 with release "release-2026-11-23\.2"/);
        assert.strictEqual((await h.history())[0].gate, "passed");
    });

    it("a slot answering another release is refused (exit 3), printing what was expected and what came back; nothing changes", async () => {
        h.stage.releases.set("black", "release-2026-11-20.9");
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /the smoke test of slot "black" failed, so the domain stays on red/);
        assert.match(r.stderr, /GET https:\/\/\S+\/black\/heartbeat: expected HTTP 200 with release "release-2026-11-23\.2", got HTTP 200 with release "release-2026-11-20\.9"/);
        assert.match(r.stderr, /fix: .*--skip-gate/);
        assert.deepStrictEqual(h.mutatingCalls(), []);
        assert.deepStrictEqual((await h.history()), []);
    });

    it("a slot answering 5xx, or not at all, is refused too", async () => {
        h.stage.statuses.set("black", 502);
        let r = await h.run("flip", "black");
        assert.strictEqual(r.code, 3);
        assert.match(r.stderr, /got HTTP 502: \{"status":"ok"/);
        await h.stage.stop();
        r = await h.run("flip", "black");
        assert.strictEqual(r.code, 3);
        assert.match(r.stderr, /heartbeat: expected HTTP 200 with release "release-2026-11-23\.2", got fetch failed \(ECONNREFUSED\)/);
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });

    it("with ring:smokeTest, an authorized call with the test key (a secret) must answer 2xx; the key is never printed", async () => {
        h.setConfig("red", "ring:smokeTest", "GET /discovery/v1/catalogs");
        h.setConfig("red", "ring:smokeTestKey", { secure: `fake:${TEST_KEY}` });
        let r = await h.run("flip", "black", "--no-bake", "--json");
        assert.strictEqual(r.code, 0, r.stderr);
        const probe = h.stage.requests.find((q) => q.url === "/black/discovery/v1/catalogs");
        assert.strictEqual(probe?.apiKey, TEST_KEY, "sent in the slot's identity header (X-Api-Key, the program's default)");
        assert.deepStrictEqual(JSON.parse(r.stdout).gate.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [["heartbeat", true], ["probe", true]]);
        assert.ok(!r.stdout.includes(TEST_KEY) && !r.stderr.includes(TEST_KEY));

        h.setConfig("red", "ring:smokeTestKey", { secure: "fake:revoked-key-0123456789abcdef" });
        r = await h.run("rollback");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /GET https:\/\/\S+\/red\/discovery\/v1\/catalogs with the test key in X-Api-Key: expected HTTP 2xx, got HTTP 403: \{"message":"User is not authorized to access this resource"\}/);
        assert.ok(!r.stderr.includes("revoked-key"));
    });

    it("sends the test key where the target slot's authorizer reads it: a query parameter when its credentials travel there", async () => {
        h.setConfig("red", "ring:smokeTest", "GET /discovery/v1/catalogs");
        h.setConfig("red", "ring:smokeTestKey", { secure: `fake:${TEST_KEY}` });
        h.setConfig("black", "authorizer:credentialsLocation", "query");
        const r = await h.run("flip", "black", "--no-bake", "--json");
        assert.strictEqual(r.code, 0, r.stderr);
        const probe = h.stage.requests.find((q) => q.url.startsWith("/black/discovery/v1/catalogs"));
        assert.strictEqual(probe?.url, `/black/discovery/v1/catalogs?user_key=${TEST_KEY}`);
        assert.strictEqual(probe?.apiKey, undefined);
        assert.ok(!r.stdout.includes(TEST_KEY) && !r.stderr.includes(TEST_KEY));
    });

    it("a smoke-test key set in plain text is refused before anything runs", async () => {
        h.setConfig("red", "ring:smokeTest", "GET /discovery/v1/catalogs");
        h.setConfig("red", "ring:smokeTestKey", TEST_KEY);
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stderr, /ring:smokeTestKey: got a plain-text value; expected a secret/);
        assert.ok(!r.stderr.includes(TEST_KEY));
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });

    it("--skip-gate flips without the smoke test and records it", async () => {
        h.stage.statuses.set("black", 500);
        const r = await h.run("flip", "black", "--skip-gate", "--no-bake", "--reason", "stage URL blocked from CI");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(h.stage.requests, []);
        assert.match(r.stderr, /gate: skipped \(--skip-gate\); recorded in the history/);
        const [entry] = (await h.history());
        assert.deepStrictEqual([entry.gate, entry.why], ["skipped", "stage URL blocked from CI"]);
    });

    it("--dry-run runs the gate too (it changes nothing) and fails the same way", async () => {
        h.stage.releases.set("black", "old");
        const r = await h.run("flip", "black", "--dry-run");
        assert.strictEqual(r.code, 3);
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });

    it("gate options are for flip and rollback only (exit 2)", async () => {
        for (const args of [["deploy", "--skip-gate"], ["status", "--reason", "x"], ["rollback", "--no-bake"]]) {
            const r = await h.run(...args);
            assert.strictEqual(r.code, 2, args.join(" "));
        }
    });
});

describe("ring: the watch after a flip", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("watches the new live slot's alarms for ring:bakeMinutes and keeps the flip when none fires", async () => {
        h.setConfig("red", "ring:bakeMinutes", "5");
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), "black");
        const calls = h.cloudWatchMock.commandCalls(DescribeAlarmsCommand);
        assert.deepStrictEqual(calls[0].args[0].input.AlarmNames, BLACK_ALARMS);
        assert.strictEqual(calls.length, 5 * 60_000 / BAKE_POLL_MS + 1, "one read every poll, and one at the end");
        assert.ok(h.clock.sleeps.every((ms) => ms <= BAKE_POLL_MS));
        assert.match(r.stderr, /bake: watching 4 alarms of black for 5 min \(until 2026-11-23T10:05:00Z\)/);
        assert.match(r.stderr, /bake: 5 min without an alarm; black stays live/);
        assert.strictEqual(h.pointer().liveSlot, "black");
    });

    it("warns when an alarm needs longer to fire than the bake lasts, from what CloudWatch says of it", async () => {
        h.setConfig("red", "ring:bakeMinutes", "5");
        // One alarm as SlotWatch makes it with alarms:periodSeconds 300 and alarms:datapointsToAlarm 3 (a
        // metric-math alarm: the period is on its metrics); one on a plain metric, 60 s x 2.
        h.alarms.set(BLACK_ALARMS[0], { Metrics: [{ Id: "errors", MetricStat: { Metric: { MetricName: "5XXError" }, Period: 300, Stat: "Sum" } }], EvaluationPeriods: 3, DatapointsToAlarm: 3 });
        h.alarms.set(BLACK_ALARMS[1], { Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 0, r.stderr);
        const warnings = r.stderr.split("\n").filter((l) => l.includes("cannot fire within"));
        assert.deepStrictEqual(warnings, [`bake: warning: alarm ${BLACK_ALARMS[0]} needs 15 min of breaching data (3 periods of 300 s), so it cannot fire within the 5-min bake; raise ring:bakeMinutes on red`]);
    });

    it("an alarm during the bake flips back by itself, prints which alarm and why, records it, exit 4", async () => {
        const fired = { StateValue: "ALARM" as const, StateReason: "Threshold Crossed: 2 out of the last 3 datapoints [0.31, 0.12] were greater than the threshold (0.05)" };
        h.cloudWatchMock.on(DescribeAlarmsCommand)
            .resolvesOnce({ MetricAlarms: BLACK_ALARMS.map((n) => ({ AlarmName: n, StateValue: "OK" })) })
            .resolvesOnce({ MetricAlarms: BLACK_ALARMS.map((n) => ({ AlarmName: n, StateValue: "OK" })) })
            .resolves({ MetricAlarms: BLACK_ALARMS.map((n) => ({ AlarmName: n, StateValue: "OK", ...(n.endsWith("5xx-rate") ? fired : {}) })) });
        h.clearLog();
        const r = await h.run("flip", "black", "--reason", "release 2026-11-23.2");
        assert.strictEqual(r.code, 4, r.stderr);
        assert.strictEqual(r.stdout.trim(), "red", "stdout names the slot live at the end");
        assert.match(r.stderr, /bake: alarm api-ring-black-5xx-rate is ALARM: Threshold Crossed: 2 out of the last 3 datapoints/);
        assert.match(r.stderr, /rolled back: alarm api-ring-black-5xx-rate fired while black baked .*; the domain serves red again/);
        // Two updates of the live pointer's stack: the flip, then the flip back.
        assert.deepStrictEqual(h.callsOf("up").map((p) => [flag(p, "--stack"), p.flags.get("--target")]), [["live", undefined], ["live", undefined]]);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive], ["red", "black"]);
        const history = (await h.history());
        assert.deepStrictEqual(history.map((e) => [e.kind, e.from, e.to, e.gate]), [["flip", "red", "black", "passed"], ["auto-rollback", "black", "red", "not-run"]]);
        assert.strictEqual(history[1].why, `alarm api-ring-black-5xx-rate fired during the bake of black: ${fired.StateReason}`);
        assert.deepStrictEqual([history[1].fromRelease, history[1].toRelease], ["release-2026-11-23.2", "release-2026-11-23.1"]);
        assert.strictEqual(history[1].at, "2026-11-23T10:01:00Z", "two polls after the flip");
        assert.deepStrictEqual(h.pointer().ringHistory, history, "the live pointer's ringHistory output");
    });

    it("a flip back that fails leaves the live pointer exactly as the flip left it, and says so", async () => {
        h.alarms.set("api-ring-black-5xx-rate", { StateValue: "ALARM", StateReason: "Threshold Crossed" });
        h.failOn(["up", "ring auto-rollback to red (was black)"], "error: updating API Gateway Base Path Mapping (api.example.edu/): TooManyRequestsException", "live");
        const r = await h.run("flip", "black");
        assert.match(r.stderr, /flip back to slot "red" on stack live failed/);
        assert.match(r.stderr, /the live pointer did not change: the domain still points at black/);
        assert.match(r.stderr, /could NOT flip back by itself/);
        // What the forward flip left: live, previous, and a history of that flip alone.
        assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive], ["black", "red"]);
        assert.deepStrictEqual((await h.history()).map((e) => [e.kind, e.from, e.to]), [["flip", "red", "black"]]);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("black").restApiId, stage: "black" });
        assert.strictEqual(r.code, 4, r.stderr);
    });

    it("--json reports the bake and the flip back", async () => {
        h.alarms.set("api-ring-black-authorizer-errors", { StateValue: "ALARM", StateReason: "Threshold Crossed: 3 datapoints" });
        const r = await h.run("flip", "black", "--json");
        assert.strictEqual(r.code, 4, r.stderr);
        const j = JSON.parse(r.stdout);
        assert.strictEqual(j.live, "red");
        assert.deepStrictEqual([j.bake.fired.name, j.bake.flippedBackTo, j.bake.polls], ["api-ring-black-authorizer-errors", "red", 1]);
    });

    it("--no-bake and ring:bakeMinutes 0 skip the watch", async () => {
        let r = await h.run("flip", "black", "--no-bake");
        assert.strictEqual(r.code, 0, r.stderr);
        h.setConfig("red", "ring:bakeMinutes", "0");
        r = await h.run("flip", "red");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(h.cloudWatchMock.commandCalls(DescribeAlarmsCommand).length, 0);
    });

    it("a rollback is never baked", async () => {
        assert.strictEqual((await h.run("flip", "black", "--no-bake")).code, 0);
        h.alarms.set("api-ring-red-5xx-rate", { StateValue: "ALARM" });
        const r = await h.run("rollback", "--reason", "black misbehaves");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(h.cloudWatchMock.commandCalls(DescribeAlarmsCommand).length, 0);
        assert.deepStrictEqual((await h.history()).map((e) => [e.kind, e.why]), [["flip", "(no reason given: pass --reason)"], ["rollback", "black misbehaves"]]);
    });

    it("refuses to flip to a slot without alarms when a bake is due (exit 3), unless --no-bake", async () => {
        const st = h.state();
        delete st.stacks["api-ring/black"].outputs.alarmNames;
        h.writeState(st);
        let r = await h.run("flip", "black");
        assert.strictEqual(r.code, 3);
        assert.match(r.stderr, /slot "black" \(stack black\) exports no alarmNames, so the 10-minute bake after the flip would watch nothing/);
        assert.match(r.stderr, /fix: redeploy it so its alarms exist .* --no-bake/);
        assert.deepStrictEqual(h.mutatingCalls(), []);
        r = await h.run("flip", "black", "--no-bake");
        assert.strictEqual(r.code, 0, r.stderr);
    });

    it("alarms CloudWatch does not know are named; unreadable alarms stop the watch (exit 1) but the flip stands", async () => {
        h.cloudWatchMock.on(DescribeAlarmsCommand)
            .resolvesOnce({ MetricAlarms: BLACK_ALARMS.slice(1).map((n) => ({ AlarmName: n, StateValue: "OK" })) })
            .rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling" }));
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stderr, /bake: warning: alarm api-ring-black-5xx-rate does not exist in CloudWatch/);
        assert.match(r.stderr, /bake: could not read the alarms \(3\/3\): reading the alarms .* failed: Throttling: Rate exceeded/);
        assert.match(r.stderr, /the flip to black stands, but the bake stopped watching/);
        assert.strictEqual(r.stdout.trim(), "black");
        assert.strictEqual(h.pointer().liveSlot, "black");
    });
});

describe("ring: the history", function () {
    this.timeout(120_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("records every flip with time, from, to, releases, who, why and the gate, bounded by ring:historyLimit", async () => {
        h.setConfig("live", "ring:historyLimit", "3", h.liveDir);
        for (const [i, slot] of ["black", "red", "black", "red", "black"].entries()) {
            const r = await h.run("flip", slot, "--no-bake", "--reason", `release #${i + 1}`);
            assert.strictEqual(r.code, 0, r.stderr);
            h.clock.time += 60_000;
        }
        const history = (await h.history());
        assert.deepStrictEqual(history.map((e) => e.why), ["release #3", "release #4", "release #5"]);
        assert.deepStrictEqual(history[2], {
            at: "2026-11-23T10:04:00Z", kind: "flip", from: "red", to: "black",
            fromRelease: "release-2026-11-23.1", toRelease: "release-2026-11-23.2", by: history[2].by, why: "release #5", gate: "passed",
        });
        assert.match(history[2].by, /^ring-test \(.+\)$/, "the Pulumi user and the local account");
    });

    it("status shows the last entries; --json gives them as data", async () => {
        for (const slot of ["black", "red"]) assert.strictEqual((await h.run("flip", slot, "--no-bake", "--reason", `to ${slot}`)).code, 0);
        const text = (await h.run("status")).stdout;
        assert.match(text, /^history \(last 2 of 2; --json gives all\):$/m);
        assert.match(text, /^ {2}2026-11-23T10:00:00Z {2}flip red -> black \(release-2026-11-23\.1 -> release-2026-11-23\.2\) {2}by ring-test \(.+\) {2}gate passed {2}why: to black$/m);
        const j = JSON.parse((await h.run("status", "--json")).stdout);
        assert.deepStrictEqual(j.history.map((e: { to: string }) => e.to), ["black", "red"]);
    });

    it("status shows each slot's alarms", async () => {
        h.alarms.set("api-ring-black-latency-p99", { StateValue: "ALARM" });
        const r = await h.run("status");
        assert.match(r.stdout, /^alarms: red 5 OK; black 1 ALARM \(api-ring-black-latency-p99\), 4 OK$/m);
    });
});
