// The live pointer under the real Pulumi engine's rules (issue 16, problems 1 to 3): the stand-in
// `pulumi` runs the real program of every stack it updates, a targeted update included, so a flip,
// a rollback and an automatic flip-back are tested against what the engine would do with them.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { bakeAlarmNames, slotAlarmNames } from "../../outputs";
import { Harness, eachTestDeployed } from "./harness";

/** Every stack file of the checkout (Pulumi.*.yaml, in any project folder of it), by path. */
function stackFiles(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && /^Pulumi\..+\.yaml$/.test(entry.name)) {
            const full = path.join(entry.parentPath, entry.name);
            out[path.relative(dir, full)] = fs.readFileSync(full, "utf8");
        }
    }
    return out;
}

describe("ring: the live pointer under the engine's rules", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    it("rolls back from a checkout whose document differs from the slot's deployed one (problem 1)", async () => {
        // Release 2 goes to black and live; the incident is handled from a checkout already at release 3.
        h.editSpec("2.0.0");
        h.up("black");
        let r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 0, r.stderr);
        h.editSpec("3.0.0");
        const red = h.outputs("red");
        r = await h.run("rollback", "--reason", "black misbehaves");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.strictEqual(r.stdout.trim(), "red");
        assert.deepStrictEqual(h.awsMapping(), { restApiId: red.restApiId, stage: "red" });
        assert.deepStrictEqual(h.outputs("red"), red, "the rollback left red's outputs as red's own deploy left them");
    });

    it("flips from a checkout whose program fails (its document does not parse)", async () => {
        fs.writeFileSync(path.join(h.dir, "api", "openapi.yaml"), "swagger: [\"2.0\"\n  this is not YAML: {\n");
        const r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("black").restApiId, stage: "black" });
    });

    it("a flip leaves every slot's outputs as its own deploy left them, whatever the checkout says (problem 2)", async () => {
        const before = { red: h.outputs("red"), black: h.outputs("black") };
        // The next release is being prepared in this checkout: another document, another release id for red.
        h.editSpec("2.0.0");
        h.setConfig("red", "gateway:releaseId", "release-2026-11-24.1");
        const r = await h.run("flip", "black", "--no-bake");
        assert.strictEqual(r.code, 0, `${r.stderr}\n${r.pulumiOutput}`);
        assert.deepStrictEqual({ red: h.outputs("red"), black: h.outputs("black") }, before);
        const status = JSON.parse((await h.run("status", "--json")).stdout) as { slots: { slot: string; releaseId: string; specSha256: string }[] };
        assert.deepStrictEqual(status.slots.map((s) => [s.slot, s.releaseId, s.specSha256]),
            [["red", before.red.releaseId, before.red.specSha256], ["black", before.black.releaseId, before.black.specSha256]],
            "status shows the release each slot actually serves");
    });

    it("an automatic flip-back leaves the slots' outputs as their deploys left them", async () => {
        const before = { red: h.outputs("red"), black: h.outputs("black") };
        h.editSpec("2.0.0");
        h.alarms.set(bakeAlarmNames(slotAlarmNames("api-ring", "black"))[0], { StateValue: "ALARM", StateReason: "Threshold Crossed" });
        const r = await h.run("flip", "black");
        assert.strictEqual(r.code, 4, `${r.stderr}\n${r.pulumiOutput}`);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: before.red.restApiId, stage: "red" });
        assert.deepStrictEqual({ red: h.outputs("red"), black: h.outputs("black") }, before);
    });

    it("what is live and the history never land in a committed file (problem 3)", async () => {
        const before = stackFiles(h.dir);
        let r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 0, r.stderr);
        r = await h.run("rollback", "--reason", "back");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(stackFiles(h.dir), before);
    });

    it("a plain `pulumi up` of any slot from another clone changes neither what is live nor the history (problem 3)", async () => {
        const clone = h.cloneProject();
        const r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 0, r.stderr);
        const black = { restApiId: h.outputs("black").restApiId, stage: "black" };
        for (const slot of ["red", "black"]) {
            const up = h.pulumi(["up", "--yes", "--skip-preview", "--stack", slot], clone);
            // The live slot's own redeploy may be refused by its guard; it must never move the pointer.
            assert.ok(up.code === 0 || slot === "black", `${slot}: ${up.stdout}\n${up.stderr}`);
            assert.deepStrictEqual(h.awsMapping(), black, `after pulumi up -s ${slot} from another clone`);
        }
        const status = JSON.parse((await h.run("status", "--json")).stdout) as { live: string; drift?: unknown; history: { kind: string; to: string }[] };
        assert.strictEqual(status.live, "black");
        assert.strictEqual(status.drift, undefined);
        assert.deepStrictEqual(status.history.map((e) => [e.kind, e.to]), [["flip", "black"]]);
    });
});
