// Authorizer benchmarks (figures, not timed tests). Starts its own redis-server and the
// local 3scale stand-in, then measures:
//   - a raw Redis GET round trip (the floor), next to a cache-hit decision (one EVALSHA),
//   - the uncached path (Redis lookup + authrep + store),
//   - 3scale calls and SNS publishes per 10,000 requests over 100 keys, window 60 s vs 0, and window
//     60 s with porta configured (every application can then witness a call; its figures come from porta).
// Run: npm run bench (bench/run.ts names the others: faults, cold, metrics, ring).
import type { APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { createAuthorizer } from "../handlers/authorizer";
import { createRedisClient } from "../handlers/redis-client";
import { createReporter } from "../handlers/reporter";
import { AuthorizerSettings } from "../handlers/settings";
import { createThreescaleClient } from "../handlers/threescale";
import { createSnsPublisher, UsageNudge } from "../handlers/usage";
import { startRedis } from "../dev-servers/redis-server";
import { METHOD_ARN, testSettings } from "../test/support/settings";
import { startThreescale } from "../dev-servers/threescale";
import { startLocalSns } from "../test/support/sns";
import * as net from "net";

const KEYS = Array.from({ length: 100 }, (_, i) => `bench-key-${String(i).padStart(4, "0")}-0123456789`);

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timeEach(n: number, work: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number; max: number; perSecond: number }> {
    const samples: number[] = [];
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
        const t = process.hrtime.bigint();
        await work(i);
        samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const total = Number(process.hrtime.bigint() - started) / 1e9;
    samples.sort((a, b) => a - b);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1], perSecond: n / total };
}

async function concurrent(n: number, width: number, work: (i: number) => Promise<unknown>): Promise<number> {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: width }, async () => {
        for (let i = next++; i < n; i = next++) await work(i);
    }));
    return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

const ms = (v: number): string => `${v.toFixed(3)} ms`;
const event = (token: string): APIGatewayTokenAuthorizerEvent => ({ type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN });

async function main(): Promise<void> {
    const server = await startRedis();
    const fake = await startThreescale();
    KEYS.forEach((k, i) => fake.addApp({ id: `app-${i}`, userKey: k, plan: i % 10 === 0 ? "Enterprise" : "Basic", dailyHits: i % 10 === 0 ? 1_000_000 : undefined }));
    const base: AuthorizerSettings = testSettings(server, fake, { threescale: { backendUrl: fake.url, serviceId: fake.serviceId, serviceToken: fake.serviceToken, timeoutMs: 2000 } });
    base.redis.timeoutMs = 1000;
    const redis = createRedisClient(base.redis);
    const threescale = createThreescaleClient(base.threescale);
    const admin = server.admin();
    try {
        console.log(`api-ring authorizer benchmark (Node ${process.version}, redis-server on loopback, 3scale stand-in on loopback)\n`);

        await redis.set("bench:raw", "x".repeat(120));
        const raw = await timeEach(5000, () => redis.get("bench:raw"));
        const authorizer = createAuthorizer({ settings: base, redis, threescale, publisher: { publish: async () => undefined } });
        for (const k of KEYS) await authorizer(event(k));
        const hit = await timeEach(5000, (i) => authorizer(event(KEYS[i % KEYS.length])));
        const hitParallel = await concurrent(20_000, 32, (i) => authorizer(event(KEYS[i % KEYS.length])));
        const rawParallel = await concurrent(20_000, 32, () => redis.get("bench:raw"));
        console.log("cache hit (one EVALSHA: lookup + route and limit checks + hit count + window marker)");
        console.log(`  raw Redis GET round trip   p50 ${ms(raw.p50)}  p99 ${ms(raw.p99)}  ${raw.perSecond.toFixed(0)}/s sequential, ${rawParallel.toFixed(0)}/s at 32 in flight`);
        console.log(`  cache-hit decision         p50 ${ms(hit.p50)}  p99 ${ms(hit.p99)}  ${hit.perSecond.toFixed(0)}/s sequential, ${hitParallel.toFixed(0)}/s at 32 in flight`);

        await admin.flushall();
        const uncached = createAuthorizer({ settings: { ...base, cacheTtlSeconds: 0, staleTtlSeconds: 0 }, redis, threescale });
        const before = fake.count("/transactions/authorize.xml");
        const miss = await timeEach(1000, (i) => uncached(event(KEYS[i % KEYS.length])));
        if (fake.count("/transactions/authorize.xml") - before !== 1000) throw new Error("the uncached path did not call 3scale every time");
        console.log("uncached (Redis lookup + authorize.xml + count; 3scale on loopback, add the real network round trip)");
        console.log(`  decision                   p50 ${ms(miss.p50)}  p99 ${ms(miss.p99)}  ${miss.perSecond.toFixed(0)}/s sequential\n`);

        // The usage nudge behind cached decisions: a healthy SNS endpoint, then one that accepts and never answers.
        console.log("cached decisions that each nudge the reporter (window 0 s: every decision publishes, the real SNS client; 2000 each)");
        const sns = await startLocalSns();
        const hanging = net.createServer((socket) => socket.on("error", () => undefined));
        await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
        Object.assign(process.env, { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local" });
        try {
            for (const [name, endpoint] of [["healthy", sns.url], ["hanging", `http://127.0.0.1:${(hanging.address() as net.AddressInfo).port}`]]) {
                await admin.flushall();
                process.env.AWS_ENDPOINT_URL_SNS = endpoint; // read when the publisher's client is created, at its first publish
                const nudging = createAuthorizer({ settings: { ...base, usageWindowSeconds: 0 }, redis, threescale, log: () => undefined,
                    publisher: createSnsPublisher("arn:aws:sns:eu-west-1:123456789012:usage") });
                for (const k of KEYS) await nudging(event(k));
                const timed = await timeEach(2000, (i) => nudging(event(KEYS[i % KEYS.length])));
                console.log(`  SNS ${name.padEnd(8)} cache-hit decision p50 ${ms(timed.p50)}  p99 ${ms(timed.p99)}  max ${ms(timed.max)}`);
            }
            console.log(`  (SNS healthy received ${sns.published.length} nudges; the hanging one gave up on each after 1 s, off the request path)\n`);
        } finally {
            delete process.env.AWS_ENDPOINT_URL_SNS;
            await sns.close();
            hanging.close();
        }

        console.log("10,000 requests over 100 keys (uniform), reporter driven by every SNS publish, then one scheduled flush");
        for (const [window, withPorta] of [[60, false], [0, false], [60, true]] as const) {
            await admin.flushall();
            fake.resetUsage();
            const porta = withPorta ? { adminUrl: fake.url, accessToken: fake.accessToken } : {};
            const settings = { ...base, usageWindowSeconds: window, threescale: { ...base.threescale, ...porta } };
            const published: UsageNudge[] = [];
            const auth = createAuthorizer({ settings, redis, threescale, publisher: { publish: async (n) => { published.push(n); } } });
            // Reports are verified from their witnesses' figures a reconcile delay after 3scale took them (issue 20 item 4).
            const reporter = createReporter({ settings, redis, threescale, options: { reconcileAfterMs: 1000 } });
            let delivered = 0;
            let seed = 42;
            const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
            const started = Date.now();
            for (let i = 0; i < 10_000; i++) {
                await auth(event(KEYS[Math.floor(random() * KEYS.length)]));
                while (delivered < published.length) await reporter({ Records: [{ Sns: { MessageId: `m-${window}-${delivered++}` } }] } as never);
            }
            await reporter({ id: `flush-${window}`, "detail-type": "Scheduled Event", source: "aws.events", detail: {} } as never);
            const took = (Date.now() - started) / 1000;
            const beforeVerify = fake.count("/transactions/authorize.xml");
            await new Promise((r) => setTimeout(r, 1100));
            await reporter({ id: `verify-${window}`, "detail-type": "Scheduled Event", source: "aws.events", detail: {} } as never);
            const verifying = fake.count("/transactions/authorize.xml") - beforeVerify;
            const count = (p: string): number => fake.count(p);
            const served = KEYS.reduce((n, _, i) => n + (fake.app(`app-${i}`).hits ?? 0), 0);
            // porta's Analytics API and Application Find are the admin portal's, not the Service Management API's.
            const portaCalls = fake.calls.filter((c) => c.path.startsWith("/stats/") || c.path.startsWith("/admin/")).length;
            console.log(`  window ${String(window).padStart(2)} s${withPorta ? ", porta configured" : ""}: authorize.xml ${count("/transactions/authorize.xml")}, authrep.xml ${count("/transactions/authrep.xml")}, ` +
                `transactions.xml ${count("/transactions.xml")}, total Service Management API calls ${fake.calls.length - portaCalls} (${verifying} authorize.xml reading witnesses to verify the reports 3scale took), ` +
                `porta calls ${portaCalls}, SNS publishes ${published.length}; hits 3scale counted ${served}/10000 (${took.toFixed(1)} s)`);
        }
    } finally {
        admin.disconnect();
        redis.disconnect();
        await fake.close();
        await server.close();
    }
}

main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
});
