// What the metrics library costs in a cold start of the shipped Lambda archives
// (figures, not timed tests). Builds the archives exactly as the program does (the offline
// preview), then, in fresh Node processes as Lambda starts them:
//   - loads each archive's entry module, __index.js (its handler factory runs at load: settings, clients),
//     with the metrics library, and without it (the package preloaded as an empty module, no
//     service configured), alternating, ROUNDS times each;
//   - loads the metrics library alone;
//   - times counting one decision per invocation: held and written once a second (as shipped), and one EMF line each.
// Run: npm run bench -- metrics
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ARCHIVE_ENTRY, archivedBundleDir } from "../handler-archive";
import { metricsEnvironment } from "../handlers/metrics";
import { DEFAULT_CREDENTIALS, settingsToEnvironment } from "../handlers/settings";
import { previewStack } from "../preview/cli";

const ROUNDS = 41;
const INVOCATIONS = 20_000;
const LIBRARY = "@aws-lambda-powertools/metrics";

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `script` in a fresh node in `cwd`; the script prints one number (ms) on stderr. */
function timed(cwd: string, script: string, env: Record<string, string>, preload?: string): number {
    const args = [...(preload ? ["-r", preload] : []), "-e", script];
    const child = spawnSync(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
    const value = Number(child.stderr.trim().split("\n").pop());
    if (child.status !== 0 || !Number.isFinite(value)) throw new Error(`bench process failed: ${child.stderr}`);
    return value;
}

const loadScript = (file: string) =>
    `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); process.stderr.write(String(Number(process.hrtime.bigint() - t) / 1e6)); process.exit(0);`;

function summary(samples: number[]): string {
    const sorted = [...samples].sort((a, b) => a - b);
    return `min ${sorted[0].toFixed(1)} ms, p50 ${percentile(sorted, 50).toFixed(1)} ms, p90 ${percentile(sorted, 90).toFixed(1)} ms`;
}

function main(): void {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-cold-start-"));
    try {
        const run = previewStack("red", { archiveDir: path.join(work, "archives") });
        // Settings as the program writes them. The factory starts its TLS Redis connection (to a
        // closed loopback port) without waiting for it, as in Lambda; 3scale is never called.
        // The secrets' parameters are named as deployed; the factory starts reading them and does not wait.
        const settings = settingsToEnvironment({
            secretParameters: { serviceToken: "bench-service-token", redisAuthToken: "bench-redis-auth-token" },
            threescale: { backendUrl: "https://su1.3scale.net", serviceId: "2555417777820", timeoutMs: 2000 },
            redis: { host: "127.0.0.1", port: 1, tls: true, timeoutMs: 150 },
            tokenPattern: "^[A-Za-z0-9_-]{16,128}$", cacheTtlSeconds: 300, negativeTtlSeconds: 30, staleTtlSeconds: 86400,
            failureMode: "strict", planRoutes: {}, defaultRoutes: [], usageWindowSeconds: 60, usageTopicArn: "",
            credentials: DEFAULT_CREDENTIALS, stage: "red",
        });
        const withMetrics = { ...settings, ...metricsEnvironment("api-ring-red") };

        console.log(`api-ring cold-start benchmark (Node ${process.version}, ${os.cpus().length} cores, ${ROUNDS} fresh processes each)\n`);
        for (const archive of run.archives) {
            const index = path.join(archive.dir, `${ARCHIVE_ENTRY}.js`);
            // The function's folder, whose node_modules holds the lazily loaded packages beside its bundle.
            const own = archivedBundleDir(archive.dir, archive.function);
            // "Without": the library's package resolves to an empty module, and no service is configured.
            const preload = path.join(work, `no-metrics-${archive.function}.js`);
            fs.writeFileSync(preload, `const Module = require("module");
                const id = require.resolve(${JSON.stringify(LIBRARY)}, { paths: [${JSON.stringify(own)}] });
                const m = new Module(id); m.exports = {}; m.loaded = true; require.cache[id] = m;`);
            const withLib: number[] = [];
            const without: number[] = [];
            for (let i = 0; i < ROUNDS; i++) {
                withLib.push(timed(archive.dir, loadScript(index), withMetrics));
                without.push(timed(archive.dir, loadScript(index), settings, preload));
            }
            const libraryAlone = Array.from({ length: ROUNDS }, () => timed(own, loadScript(LIBRARY), {}));
            // Paired by round, so load on the machine weighs on both sides alike.
            const differences = withLib.map((w, i) => w - without[i]).sort((a, b) => a - b);
            console.log(`${archive.function} (${archive.files} files, ${(archive.bytes / 1048576).toFixed(1)} MiB, ${(archive.deflatedBytes / 1024).toFixed(0)} KiB deflated)`);
            console.log(`  load + factory, with metrics:    ${summary(withLib)}`);
            console.log(`  load + factory, without metrics: ${summary(without)}`);
            console.log(`  difference, paired by round:     p50 ${percentile(differences, 50).toFixed(1)} ms (p25 ${percentile(differences, 25).toFixed(1)}, p75 ${percentile(differences, 75).toFixed(1)})`);
            console.log(`  ${LIBRARY} alone:   ${summary(libraryAlone)}`);
        }

        // Per invocation, through the handlers' own wrapper (the module the bundle is made from, compiled) and the
        // archive's metrics library: decisions held and written at most once a second (as shipped), next to one
        // EMF line per decision (stdout discarded, as a pipe would take it).
        const authorizer = run.archives.find((a) => a.function.endsWith("-authorizer"));
        if (!authorizer) throw new Error("no authorizer archive");
        const perCall = (holding: boolean) => timed(archivedBundleDir(authorizer.dir, authorizer.function), `
            const { instrumentAuthorizer } = require(${JSON.stringify(path.join(__dirname, "..", "handlers", "metrics.js"))});
            const { Metrics, MetricUnit } = require(${JSON.stringify(LIBRARY)});
            const metrics = new Metrics({ namespace: "api-ring", serviceName: "api-ring-red" });
            const decide = async (i) => ({ principalId: "x", policyDocument: { Version: "2012-10-17", Statement: [] }, context: { source: i % 10 ? "cache" : "3scale" } });
            const eachLine = async (i) => { const r = await decide(i); metrics.addDimensions({ source: r.context.source }); metrics.addMetric("Decisions", MetricUnit.Count, 1); metrics.publishStoredMetrics(); return r; };
            const handler = ${holding} ? instrumentAuthorizer(decide, metrics, "Unauthorized") : eachLine;
            (async () => {
                for (let i = 0; i < 2000; i++) await handler(i);
                const t = process.hrtime.bigint();
                for (let i = 0; i < ${INVOCATIONS}; i++) await handler(i);
                process.stderr.write(String(Number(process.hrtime.bigint() - t) / 1e3 / ${INVOCATIONS}));
            })();`, {});
        console.log(`\ncounting one decision, held and written at most once a second (shipped): ${perCall(true).toFixed(2)} µs per invocation`);
        console.log(`counting one decision, one EMF line each:                               ${perCall(false).toFixed(2)} µs per invocation (${INVOCATIONS} in one process each)`);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main();
