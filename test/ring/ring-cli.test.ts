// End-to-end tests of the ring commands through the Automation API, against the stand-in
// `pulumi` (fake-pulumi.ts), in-process (runRing, with the AWS SDK clients stubbed) and as the
// compiled CLI's own process (bin/ring/cli.js, real clients). Asserts on the CLI calls it records.
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { LIVE_CHANGE_ENV } from "../../live/change";
import { Harness, eachTestDeployed, flag } from "./harness";

describe("ring CLI (against a stand-in pulumi)", function () {
    this.timeout(300_000);
    let h: Harness;
    afterEach(async () => h?.cleanup());

    describe("usage", () => {
        beforeEach(async () => { h = await Harness.create(); });
        it("--help prints the commands and exit codes, runs no pulumi", async () => {
            const r = await h.run("--help");
            assert.strictEqual(r.code, 0, r.stderr);
            for (const s of ["deploy", "flip <slot>", "rollback", "status", "--dry-run", "Exit codes", "3  a guard refused"]) assert.ok(r.stdout.includes(s), s);
            assert.deepStrictEqual(h.calls(), []);
        });
        it("each command has --help", async () => {
            for (const c of ["deploy", "flip", "rollback", "status", "cohort", "migrate"]) {
                const r = await h.run(c, "--help");
                assert.strictEqual(r.code, 0);
                assert.match(r.stdout, new RegExp(`^Usage: ring ${c}`));
            }
            assert.deepStrictEqual(h.calls(), []);
        });
        it("unknown command, unknown option, missing slot, extra arguments: exit 2", async () => {
            assert.strictEqual((await h.run("explode")).code, 2);
            assert.strictEqual((await h.run("status", "--frobnicate")).code, 2);
            const r = await h.run("flip");
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /flip needs the slot/);
            assert.strictEqual((await h.run("status", "extra")).code, 2);
            assert.strictEqual((await h.run()).code, 2);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
    });

    describe("first deploy of both slots", () => {
        beforeEach(async () => { h = await Harness.create(); });
        it("deploys the primary first (nothing live), creating its stack and the live pointer's, and prints the slot", async () => {
            const r = await h.run("deploy");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "red");
            assert.deepStrictEqual(h.calls().filter((c) => c.argv[0] === "stack" && c.argv[1] === "init").map((c) => [c.argv[2], c.cwd]),
                [["live", h.liveDir], ["red", h.dir]]);
            const ups = h.callsOf("up");
            assert.strictEqual(ups.length, 1);
            assert.strictEqual(flag(ups[0], "--stack"), "red");
            assert.ok(ups[0].bools.has("--yes"));
            assert.strictEqual(ups[0].flags.get("--target"), undefined);
            assert.match(r.stderr, /stage URL https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com\/red/);
            assert.match(r.stderr, /created the live pointer's stack live \(live\/\); nothing is live until the first flip/);
            assert.strictEqual(h.awsMapping(), undefined, "a deploy never maps the domain");
        });
        it("then the first flip makes it live, and the next deploy goes to the next slot", async () => {
            assert.strictEqual((await h.run("deploy")).code, 0);
            const flip = await h.run("flip", "red", "--no-bake", "--reason", "first release");
            assert.strictEqual(flip.code, 0, flip.stderr);
            assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
            h.clearLog();
            const r = await h.run("deploy");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "black");
            assert.deepStrictEqual(h.callsOf("up").map((p) => flag(p, "--stack")), ["black"]);
        });
        it("refuses a secondary slot before the primary exists (guard, no up)", async () => {
            const r = await h.run("deploy", "black");
            assert.strictEqual(r.code, 3, r.stderr);
            assert.match(r.stderr, /slot "black" \(stack black\).*primary "red"/s);
            assert.match(r.stderr, /fix: deploy the primary first/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
    });

    describe("release to the idle slot", () => {
        beforeEach(async () => {
            h = await Harness.create();
            h.deploy(["red", "black"], "red");
        });
        it("runs up on the idle slot, never the live one", async () => {
            const r = await h.run("deploy");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout, "black\n");
            const ups = h.callsOf("up");
            assert.deepStrictEqual(ups.map((p) => flag(p, "--stack")), ["black"]);
            assert.deepStrictEqual(h.callsOf("stack", "init"), []);
            assert.ok(!h.mutatingCalls().some((p) => flag(p, "--stack") === "red" && p.words[0] === "up"));
        });
        it("wraps: black live -> deploys red", async () => {
            h.deploy(["red", "black"], "black");
            const r = await h.run("deploy");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "red");
            assert.deepStrictEqual(h.callsOf("up").map((p) => flag(p, "--stack")), ["red"]);
        });
        it("live slot outside the ring (the seed's bootstrap stage, mapping adopted) -> first slot", async () => {
            // What is live comes from AWS now: the domain serves the seed's API, whose mapping the
            // primary's state holds (adopted with `pulumi import`) before the primary's first deploy.
            await h.cleanup();
            h = await Harness.create();
            h.adoptMapping({ restApiId: "seed0api00", stage: "bootstrap" });
            const r = await h.run("deploy", "--json", "--dry-run");
            assert.strictEqual(r.code, 0, r.stderr);
            const j = JSON.parse(r.stdout);
            assert.strictEqual(j.slot, "red");
            assert.match(j.reason, /the live slot bootstrap \(api seed0api00\) is not in the ring/);
        });
        it("refuses the live slot: exit 3, no up", async () => {
            const r = await h.run("deploy", "red");
            assert.strictEqual(r.code, 3);
            assert.match(r.stderr, /slot "red" \(stack red\) is live/);
            assert.match(r.stderr, /fix: release to an idle slot/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("refuses a slot outside the ring: exit 3, no up", async () => {
            const r = await h.run("deploy", "green");
            assert.strictEqual(r.code, 3);
            assert.match(r.stderr, /"green" is not in the ring/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("--dry-run prints the up it would run and changes nothing", async () => {
            const before = JSON.stringify(h.state());
            const r = await h.run("deploy", "--dry-run");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "would run: pulumi up --yes --skip-preview --stack black");
            assert.deepStrictEqual(h.mutatingCalls(), []);
            assert.strictEqual(JSON.stringify(h.state()), before);
        });
        it("--json reports slot, stack and stage URL", async () => {
            const r = await h.run("deploy", "--json");
            assert.strictEqual(r.code, 0, r.stderr);
            const j = JSON.parse(r.stdout);
            assert.strictEqual(j.slot, "black");
            assert.strictEqual(j.stack, "black");
            assert.strictEqual(j.live, "red");
            assert.match(j.invokeUrl, /\/black$/);
            assert.strictEqual(j.releaseId, "release-2026-11-23.2");
        });
        it("a failing up exits 1 and names the slot, the stack and the fix", async () => {
            h.failOn(["up"], "error: creating API Gateway Deployment: BadRequestException: boom", "black");
            const r = await h.run("deploy");
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.stdout, "");
            assert.match(r.stderr, /deploying slot "black" on stack black failed/);
            assert.match(r.stderr, /BadRequestException: boom/);
            assert.match(r.stderr, /fix: .*live slot red was not touched/);
        });
        it("--org qualifies the stack names", async () => {
            const r = await h.run("deploy", "--org", "acme", "--dry-run");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /--stack acme\/black/);
            assert.ok(h.calls().every((c) => !c.argv.includes("--stack") || c.argv[c.argv.indexOf("--stack") + 1].startsWith("acme/")));
        });
    });

    describe("flip", () => {
        beforeEach(async () => {
            h = await Harness.create();
            h.deploy(["red", "black"], "red");
        });
        it("is one update of the live pointer's stack, the flip in its environment: no config set, no slot's stack touched", async () => {
            const slots = { red: h.stack("red"), black: h.stack("black") };
            const r = await h.run("flip", "black");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "black");
            const mutating = h.mutatingCalls();
            assert.deepStrictEqual(mutating.map((p) => [p.words[0], flag(p, "--stack")]), [["stack", "live"], ["up", "live"]], "select the live pointer's stack, update it");
            assert.strictEqual(h.calls().find((c) => c.argv[0] === "up")?.cwd, h.liveDir);
            assert.strictEqual(h.callsOf("up")[0].flags.get("--target"), undefined);
            assert.deepStrictEqual(h.callsOf("config", "set"), []);
            assert.deepStrictEqual({ red: h.stack("red"), black: h.stack("black") }, slots);
            assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive], ["black", "red"]);
            assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("black").restApiId, stage: "black" });
            assert.deepStrictEqual((await h.history()).map((e) => [e.kind, e.from, e.to]), [["flip", "red", "black"]]);
        });
        it("status then shows black live", async () => {
            await h.run("flip", "black");
            const r = await h.run("status", "--json");
            const j = JSON.parse(r.stdout);
            assert.strictEqual(j.live, "black");
            assert.strictEqual(j.previousLive, "red");
        });
        it("refuses a slot outside the ring: exit 3, nothing run", async () => {
            const r = await h.run("flip", "green");
            assert.strictEqual(r.code, 3);
            assert.match(r.stderr, /"green" is not in the ring/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("refuses a slot never deployed: exit 3, nothing run", async () => {
            await h.cleanup();
            h = await Harness.create();
            h.deploy(["red"], "red");
            h.createStacks("black");
            const r = await h.run("flip", "black");
            assert.strictEqual(r.code, 3);
            assert.match(r.stderr, /slot "black" \(stack black\) has never been deployed/);
            assert.match(r.stderr, /fix: deploy it first/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("refuses a slot whose stack does not exist: exit 3", async () => {
            await h.cleanup();
            h = await Harness.create();
            h.deploy(["red"], "red");
            const r = await h.run("flip", "black");
            assert.strictEqual(r.code, 3);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("flip to the live slot is a no-op (exit 0, nothing run)", async () => {
            const r = await h.run("flip", "red");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "red");
            assert.match(r.stderr, /already live/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("--dry-run prints the live pointer's update, the change in its environment, and changes nothing", async () => {
            const before = JSON.stringify(h.state());
            const r = await h.run("flip", "black", "--dry-run");
            assert.strictEqual(r.code, 0, r.stderr);
            const lines = r.stdout.trim().split("\n");
            assert.strictEqual(lines.length, 1);
            const m = new RegExp(`^would run: \\(cd live && ${LIVE_CHANGE_ENV}='(.*)' pulumi up --yes --skip-preview --stack live\\)$`).exec(lines[0]);
            assert.ok(m, lines[0]);
            const change = JSON.parse(m[1]);
            assert.deepStrictEqual([change.expectedLive, change.live, change.previousLive, change.cohorts], ["red", "black", "red", []]);
            assert.deepStrictEqual([change.record.kind, change.record.from, change.record.to, change.record.at], ["flip", "red", "black", "2026-11-23T10:00:00Z"]);
            assert.deepStrictEqual(h.mutatingCalls(), []);
            assert.strictEqual(JSON.stringify(h.state()), before);
        });
        it("a failing update exits 1, names the live pointer's stack, and changes nothing", async () => {
            h.failOn(["up"], "error: updating API Gateway Base Path Mapping (api.example.edu/): TooManyRequestsException: Too Many Requests", "live");
            const r = await h.run("flip", "black");
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /flip to slot "black" on stack live failed:\nerror: updating API Gateway Base Path Mapping/);
            assert.match(r.stderr, /fix: the live pointer did not change: the domain still points at red/);
            assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().ringHistory], ["red", []]);
            assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        });
    });

    describe("rollback", () => {
        beforeEach(async () => {
            h = await Harness.create();
            h.deploy(["red", "black"], "red");
        });
        it("flips back to the slot live before the last flip", async () => {
            assert.strictEqual((await h.run("flip", "black")).code, 0);
            h.clearLog();
            const r = await h.run("rollback");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stdout.trim(), "red");
            const ups = h.callsOf("up");
            assert.deepStrictEqual(ups.map((p) => [flag(p, "--stack"), p.flags.get("--target")]), [["live", undefined]]);
            assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive], ["red", "black"]);
            assert.deepStrictEqual((await h.history()).map((e) => [e.kind, e.from, e.to]), [["flip", "red", "black"], ["rollback", "black", "red"]]);
        });
        it("refuses when no previous live slot is recorded: exit 3, names the fix", async () => {
            const r = await h.run("rollback");
            assert.strictEqual(r.code, 3);
            assert.match(r.stderr, /no previous live slot is recorded \(the live pointer's stack live has no previousLive\)/);
            assert.match(r.stderr, /fix: flip explicitly/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("--dry-run runs nothing that changes state", async () => {
            await h.run("flip", "black");
            h.clearLog();
            const r = await h.run("rollback", "--dry-run");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /would run: \(cd live && API_RING_LIVE_CHANGE='\{"expectedLive":"black","live":"red","previousLive":"black"/);
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
    });

    describe("status", () => {
        it("prints every slot's stage URL, spec hash, release id and the live slot", async () => {
            h = await Harness.create({ order: ["red", "black", "blue"] });
            h.deploy(["red", "black"], "black");
            const r = await h.run("status");
            assert.strictEqual(r.code, 0, r.stderr);
            const lines = r.stdout.trim().split("\n");
            assert.match(lines[0], /order \[red, black, blue\], primary red/);
            assert.match(lines[1], /^live: black \(https:\/\/api\.example\.edu\/\)/);
            assert.match(r.stdout, /^red \(primary\)\s+red\s+https:\/\/[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com\/red\s+[0-9a-f]{12}\s+release-2026-11-23\.1$/m);
            assert.match(r.stdout, /^black\s+\*\s+black\s+https:\/\/[a-z0-9]{10}.*\/black\s+[0-9a-f]{12}\s+release-2026-11-23\.2$/m);
            assert.match(r.stdout, /^blue\s+blue\s+never deployed/m);
            assert.ok(!r.stdout.includes("s3cr3t"), "no secret output is printed");
            assert.deepStrictEqual(h.mutatingCalls(), []);
        });
        it("--json gives the same as data", async () => {
            h = await Harness.create();
            h.deploy(["red", "black"], "red");
            const r = await h.run("status", "--json");
            assert.strictEqual(r.code, 0, r.stderr);
            const j = JSON.parse(r.stdout);
            assert.deepStrictEqual(j.order, ["red", "black"]);
            assert.strictEqual(j.primary, "red");
            assert.strictEqual(j.live, "red");
            assert.deepStrictEqual(j.slots.map((s: { slot: string; live: boolean }) => [s.slot, s.live]), [["red", true], ["black", false]]);
            assert.strictEqual(j.slots[1].specSha256.length, 64);
            assert.ok(!r.stdout.includes("s3cr3t"));
        });
        it("works before anything is deployed", async () => {
            h = await Harness.create();
            const r = await h.run("status", "--json");
            assert.strictEqual(r.code, 0, r.stderr);
            const j = JSON.parse(r.stdout);
            assert.strictEqual(j.live, undefined);
            assert.ok(j.slots.every((s: { deployed: boolean }) => !s.deployed));
        });
        it("a broken backend exits 1 and names the stack", async () => {
            h = await Harness.create();
            h.deploy(["red"], "red");
            h.failOn(["stack", "output"], "error: [403] Forbidden: you do not have access", "black");
            const r = await h.run("status");
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /reading outputs on stack black failed/);
            assert.match(r.stderr, /403/);
        });
    });

    describe("a non-default ring", () => {
        it("three slots with black as primary: deploy follows ring:order, the flip goes through the live pointer", async () => {
            h = await Harness.create({ order: ["red", "black", "blue"], primary: "black" });
            h.deploy(["black", "red", "blue"], "black");
            let r = await h.run("deploy", "--dry-run", "--json");
            assert.strictEqual(JSON.parse(r.stdout).slot, "blue");
            r = await h.run("flip", "blue");
            assert.strictEqual(r.code, 0, r.stderr);
            assert.deepStrictEqual(h.callsOf("up").map((p) => flag(p, "--stack")), ["live"]);
            assert.strictEqual(h.pointer().liveSlot, "blue");
            r = await h.run("deploy", "--dry-run", "--json");
            assert.strictEqual(JSON.parse(r.stdout).slot, "red");
        });
    });
});

describe("ring CLI: project directory", function () {
    this.timeout(300_000);
    it("--cwd without Pulumi.yaml is a usage error (exit 2), before any pulumi call", async () => {
        const h = await Harness.create();
        try {
            const r = await h.run("status", "--cwd", h.binDir);
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /holds no Pulumi\.yaml/);
            assert.deepStrictEqual(h.calls(), []);
        } finally {
            await h.cleanup();
        }
    });
});

describe("ring CLI: the command line as a process (real AWS SDK clients)", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("--help and usage errors need neither pulumi nor AWS", () => {
        const help = h.runProcess(["--help"]);
        assert.strictEqual(help.code, 0, help.stderr);
        assert.match(help.stdout, /4 {2}flip only: an alarm fired while the new live slot baked/);
        const flipHelp = h.runProcess(["flip", "--help"]).stdout;
        for (const s of ["--skip-gate", "--no-bake", "--override-drift", "--reason <text>", "ring:bakeMinutes"]) assert.ok(flipHelp.includes(s), s);
        assert.strictEqual(h.runProcess(["flip"]).code, 2);
        assert.deepStrictEqual(h.calls(), []);
    });

    it("reads the mapping with the real API Gateway client: an unreachable endpoint stops the flip (exit 1), naming the call", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        const r = h.runProcess(["flip", "black"], {
            AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "example", AWS_EC2_METADATA_DISABLED: "true",
        });
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stderr, /reading the live mapping of api\.example\.edu\/ from AWS \(GetBasePathMapping\) failed: .*ECONNREFUSED/);
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });
});
