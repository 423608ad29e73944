// The API ring on this machine: one slot's API on localhost with the real authorizer pair
// in front of it, so `curl -H 'X-Api-Key: <key>' localhost:8080/discovery/v1/catalogs`
// is allowed or denied as it would be behind API Gateway.
//
//   node bin/local/cli.js --stack red [--port 8080] [--backend edxapp_host=http://127.0.0.1:8000]
//                                 [--keys FILE] [--set key=value] [--flush-seconds N]
// Redis: the one REDIS_URL names, else a redis-server (with AUTH) it starts and stops itself.
// 3scale: the real backend when THREESCALE_SERVICE_TOKEN is set and threescale:backendUrl
// answers; else a local development backend seeded from local/keys.yaml.
// The pair runs through the functions' own entry points, reading the two tokens from a local Parameter
// Store stand-in at start, exactly as the Lambda functions read theirs from SSM.
import type { SNSEvent } from "aws-lambda";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import type { AddressInfo } from "net";
import { parseArgs as parseArgs_ } from "util";
import { SlotConfig, handlerSettings, readSlotConfig } from "../config";
import { createAuthorizerHandler } from "../handlers/authorizer";
import { createReporterHandler } from "../handlers/reporter";
import { AuthorizerSettings, settingsToEnvironment, withoutSecrets } from "../handlers/settings";
import { ThreescaleClientOptions } from "../handlers/threescale";
import { UsagePublisher } from "../handlers/usage";
import { AUTH_KINDS, bundleSpec, formatProblem, missingStageVariables, releaseIdFor, specSummary } from "../openapi";
import { createLocalGateway } from "./gateway";
import { startParameterStore } from "../dev-servers/parameter-store";
import { startParametersExtension } from "../dev-servers/parameters-extension";
import { RedisServer, startRedis } from "../dev-servers/redis-server";
import { FakeApp, FakeThreescale, startThreescale } from "../dev-servers/threescale";
import { configSource, loadStackConfig, parseOverride } from "../stack-config";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
export const DEFAULT_KEYS_FILE = path.join(PROJECT_DIR, "local", "keys.yaml");

export interface LocalRunOptions {
    stack: string;
    port: number;
    backends: Record<string, string>;
    keysFile: string;
    overrides: Record<string, string>;
    flushSeconds: number;
    /** A client must send its whole request within this many seconds (API Gateway cuts slow clients off too). */
    clientTimeoutSeconds: number;
    redisUrl?: string;
    serviceToken?: string;
    log: (line: string) => void;
}

export interface LocalRunSummary {
    requests: number;
    allowed: number;
    denied: number;
    unauthorized: number;
    throttled: number;
    cacheHitRate: number;
    threescaleCalls: number;
}

export interface LocalRun {
    url: string;
    stop(): Promise<LocalRunSummary>;
}

/** The development 3scale backend's applications, from the keys file. */
export function readKeys(file: string): FakeApp[] {
    const parsed = yaml.load(fs.readFileSync(file, "utf8")) as { applications?: unknown };
    const apps = parsed?.applications;
    if (!Array.isArray(apps)) throw new Error(`${file}: expected a list under "applications"`);
    return apps.map((a: Record<string, unknown>, i) => {
        if (typeof a.id !== "string" || typeof a.userKey !== "string" || typeof a.plan !== "string") {
            throw new Error(`${file}: applications[${i}] needs id, userKey and plan as strings`);
        }
        const dailyHits = a.dailyHits === undefined ? undefined : Number(a.dailyHits);
        if (dailyHits !== undefined && !Number.isInteger(dailyHits)) throw new Error(`${file}: applications[${i}].dailyHits must be a whole number`);
        const state = a.state === "suspended" ? "suspended" : "active";
        return { id: a.id, userKey: a.userKey, plan: a.plan, dailyHits, state, hits: 0 };
    });
}

async function reachable(url: string): Promise<boolean> {
    try {
        await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(2000) });
        return true;
    } catch {
        return false;
    }
}

function redisFromUrl(url: string): AuthorizerSettings["redis"] {
    const u = new URL(url);
    return {
        host: u.hostname, port: Number(u.port || 6379), tls: u.protocol === "rediss:",
        authToken: decodeURIComponent(u.password), timeoutMs: 150,
    };
}

export async function startLocalRun(options: LocalRunOptions): Promise<LocalRun> {
    const log = options.log;
    const file = loadStackConfig(PROJECT_DIR, options.stack);
    Object.assign(file.values, options.overrides);
    const config: SlotConfig = readSlotConfig(configSource(file));
    const spec = await bundleSpec(path.resolve(PROJECT_DIR, config.gateway.specPath), {
        credentials: config.authorizer.credentials, resultTtlSeconds: 0,
        mirrors: config.gateway.specMirrors, baseDir: PROJECT_DIR, publicRoutes: config.gateway.publicRoutes, allowPublicCatchAll: config.gateway.allowPublicCatchAll,
        binaryMediaTypes: config.gateway.binaryMediaTypes, authorizerRoutes: config.gateway.authorizerRoutes, publicPreflights: config.gateway.publicPreflights,
    });
    for (const warning of spec.warnings) log(`warning: gateway:spec: ${formatProblem(warning)}`);
    for (const line of specSummary(spec)) log(`gateway:spec: ${line}`);
    const unchecked = Object.entries(spec.operationAuth).filter(([, a]) => !["ring-authorizer", "public"].includes(a.kind));
    if (unchecked.length > 0) {
        log(`gateway:spec: not checked by the local run, refused: ${unchecked.map(([label, a]) => `${label} (${AUTH_KINDS.find((k) => k.kind === a.kind)?.name})`).join(", ")}`);
    }
    const releaseId = releaseIdFor(spec, config.gateway.releaseId);
    const stageVariables = { ...config.gateway.hosts, ...config.gateway.stageVariables, id: releaseId };
    const missing = missingStageVariables(spec, stageVariables);
    if (missing.length > 0) {
        throw new Error(`the document uses stage variable${missing.length === 1 ? "" : "s"} ${missing.map((m) => m.name).join(", ")}, ` +
            "which neither gateway:hosts nor gateway:stageVariables sets (set them with --set, as for npm run preview)");
    }

    const stops: (() => Promise<void>)[] = [];
    let threescaleCalls = 0;
    let devBackend: FakeThreescale | undefined;
    let threescaleSettings: AuthorizerSettings["threescale"];
    if (options.serviceToken && await reachable(config.threescale.backendUrl)) {
        threescaleSettings = { ...config.threescale, serviceToken: options.serviceToken };
        log(`3scale: ${config.threescale.backendUrl} (service ${config.threescale.serviceId})`);
    } else {
        const apps = readKeys(options.keysFile);
        devBackend = await startThreescale({ serviceId: config.threescale.serviceId, serviceToken: "local-development-token", apps });
        stops.push(() => (devBackend as FakeThreescale).close());
        threescaleSettings = { backendUrl: devBackend.url, serviceId: devBackend.serviceId, serviceToken: devBackend.serviceToken, timeoutMs: config.threescale.timeoutMs };
        log(`3scale: local development backend at ${devBackend.url} with ${apps.length} keys from ${path.relative(process.cwd(), options.keysFile) || options.keysFile}` +
            (options.serviceToken ? ` (${config.threescale.backendUrl} did not answer)` : " (set THREESCALE_SERVICE_TOKEN to use the real one)"));
    }

    let redisSettings: AuthorizerSettings["redis"];
    let redisServer: RedisServer | undefined;
    if (options.redisUrl) {
        redisSettings = redisFromUrl(options.redisUrl);
        log(`redis: ${redisSettings.host}:${redisSettings.port} (REDIS_URL)`);
    } else {
        // With AUTH, as ElastiCache runs: the token goes the way the deployed one does, through the store.
        redisServer = await startRedis({ password: randomBytes(24).toString("hex") });
        stops.push(() => (redisServer as RedisServer).close());
        redisSettings = { host: redisServer.host, port: redisServer.port, tls: false, authToken: redisServer.password, timeoutMs: config.authorizer.redisTimeoutMs };
        log(`redis: redis-server on ${redisServer.host}:${redisServer.port}, pid ${redisServer.pid}, with AUTH`);
    }

    const settings: AuthorizerSettings = {
        threescale: threescaleSettings,
        redis: redisSettings,
        ...handlerSettings(config),
        usageTopicArn: "",
    };
    // The tokens live in a Parameter Store stand-in, read through a stand-in of the Parameters and Secrets
    // extension as deployed; the functions' environment names them (issue 17 item 6).
    const store = await startParameterStore();
    const extension = await startParametersExtension({ store });
    stops.push(() => extension.close(), () => store.close());
    const parameters = { serviceToken: "/api-ring/local/threescale-service-token", redisAuthToken: settings.redis.authToken !== "" ? "/api-ring/local/redis-auth-token" : "" };
    store.put(parameters.serviceToken, settings.threescale.serviceToken);
    if (parameters.redisAuthToken !== "") store.put(parameters.redisAuthToken, settings.redis.authToken);
    const env = { ...settingsToEnvironment(withoutSecrets(settings, parameters)), ...extension.functionEnvironment() };
    log(`secrets: read by the pair on their first invocation through a local Parameters and Secrets extension on port ${extension.port}, ` +
        `backed by a local Parameter Store at ${store.url} (${Object.values(parameters).filter((p) => p !== "").join(", ")})`);
    const threescaleOptions: ThreescaleClientOptions = { onCall: () => { threescaleCalls += 1; } };
    const reporter = createReporterHandler(env, { threescale: threescaleOptions, log });
    stops.unshift(async () => reporter.close());
    const report = (event: SNSEvent | Record<string, never>, why: string): Promise<void> =>
        reporter(event).then((r) => {
            const hits = r.runs.reduce((n, run) => n + run.hits, 0);
            if (hits > 0) log(`reporter (${why}): reported ${hits} hits to 3scale`);
        }, (e: Error) => log(`reporter (${why}) failed, counts kept for the next run: ${e.message}`));
    // SNS between the pair, delivered in-process as SNS would: asynchronously, with a message id.
    let messages = 0;
    const inFlight = new Set<Promise<void>>();
    const publisher: UsagePublisher = {
        publish: async (nudge) => {
            const event = { Records: [{ EventSource: "aws:sns", Sns: { MessageId: `local-${++messages}`, Message: JSON.stringify(nudge) } }] } as unknown as SNSEvent;
            const delivery = report(event, "sns").finally(() => inFlight.delete(delivery));
            inFlight.add(delivery);
        },
    };
    const authorizer = createAuthorizerHandler(env, { publisher, threescale: threescaleOptions, log });
    stops.unshift(async () => authorizer.close());
    let decisions = 0;
    let cacheHits = 0;
    const schedule = setInterval(() => void report({}, "schedule"), options.flushSeconds * 1000);

    const { server, stats } = createLocalGateway({
        document: spec.document,
        stage: config.slot,
        stageVariables,
        backends: options.backends,
        rateLimit: config.gateway.rateLimit,
        burstLimit: config.gateway.burstLimit,
        clientTimeoutMs: options.clientTimeoutSeconds * 1000,
        authorize: async (event) => {
            const result = await authorizer(event);
            decisions += 1;
            if (result.context?.source === "cache") cacheHits += 1;
            return result;
        },
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, "127.0.0.1", resolve);
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    log(`slot ${config.slot} (release ${releaseId}) listening on ${url}, ` +
        `rate ${config.gateway.rateLimit}/s, burst ${config.gateway.burstLimit}, failure mode ${config.authorizer.failureMode}`);
    for (const [name, value] of Object.entries(config.gateway.hosts)) {
        log(`  ${name}: ${options.backends[name] ?? `https://${value}`}`);
    }

    return {
        url,
        stop: async () => {
            clearInterval(schedule);
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
            await Promise.all(inFlight);
            await report({}, "shutdown");
            for (const stop of stops) await stop();
            return {
                ...stats,
                cacheHitRate: decisions === 0 ? 0 : cacheHits / decisions,
                threescaleCalls,
            };
        },
    };
}

export function formatSummary(s: LocalRunSummary): string {
    return `summary: ${s.requests} requests, ${s.allowed} allowed, ${s.denied} denied, ${s.unauthorized} unauthorized, ` +
        `${s.throttled} throttled, cache hit rate ${(s.cacheHitRate * 100).toFixed(1)}%, ${s.threescaleCalls} 3scale calls`;
}

const USAGE = `usage: npm run local -- --stack <slot> [--port 8080] [--backend NAME=URL]... [--keys FILE]
                        [--set KEY=VALUE]... [--flush-seconds N] [--client-timeout N]

Serves one slot's API on 127.0.0.1 with the real authorizer pair in front of it.
  --stack NAME         the slot whose Pulumi.NAME.yaml to run (required)
  --port N             port to listen on (default 8080; 0 picks a free one)
  --backend NAME=URL   send integrations on \${stageVariables.NAME} to URL (e.g. a local LMS)
  --keys FILE          development 3scale keys (default local/keys.yaml)
  --set KEY=VALUE      change stack config for this run (e.g. gateway:rateLimit=5)
  --flush-seconds N    how often the reporter flushes on its schedule (default 60)
  --client-timeout N   seconds a client has to send its whole request (default 30)
Environment: REDIS_URL (use this Redis), THREESCALE_SERVICE_TOKEN (use the real 3scale).`;

function parseArgs(argv: string[]): LocalRunOptions {
    let values;
    try {
        ({ values } = parseArgs_({
            args: argv,
            strict: true,
            options: {
                stack: { type: "string" },
                port: { type: "string", default: "8080" },
                backend: { type: "string", multiple: true, default: [] },
                keys: { type: "string" },
                set: { type: "string", multiple: true, default: [] },
                "flush-seconds": { type: "string", default: "60" },
                "client-timeout": { type: "string", default: "30" },
                help: { type: "boolean", short: "h", default: false },
            },
        }));
    } catch (e) {
        throw new Error(`${(e as Error).message}\n${USAGE}`);
    }
    if (values.help) {
        console.log(USAGE);
        process.exit(0);
    }
    const options: LocalRunOptions = {
        stack: values.stack ?? "",
        port: Number(values.port),
        backends: Object.fromEntries(values.backend.map(parseOverride)),
        keysFile: values.keys ? path.resolve(values.keys) : DEFAULT_KEYS_FILE,
        overrides: Object.fromEntries(values.set.map(parseOverride)),
        flushSeconds: Number(values["flush-seconds"]),
        clientTimeoutSeconds: Number(values["client-timeout"]),
        redisUrl: process.env.REDIS_URL || undefined,
        serviceToken: process.env.THREESCALE_SERVICE_TOKEN || undefined,
        log: (line) => console.log(line),
    };
    if (!options.stack) throw new Error(`--stack is required\n${USAGE}`);
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error(`--port: got ${values.port}, expected 0-65535`);
    if (!(options.flushSeconds > 0)) throw new Error(`--flush-seconds: got ${values["flush-seconds"]}, expected a number above 0`);
    if (!(options.clientTimeoutSeconds > 0 && options.clientTimeoutSeconds <= 3600)) {
        throw new Error(`--client-timeout: got ${values["client-timeout"]}, expected seconds from above 0 to 3600`);
    }
    return options;
}

async function main(): Promise<void> {
    // Taken first: the parent may die while the run starts.
    const parent = process.ppid;
    const options = parseArgs(process.argv.slice(2));
    console.log(`local run pid ${process.pid}`);
    const started: { run?: LocalRun } = {};
    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        // Not started yet: nothing to summarize; a redis-server already started goes down with this process.
        if (started.run) console.log(formatSummary(await started.run.stop()));
        process.exit(0);
    };
    process.on("SIGINT", () => void stop());
    process.on("SIGTERM", () => void stop());
    // Orphaned (npm killed, or npm's shell gone without passing the signal on), it stops as on
    // SIGTERM instead of serving on; its redis-server goes down with it in any case.
    setInterval(() => {
        if (process.ppid !== parent) void stop();
    }, 500).unref();
    started.run = await startLocalRun(options);
    console.log(`try: curl -H 'X-Api-Key: local-basic-key-0000000001' ${started.run.url}/discovery/v1/catalogs`);
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(1);
    });
}
