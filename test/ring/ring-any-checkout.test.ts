// A rollback works from any working tree (issue 16, item 1): the ring commands and the live pointer's
// program run from tsc's output (bin/, which tsc writes beside type errors) and read neither the slots'
// program nor the API document. These run them from checkouts broken in those ways, and pin the exact
// set of files a rollback does run (README, "Incident: roll back from any checkout").
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { runRing } from "../../ring/cli";
import { Harness } from "./harness";

/** The repository (its sources, as a clone has them). */
const REPO = path.resolve(__dirname, "../../..");
/** What a clone has besides the checkout's own project files, which the harness writes. */
const SOURCES = ["tsconfig.json", "components", "config", "openapi", "handlers", "policy", "ring", "preview", "local", "dev-servers", "test", "bench", "examples"];

/**
 * The project files (under bin/) that the ring commands and the live pointer's program load, as
 * sources: a rollback needs these to load, and nothing else of the checkout's code.
 */
const ROLLBACK_RUNS = [
    "components/domainFlip.ts", "config.ts", "config/alarms.ts", "config/authorizer.ts", "config/cache.ts", "config/domain.ts", "config/gateway.ts",
    "config/media-type.ts", "config/network.ts", "config/reader.ts", "config/region.ts", "config/ring.ts", "config/threescale.ts", "guards.ts", "handlers/bounded-body.ts", "handlers/credentials.ts",
    "handlers/jwt.ts", "handlers/metrics.ts", "handlers/routes.ts", "handlers/secrets.ts", "handlers/settings.ts", "live/change.ts", "live/cohorts.ts",
    "live/index.ts", "outputs.ts", "ring/aws.ts", "ring/cli.ts", "ring/flip.ts", "ring/gate.ts", "ring/migrate.ts", "ring/ops.ts", "ring/plan.ts",
    "ring/pointer.ts", "ring/status.ts", "ring/workspace.ts", "stack-config.ts",
];

/** The project modules a compiled entry point requires, followed through relative requires. */
function projectModules(binDir: string, entries: string[]): string[] {
    const seen = new Set<string>();
    const walk = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const m of fs.readFileSync(file, "utf8").matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
            const target = path.resolve(path.dirname(file), m[1]);
            const found = [`${target}.js`, path.join(target, "index.js")].find((f) => fs.existsSync(f));
            if (found) walk(found);
        }
    };
    for (const e of entries) walk(path.join(binDir, e));
    return [...seen].map((f) => path.relative(binDir, f).replace(/\.js$/, ".ts")).sort();
}

describe("ring: a rollback from a checkout whose slot program or document is broken", function () {
    this.timeout(600_000);
    let h: Harness;
    beforeEach(async () => {
        h = await Harness.create();
        h.deploy(["red", "black"], "red");
        // black is live, red before it: there is something to roll back to.
        h.changePointer({ live: "black", previousLive: "red" });
    });
    afterEach(async () => h?.cleanup());

    it("rolls back from a checkout whose API document does not parse (the slots' program fails there)", async () => {
        fs.writeFileSync(path.join(h.dir, "api", "openapi.yaml"), "swagger: [\n  unterminated\n");
        const slotUp = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "red"]);
        assert.strictEqual(slotUp.code, 255, "the slot program cannot run from this checkout");
        assert.match(slotUp.stdout, /gateway:spec: cannot use api\/openapi\.yaml/);
        const r = await h.run("rollback", "--reason", "5XX on black");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.strictEqual(r.stdout.trim(), "red");
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        assert.deepStrictEqual([h.pointer().liveSlot, h.pointer().previousLive], ["red", "black"]);
    });

    it("rolls back with the ring commands built from a checkout whose slot program does not compile (index.ts and openapi.ts)", async () => {
        // A clone's sources, with index.ts and openapi.ts broken (tsc reports syntax errors and writes JavaScript that does not load), built as the README says.
        for (const entry of SOURCES) {
            fs.rmSync(path.join(h.dir, entry), { recursive: true, force: true });
            fs.cpSync(path.join(REPO, entry), path.join(h.dir, entry), { recursive: true, filter: (src) => !src.endsWith(".lambda") });
        }
        for (const file of fs.readdirSync(REPO).filter((f) => f.endsWith(".ts"))) fs.copyFileSync(path.join(REPO, file), path.join(h.dir, file));
        for (const file of fs.readdirSync(path.join(REPO, "live")).filter((f) => f.endsWith(".ts"))) fs.copyFileSync(path.join(REPO, "live", file), path.join(h.dir, "live", file));
        fs.appendFileSync(path.join(h.dir, "index.ts"), `\nexport const releaseNumber: number = ;\n`);
        fs.appendFileSync(path.join(h.dir, "openapi.ts"), `\nexport function unfinished(spec: string {\n`);
        fs.rmSync(path.join(h.dir, "bin"));
        const build = spawnSync(process.execPath, [path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: h.dir, encoding: "utf8" });
        assert.notStrictEqual(build.status, 0, "the build reports the errors");
        assert.match(build.stdout, /^index\.ts\(\d+,\d+\): error TS1109/m);
        assert.match(build.stdout, /^openapi\.ts\(\d+,\d+\): error TS1005/m);
        assert.doesNotMatch(build.stdout, /^(ring|live|config|components)\//m, "nothing a rollback runs has an error");

        const slotUp = h.pulumi(["up", "--yes", "--skip-preview", "--stack", "red"]);
        assert.strictEqual(slotUp.code, 255, "the slot program cannot run from this checkout");

        // The ring commands of this checkout's bin/, driving the live pointer's program of the same bin/.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the checkout's own build, loaded as `npm run ring` would
        const built = require(path.join(h.dir, "bin", "ring", "cli.js")) as { runRing: typeof runRing };
        const r = await h.runWith(built.runRing, "rollback", "--reason", "5XX on black");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.strictEqual(r.stdout.trim(), "red");
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" });
        const update = h.callsOf("up").pop();
        assert.ok(update && update.flags.get("--stack")?.[0] === "live", "one update, of the live pointer's stack");
    });

    it("a rollback runs exactly the files the README names, and neither the slots' program nor the document's reader", () => {
        const runs = projectModules(path.join(REPO, "bin"), ["ring/cli.js", "live/index.js"]);
        assert.deepStrictEqual(runs, ROLLBACK_RUNS);
        for (const notRun of ["index.ts", "openapi.ts", "components/gatewayRing.ts"]) assert.ok(!runs.includes(notRun), notRun);
        const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
        const incident = readme.slice(readme.indexOf("### Incident: roll back from any checkout"), readme.indexOf("### What is live, and drift"));
        for (const named of ["`ring/`", "`live/`", "`config.ts`", "`config/`", "`guards.ts`", "`outputs.ts`", "`stack-config.ts`", "`components/domainFlip.ts`",
            ...ROLLBACK_RUNS.filter((f) => f.startsWith("handlers/")).map((f) => `\`${path.basename(f, ".ts")}\``)]) {
            assert.ok(incident.includes(named), `the README's incident procedure names ${named}`);
        }
    });
});
