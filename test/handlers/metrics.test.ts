// The handlers' CloudWatch figures (handlers/metrics.ts): the wrappers run in a fresh Node
// process, as in Lambda, and what Powertools writes to stdout is parsed as the embedded metric
// format CloudWatch reads: namespace, dimension sets, metric names, units and values.
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { createMetrics, metricsEnvironment } from "../../handlers/metrics";

const METRICS_JS = path.resolve(__dirname, "../../handlers/metrics.js");
const THREESCALE_JS = path.resolve(__dirname, "../../handlers/threescale.js");

/** One EMF record: the `_aws` directive plus the dimension and metric values at the top level. */
interface EmfRecord {
    _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
    [key: string]: unknown;
}

/** Runs `script` (with `m` the metrics module) in a new process with `env`; returns the EMF records it printed and the rest. */
function runScript(script: string, env: Record<string, string>): Promise<{ records: EmfRecord[]; other: string[] }> {
    const driver = `const m = require(${JSON.stringify(METRICS_JS)});
        const t = require(${JSON.stringify(THREESCALE_JS)});
        (async () => { ${script} })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-e", driver], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) => {
            if (error) return reject(new Error(`${error.message}\n${stderr}`));
            const lines = stdout.split("\n").filter((l) => l.trim() !== "");
            const records = lines.filter((l) => l.startsWith("{") && l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfRecord);
            resolve({ records, other: lines.filter((l) => !l.includes('"_aws"')) });
        });
    });
}

function metricNames(r: EmfRecord): string[] {
    return r._aws.CloudWatchMetrics[0].Metrics.map((x) => x.Name);
}

const ENV = metricsEnvironment("api-ring-red");

describe("handler metrics (embedded metric format through Powertools)", function () {
    this.timeout(30_000);
    let threescale: FakeThreescale;
    before(async () => {
        threescale = await startThreescale({ apps: [{ id: "app-1", userKey: "metrics-key-0123456789abcdef", plan: "Basic" }] });
    });
    after(async () => threescale?.close());

    it("counts each authorizer answer by source, written together at most once a second, and refused tokens at once", async () => {
        // A clock the script moves: decisions within a second of the last write wait for the next one.
        const { records, other } = await runScript(`
            let clock = 1_800_000_000_000;
            const handler = m.instrumentAuthorizer(async (e) => {
                if (e === "malformed") throw new Error("Unauthorized");
                if (e === "crash") throw new Error("ECONNRESET");
                return { principalId: "app-1", policyDocument: { Version: "2012-10-17", Statement: [] }, context: { source: e } };
            }, m.createMetrics(process.env), "Unauthorized", () => clock);
            const at = (ms, e) => { clock = 1_800_000_000_000 + ms; return handler(e).catch(() => undefined); };
            await at(0, "cache"); await at(10, "cache"); await at(20, "3scale"); await at(30, "malformed"); await at(40, "crash");
            console.log("-- one second later");
            await at(1000, "cache");
            await at(1500, "fail-closed");
            console.log("-- after an idle minute");
            await at(61_500, "cache");`, ENV);
        assert.deepStrictEqual(other.filter((l) => !l.startsWith("--")), [], "nothing but EMF on stdout");
        for (const r of records) {
            assert.strictEqual(r._aws.CloudWatchMetrics[0].Namespace, "api-ring");
            assert.strictEqual(r.service, "api-ring-red");
        }
        const t = (ms: number) => 1_800_000_000_000 + ms;
        // What was written when: [source or "rejected", value, timestamp].
        const written = records.map((r) => metricNames(r).includes("RejectedTokens")
            ? ["rejected", r.RejectedTokens, r._aws.Timestamp, r._aws.CloudWatchMetrics[0].Dimensions]
            : [r.source, r.Decisions, r._aws.Timestamp, r._aws.CloudWatchMetrics[0].Dimensions]);
        const bySource = [["service", "source"]];
        assert.deepStrictEqual(written, [
            // A refused token is written at once, beside Lambda's own Errors for the fault alarm.
            ["rejected", 1, t(30), [["service"]]],
            // A second after the container started (so a cold start writes nothing, and loads no metrics
            // library for it), the held decisions: one line a source, stamped with the last one's time.
            ["cache", 3, t(1000), bySource],
            ["3scale", 1, t(1000), bySource],
            // Held through an idle minute, written by the next invocation with the time they were made.
            ["fail-closed", 1, t(1500), bySource],
            ["cache", 1, t(61_500), bySource],
        ]);
        assert.ok(!written.some((w) => w[0] === "crash"), "the crash counts nothing (Lambda counts it as an error)");
    });

    it("times each 3scale authorization call (authorize.xml on a miss, authrep.xml) by service, through the real client", async () => {
        const { records } = await runScript(`
            const client = m.timeThreescale(t.createThreescaleClient({ backendUrl: ${JSON.stringify(threescale.url)}, serviceId: ${JSON.stringify(threescale.serviceId)},
                serviceToken: ${JSON.stringify(threescale.serviceToken)}, timeoutMs: 2000 }), m.createMetrics(process.env));
            const a = await client.authorize({ userKey: "metrics-key-0123456789abcdef" });
            const b = await client.authorize({ userKey: "unknown-key-0123456789abcdef" });
            const c = await client.authrep({ userKey: "metrics-key-0123456789abcdef" }, { hits: 1 });
            if (a.kind !== "authorized" || b.kind !== "denied" || c.kind !== "authorized") throw new Error(JSON.stringify([a, b, c]));`, ENV);
        assert.strictEqual(threescale.count("/transactions/authorize.xml"), 2);
        assert.strictEqual(threescale.count("/transactions/authrep.xml"), 1);
        assert.strictEqual(records.length, 3);
        for (const r of records) {
            assert.deepStrictEqual(r._aws.CloudWatchMetrics[0].Metrics, [{ Name: "ThreescaleLatency", Unit: "Milliseconds" }]);
            assert.deepStrictEqual(r._aws.CloudWatchMetrics[0].Dimensions, [["service"]]);
            assert.ok(typeof r.ThreescaleLatency === "number" && r.ThreescaleLatency > 0 && r.ThreescaleLatency < 2000, String(r.ThreescaleLatency));
        }
    });

    it("counts what the reporter reported, kept apart or could not check, taken with no witness, and its failed runs", async () => {
        const { records } = await runScript(`
            const run = (hits, calls, rejected, expired, refused, unverified, atRisk) => ({ hits, calls, rejected, expired, refused, reconciled: { unverified }, verified: { unverified: 1 }, atRisk });
            const ok = m.instrumentReporter(async () => ({ runs: [run(3, 1, 2, 1, 0, 0, 3), run(2, 1, 0, 0, 4, 5, 0)] }), m.createMetrics(process.env));
            await ok({});
            const failing = m.instrumentReporter(async () => { throw new Error("3scale answered 503"); }, m.createMetrics(process.env));
            await failing({}).catch(() => undefined);`, ENV);
        assert.deepStrictEqual(records.map((r) => [r.ReportedHits, r.ReportCalls, r.RejectedHits, r.RefusedHits, r.UnverifiedHits, r.AtRiskHits, r.ReportFailures]),
            [[5, 2, 3, 4, 7, 3, undefined], [undefined, undefined, undefined, undefined, undefined, undefined, 1]]);
    });

    it("publishes nothing without a service name (tests, the local run): the handlers are returned as they are", async () => {
        assert.strictEqual(createMetrics({}), undefined);
        const { records, other } = await runScript(`
            const h = async () => ({ principalId: "x", policyDocument: { Version: "2012-10-17", Statement: [] }, context: { source: "cache" } });
            if (m.instrumentAuthorizer(h, m.createMetrics(process.env), "Unauthorized") !== h) throw new Error("wrapped");
            await h();`, {});
        assert.deepStrictEqual([records, other], [[], []]);
    });
});
