// Cold start and archive size of the shipped authorizer (figures, not timed tests).
// Builds the red stack's archives as the program does (offline preview), then in fresh
// Lambda-like processes (test/support/lambda.ts: only the archive's node_modules plus the
// runtime's AWS SDK, and the environment the program gives the function, metrics on) measures,
// from `require` of the entry point:
//   - the first decision of a key already in the Redis cache (TLS + AUTH, as ElastiCache runs), the two
//     tokens read first through the Parameters and Secrets extension (its stand-in, reading the Parameter
//     Store stand-in; its cache emptied before each process, as a new execution environment's extension starts),
//   - the baseline: an empty handler, packed as the handlers are (ioredis bundled by esbuild), with its
//     Redis AUTH token in its environment (as before issue 17), making one TLS GET: the issue's ratio is
//     the shipped start over this one,
//   - the same empty handler reading its token through the extension, to say what the read costs,
//   - the same empty handler reading it with the runtime's AWS SDK (GetParameter), the read the
//     extension replaced,
//   - and the shipped authorizer's bundle given its two tokens in place of the read (its entry point's
//     `secrets` option): what the read adds to the shipped cold start,
// and, warm (after WARM_UP calls, as a container that has served requests), the cache-hit p99 next
// to a raw GET p99 from the same process and client library, interleaved, over WARM_ROUNDS rounds.
// Run: npm run bench -- cold
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ARCHIVE_ENTRY, archivedBundleDir } from "../handler-archive";
import { metricsEnvironment } from "../handlers/metrics";
import { previewStack } from "../preview/cli";
import { startParameterStore } from "../dev-servers/parameter-store";
import { startParametersExtension } from "../dev-servers/parameters-extension";
import { startRedis } from "../dev-servers/redis-server";
import { startThreescale } from "../dev-servers/threescale";
import { invokeArchive, lambdaRuntimeModules, runInLambdaProcess } from "../test/support/lambda";
import { deployedEnvironment, SECRET_PARAMETER_NAMES, testSettings } from "../test/support/settings";
import { startLocalSns } from "../test/support/sns";

const PROCESSES = 11;
const WARM_UP = 2_000;
const WARM_ROUNDS = 5;
const WARM_CALLS = 10_000;
const KEY = "cold-start-key-0123456789abcdef";
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/red/GET/discovery/v1/catalogs";
const EVENT = { type: "TOKEN", authorizationToken: KEY, methodArn: METHOD_ARN };

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (v: number): string => `${v.toFixed(1)} ms`;

async function main(): Promise<void> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-cold-"));
    const redis = await startRedis({ tls: true, password: "cold-start-auth-token-0123456789" });
    const threescale = await startThreescale({ apps: [{ id: "app-cold", userKey: KEY, plan: "Basic" }] });
    const sns = await startLocalSns();
    const store = await startParameterStore();
    const extension = await startParametersExtension({ store });
    try {
        const run = previewStack("red", { archiveDir: path.join(work, "archives") });
        const authorizer = run.archives.find((a) => a.function.endsWith("-authorizer"));
        if (!authorizer) throw new Error("the red stack built no authorizer archive");
        const runtimeModules = lambdaRuntimeModules(path.join(work, "runtime"));
        const caFile = path.join(work, "ca.pem");
        fs.writeFileSync(caFile, redis.ca ?? "");
        const redisSettings = { host: redis.host, port: redis.port, tls: true, authToken: redis.password, timeoutMs: 1000 };
        const env = {
            ...deployedEnvironment(testSettings(redis, threescale, {
                planRoutes: { Basic: ["discovery/*"] },
                usageTopicArn: "arn:aws:sns:us-east-1:123456789012:red-authorizer-pair-usage",
                redis: redisSettings,
                threescale: { backendUrl: threescale.url, serviceId: threescale.serviceId, serviceToken: threescale.serviceToken, timeoutMs: 2000 },
            }), extension),
            // As deployed: the slot's metrics on (components/authorizerPair.ts).
            ...metricsEnvironment("api-ring-red"),
            NODE_EXTRA_CA_CERTS: caFile,
            AWS_ENDPOINT_URL_SNS: sns.url,
        };

        // One miss puts the key's decision in Redis; every measured process then starts on a cache hit.
        const [warmup] = await invokeArchive(authorizer.dir, env, runtimeModules, [EVENT]);
        if (warmup.error) throw new Error(`warm-up invocation failed: ${warmup.error}`);

        const shipped: number[] = [];
        const tokenAtHand: number[] = [];
        const shippedWithoutRead: number[] = [];
        const throughExtension: number[] = [];
        const throughSdk: number[] = [];
        // The baseline is packed as the handlers are: ioredis bundled by esbuild into one file.
        const ioredis = path.join(process.cwd(), "node_modules", "ioredis");
        const bundledIoredis = path.join(work, "baseline", "ioredis.js");
        esbuild.buildSync({ stdin: { contents: `export { Redis } from "ioredis";`, resolveDir: process.cwd() }, outfile: bundledIoredis,
            bundle: true, platform: "node", format: "cjs", target: "node22", legalComments: "none", logLevel: "silent" });
        // The empty handler: its AUTH token in its environment, or read through the extension (a GET on
        // loopback, as handlers/secrets.ts reads), or read with the runtime's SDK (GetParameter, decrypted).
        const tokenRead = {
            environment: "Promise.resolve(process.env.BENCH_REDIS_AUTH_TOKEN)",
            extension: `new Promise((resolve, reject) => require("http").get({ host: "127.0.0.1", port: Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT), agent: false,
                path: "/systemsmanager/parameters/get?name=" + encodeURIComponent(${JSON.stringify(SECRET_PARAMETER_NAMES.redisAuthToken)}) + "&withDecryption=true",
                headers: { "X-Aws-Parameters-Secrets-Token": process.env.AWS_SESSION_TOKEN } }, (res) => {
                    let body = ""; res.on("data", (c) => body += c); res.on("end", () => resolve(JSON.parse(body).Parameter.Value));
                }).on("error", reject))`,
            sdk: `(async () => {
                const { SSMClient, GetParameterCommand } = require("@aws-sdk/client-ssm");
                const ssm = new SSMClient({ endpoint: process.env.AWS_ENDPOINT_URL_SSM, region: process.env.AWS_REGION, maxAttempts: 1 });
                return (await ssm.send(new GetParameterCommand({ Name: ${JSON.stringify(SECRET_PARAMETER_NAMES.redisAuthToken)}, WithDecryption: true }))).Parameter.Value;
            })()`,
        };
        const emptyHandler = (read: keyof typeof tokenRead): string => `
            const started = process.hrtime.bigint();
            const { Redis } = require(${JSON.stringify(bundledIoredis)});
            ${tokenRead[read]}.then((password) => {
                const client = new Redis({ host: ${JSON.stringify(redis.host)}, port: ${redis.port}, password,
                    tls: {}, lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
                return client.get("cold-start-probe");
            }).then(() => {
                process.stdout.write("\\nRESULT " + JSON.stringify(Number(process.hrtime.bigint() - started) / 1e6) + "\\n");
                process.exit(0);
            });`;
        const sdkEnv = { ...env, ...store.clientEnvironment() };
        // The shipped bundle, its tokens handed over instead of read: the same first decision, no read.
        const bundle = path.join(archivedBundleDir(authorizer.dir, authorizer.function), "authorizer.js");
        const withoutRead = `
            const started = process.hrtime.bigint();
            const { createAuthorizerHandler } = require(${JSON.stringify(bundle)});
            const secrets = { get: () => Promise.resolve({ serviceToken: process.env.BENCH_SERVICE_TOKEN, redisAuthToken: process.env.BENCH_REDIS_AUTH_TOKEN }) };
            createAuthorizerHandler(process.env, { secrets })(${JSON.stringify(EVENT)}, { awsRequestId: "without-read" }).then((r) => {
                if (r.context.source !== "cache") throw new Error("expected a cache hit, got " + r.context.source);
                process.stdout.write("\\nRESULT " + JSON.stringify(Number(process.hrtime.bigint() - started) / 1e6) + "\\n");
                process.exit(0);
            });`;
        const tokensAtHand = { ...env, BENCH_SERVICE_TOKEN: threescale.serviceToken, BENCH_REDIS_AUTH_TOKEN: redis.password };
        for (let i = 0; i < PROCESSES; i++) {
            // Interleaved, so all five see the same machine load; each extension read starts with an empty cache.
            extension.clearCache();
            const [hit] = await invokeArchive(authorizer.dir, env, runtimeModules, [EVENT]);
            const source = (hit.ok as { context?: { source?: string } } | undefined)?.context?.source;
            if (source !== "cache") throw new Error(`expected a cache hit, got ${hit.error ?? source}`);
            shipped.push(hit.sinceRequireMs);
            tokenAtHand.push(await runInLambdaProcess<number>(authorizer.dir, { ...env, BENCH_REDIS_AUTH_TOKEN: redis.password }, runtimeModules, emptyHandler("environment")));
            extension.clearCache();
            throughExtension.push(await runInLambdaProcess<number>(authorizer.dir, env, runtimeModules, emptyHandler("extension")));
            throughSdk.push(await runInLambdaProcess<number>(authorizer.dir, sdkEnv, runtimeModules, emptyHandler("sdk")));
            shippedWithoutRead.push(await runInLambdaProcess<number>(authorizer.dir, tokensAtHand, runtimeModules, withoutRead));
        }

        // Warm: the shipped handler's cache hits and the same ioredis's raw GETs, in one process, each
        // invocation with its own request id as Lambda gives it.
        const warmDriver = `
            const { handler } = require(${JSON.stringify(path.join(authorizer.dir, `${ARCHIVE_ENTRY}.js`))});
            const { Redis } = require(${JSON.stringify(ioredis)});
            const time = async (work) => { const t = process.hrtime.bigint(); await work(); return Number(process.hrtime.bigint() - t) / 1e6; };
            const at = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
            const figures = (hits, gets) => ({ hitP50: at(hits, 0.5), hitP99: at(hits, 0.99), getP50: at(gets, 0.5), getP99: at(gets, 0.99) });
            const event = ${JSON.stringify(EVENT)};
            let n = 0;
            const hit = () => handler(event, { awsRequestId: "warm-" + n++ });
            (async () => {
                const client = new Redis({ host: ${JSON.stringify(redis.host)}, port: ${redis.port}, password: process.env.BENCH_REDIS_AUTH_TOKEN, tls: {} });
                for (let i = 0; i < ${WARM_UP}; i++) { await hit(); await client.get("warm-probe"); }
                const rounds = [], allHits = [], allGets = [];
                for (let r = 0; r < ${WARM_ROUNDS}; r++) {
                    const hits = [], gets = [];
                    for (let i = 0; i < ${WARM_CALLS}; i++) {
                        hits.push(await time(hit));
                        gets.push(await time(() => client.get("warm-probe")));
                    }
                    rounds.push(figures(hits, gets));
                    allHits.push(...hits);
                    allGets.push(...gets);
                }
                process.stdout.write("\\nRESULT " + JSON.stringify({ pooled: figures(allHits, allGets), rounds }) + "\\n");
                process.exit(0);
            })();`;
        type WarmFigures = { hitP50: number; hitP99: number; getP50: number; getP99: number };
        const warm = await runInLambdaProcess<{ pooled: WarmFigures; rounds: WarmFigures[] }>(authorizer.dir, { ...env, BENCH_REDIS_AUTH_TOKEN: redis.password }, runtimeModules, warmDriver, undefined, 600_000);
        const w = warm.pooled;

        console.log(`api-ring cold start (Node ${process.version}, ${PROCESSES} fresh processes each, TLS + AUTH redis-server on loopback)\n`);
        const figure = (values: number[]): string => `median ${ms(median(values))}  (min ${ms(Math.min(...values))}, max ${ms(Math.max(...values))})`;
        console.log(`cold start, require to first decision (cache hit), tokens through the extension  ${figure(shipped)}`);
        console.log(`baseline, empty handler: token in its environment + GET                   ${figure(tokenAtHand)}`);
        console.log(`ratio shipped / baseline                                                  ${(median(shipped) / median(tokenAtHand)).toFixed(2)}  (target 1.3)`);
        console.log(`shipped, tokens handed over instead of read                               ${figure(shippedWithoutRead)}: ` +
            `the read adds ${ms(median(shipped) - median(shippedWithoutRead))}, a ratio of ${(median(shipped) / median(shippedWithoutRead)).toFixed(2)} (target 1.3)`);
        console.log(`empty handler, token through the extension + GET                          ${figure(throughExtension)}: the read costs ${ms(median(throughExtension) - median(tokenAtHand))}`);
        console.log(`empty handler, token with the runtime's AWS SDK (GetParameter) + GET       ${figure(throughSdk)}: the read costs ${ms(median(throughSdk) - median(tokenAtHand))}`);
        const ms2 = (v: number): string => `${v.toFixed(2)} ms`;
        console.log(`warm cache-hit decision p50 ${ms2(w.hitP50)} p99 ${ms2(w.hitP99)} vs raw TLS GET p50 ${ms2(w.getP50)} p99 ${ms2(w.getP99)} ` +
            `(p99 ratio ${(w.hitP99 / w.getP99).toFixed(2)}; ${WARM_ROUNDS} rounds of ${WARM_CALLS} each, interleaved, after ${WARM_UP}, same process and client library)`);
        console.log(`  p99 ratio by round: ${warm.rounds.map((r) => (r.hitP99 / r.getP99).toFixed(2)).join(" ")}`);
        for (const a of run.archives) console.log(`${a.function} archive: ${a.files} files, ${(a.bytes / 1024).toFixed(0)} KiB unpacked, ${(a.zippedBytes / 1024).toFixed(0)} KiB zipped`);
    } finally {
        await Promise.all([redis.close(), threescale.close(), sns.close(), extension.close()]);
        await store.close();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
