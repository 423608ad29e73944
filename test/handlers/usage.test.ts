import * as assert from "assert";
import type { SNSEvent } from "aws-lambda";
import type { Redis } from "ioredis";
import { policyEffect } from "../../handlers/access-policy";
import { createAuthorizer, AuthorizerHandler } from "../../handlers/authorizer";
import { keys, parseUsageField, tokenHash } from "../../handlers/keys";
import { createReporter, createReporterHandler, ReporterHandler } from "../../handlers/reporter";
import { AuthorizerSettings, settingsToEnvironment } from "../../handlers/settings";
import { createThreescaleClient } from "../../handlers/threescale";
import { UsageNudge, UsagePublisher } from "../../handlers/usage";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { clientFor, METHOD_ARN, testSettings } from "../support/settings";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";

const KEYS = ["alpha-key-0123456789abcdef", "bravo-key-0123456789abcdef", "charlie-key-0123456789abcd", "delta-key-0123456789abcdef", "echo-key-0123456789abcdefg"];
const LIMITED = "limited-key-0123456789abcd";

function snsEvent(messageId: string, nudge?: UsageNudge): SNSEvent {
    return {
        Records: [{
            EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: "arn:aws:sns:eu-west-1:123456789012:usage:sub",
            Sns: {
                Type: "Notification", MessageId: messageId, TopicArn: "arn:aws:sns:eu-west-1:123456789012:usage", Subject: "",
                Message: JSON.stringify(nudge ?? {}), Timestamp: new Date().toISOString(), SignatureVersion: "1", Signature: "",
                SigningCertUrl: "", UnsubscribeUrl: "", MessageAttributes: {},
            },
        }],
    };
}

function scheduledEvent(id: string) {
    return { id, version: "0", account: "123456789012", time: new Date().toISOString(), region: "eu-west-1", resources: [], source: "aws.events", "detail-type": "Scheduled Event", detail: {} };
}

/** An SNS stand-in: records what the authorizer publishes; the test delivers it to the reporter. */
function snsTopic(): UsagePublisher & { published: { id: string; nudge: UsageNudge }[] } {
    let n = 0;
    const topic = {
        published: [] as { id: string; nudge: UsageNudge }[],
        async publish(nudge: UsageNudge) {
            topic.published.push({ id: `msg-${++n}`, nudge });
        },
    };
    return topic;
}

describe("usage reporting against real Redis and the 3scale stand-in", function () {
    let server: RedisServer;
    let fake: FakeThreescale;
    let redis: Redis;
    let settings: AuthorizerSettings;
    let topic: ReturnType<typeof snsTopic>;
    let authorize: AuthorizerHandler;
    let report: ReporterHandler;
    const clients: Redis[] = [];
    let logs: string[];

    before(async () => {
        server = await startRedis();
    });
    after(async () => server.close());

    const setup = (overrides: Partial<AuthorizerSettings> = {}, reporterOptions: Parameters<typeof createReporter>[0]["options"] = {}): void => {
        settings = testSettings(server, fake, overrides);
        redis = clientFor(server, settings);
        clients.push(redis);
        topic = snsTopic();
        authorize = createAuthorizer({ settings, redis, threescale: createThreescaleClient(settings.threescale), publisher: topic, log: (m) => logs.push(m) });
        const reporterRedis = clientFor(server, { ...settings, redis: { ...settings.redis, timeoutMs: 2000 } });
        clients.push(reporterRedis);
        report = createReporter({ settings, redis: reporterRedis, threescale: createThreescaleClient(settings.threescale), options: { log: (m) => logs.push(m), ...reporterOptions } });
    };

    beforeEach(async () => {
        logs = [];
        fake = await startThreescale();
        KEYS.forEach((k, i) => fake.addApp({ id: `app-${i}`, userKey: k, plan: "Basic" }));
        fake.addApp({ id: "app-limited", userKey: LIMITED, plan: "Basic", dailyHits: 5 });
        const admin = server.admin();
        await admin.flushall();
        admin.disconnect();
        setup();
    });
    afterEach(async () => {
        await fake.close();
        for (const c of clients.splice(0)) c.disconnect();
    });

    const call = (token: string) => authorize({ type: "TOKEN", authorizationToken: token, methodArn: METHOD_ARN });
    const pending = async (): Promise<Record<string, number>> => {
        const raw = await redis.hgetall(keys.pending(fake.serviceId));
        const out: Record<string, number> = {};
        for (const [field, n] of Object.entries(raw)) {
            const uid = parseUsageField(field)?.uid ?? field;
            out[uid] = (out[uid] ?? 0) + Number(n);
        }
        return out;
    };
    const deliverAll = async () => {
        const results = [];
        for (const m of topic.published.splice(0)) results.push(await report(snsEvent(m.id, m.nudge)));
        return results;
    };

    it("aggregates hits per key, nudges once per window, and reports them in one transactions.xml call", async () => {
        for (let round = 0; round < 5; round++) for (const k of KEYS.slice(0, 3)) await call(k);
        // First request per key went to authrep (3scale counted it); 4 cache hits per key wait in Redis.
        assert.deepStrictEqual(await pending(), { "a:app-0": 4, "a:app-1": 4, "a:app-2": 4 });
        assert.strictEqual(topic.published.length, 1);
        const [result] = await deliverAll();
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 4], ["app-1", 4], ["app-2", 4]]);
        assert.strictEqual(result.runs[0].hits, 12);
        assert.strictEqual(result.runs[0].transactions, 3);
        assert.deepStrictEqual(await pending(), {});
        assert.deepStrictEqual(await redis.keys("usage:v1:*:batch*"), [], "no batch left behind");
        // 3scale's total equals the requests served: 5 per key.
        for (const i of [0, 1, 2]) assert.strictEqual(fake.app(`app-${i}`).hits, 5);
    });

    it("window 0 reports every request as it happens", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        setup({ usageWindowSeconds: 0 });
        for (let i = 0; i < 4; i++) {
            await call(KEYS[0]);
            await deliverAll();
        }
        assert.strictEqual(fake.count("/transactions/authrep.xml"), 1);
        assert.strictEqual(fake.count("/transactions.xml"), 3);
        assert.strictEqual(fake.app("app-0").hits, 4);
    });

    it("respects the batch size", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        setup({}, { batchSize: 2 });
        for (const k of KEYS) { await call(k); await call(k); }
        const [result] = await Promise.all([report(scheduledEvent("s-1"))]);
        assert.strictEqual(fake.count("/transactions.xml"), 3);
        assert.strictEqual(result.runs[0].transactions, 5);
        assert.deepStrictEqual(fake.calls.filter((c) => c.path === "/transactions.xml").map((c) => [...c.params.keys()].filter((k) => k.endsWith("[app_id]")).length), [2, 2, 1]);
    });

    it("takes pending counts atomically: concurrent reporters never report a hit twice", async () => {
        for (const k of KEYS) for (let i = 0; i < 6; i++) await call(k);
        const results = await Promise.all([report(snsEvent("a")), report(snsEvent("b")), report(scheduledEvent("c"))]);
        const total = results.reduce((n, r) => n + r.runs[0].hits, 0);
        assert.strictEqual(total, 25);
        assert.strictEqual([...fake.reported.values()].reduce((a, b) => a + b, 0), 25);
        assert.strictEqual(fake.count("/transactions.xml"), 1);
    });

    it("puts counts back when 3scale fails, merged with hits counted meanwhile, and throws for the retry and the DLQ", async () => {
        for (const k of KEYS.slice(0, 2)) { await call(k); await call(k); await call(k); }
        assert.deepStrictEqual(await pending(), { "a:app-0": 2, "a:app-1": 2 });
        fake.slowMs = 250;
        fake.reportFaults = ["slow"];
        const inFlight = report(snsEvent("m-1"));
        await new Promise((r) => setTimeout(r, 100));
        assert.deepStrictEqual(await pending(), {}, "the reporter holds the batch");
        // A hit arrives while the reporter holds the batch.
        await call(KEYS[0]);
        await assert.rejects(inFlight, /did not accept/);
        assert.deepStrictEqual(await pending(), { "a:app-0": 3, "a:app-1": 2 });
        assert.deepStrictEqual(fake.reported.size, 0);
        // Lambda retries the same message: it is not a duplicate, and everything is reported once.
        const retry = await report(snsEvent("m-1"));
        assert.strictEqual(retry.runs[0].duplicate, false);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 3], ["app-1", 2]]);
        assert.deepStrictEqual(await pending(), {});
    });

    it("a failed chunk puts back only what 3scale did not accept", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        setup({}, { batchSize: 2 });
        for (const k of KEYS) { await call(k); await call(k); }
        fake.reportFaults = ["none", "5xx"];
        await assert.rejects(report(scheduledEvent("s-2")));
        assert.strictEqual([...fake.reported.values()].reduce((a, b) => a + b, 0), 2);
        assert.strictEqual(Object.values(await pending()).reduce((a, b) => a + b, 0), 3);
        await report(scheduledEvent("s-3"));
        assert.strictEqual([...fake.reported.values()].reduce((a, b) => a + b, 0), 5);
        for (let i = 0; i < 5; i++) assert.strictEqual(fake.app(`app-${i}`).hits, 2);
    });

    it("an SNS message delivered twice reports once", async () => {
        await call(KEYS[0]);
        await call(KEYS[0]);
        await call(KEYS[0]);
        const [message] = topic.published;
        const first = await report(snsEvent(message.id));
        await call(KEYS[0]); // new hit after the first delivery
        const second = await report(snsEvent(message.id));
        assert.strictEqual(first.runs[0].hits, 2);
        assert.strictEqual(second.runs[0].duplicate, true);
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        assert.deepStrictEqual([...fake.reported], [["app-0", 2]]);
        // The later hit waits for the next nudge or the schedule.
        assert.deepStrictEqual(await pending(), { "a:app-0": 1 });
        // Two deliveries at the same moment: one reports, the other is skipped.
        const both = await Promise.all([report(snsEvent("dup")), report(snsEvent("dup"))]);
        assert.deepStrictEqual(both.map((r) => r.runs[0].duplicate).sort(), [false, true]);
        assert.deepStrictEqual([...fake.reported], [["app-0", 3]]);
    });

    it("a scheduled event redelivered with the same id reports once", async () => {
        await call(KEYS[1]);
        await call(KEYS[1]);
        const a = await report(scheduledEvent("evt-1"));
        const b = await report(scheduledEvent("evt-1"));
        assert.strictEqual(a.runs[0].trigger, "schedule:evt-1");
        assert.strictEqual(b.runs[0].duplicate, true);
        assert.strictEqual(fake.count("/transactions.xml"), 1);
    });

    it("after reporting, denies cached decisions of applications 3scale now refuses (limits exceeded)", async () => {
        for (let i = 0; i < 6; i++) assert.strictEqual(policyEffect(await call(LIMITED)), "Allow");
        assert.strictEqual(fake.app("app-limited").hits, 1); // only the authrep so far
        await call(KEYS[0]);
        await call(KEYS[0]); // an unlimited plan: never re-checked
        const result = await report(scheduledEvent("s-4"));
        assert.strictEqual(fake.app("app-limited").hits, 6);
        assert.strictEqual(result.runs[0].denied, 1);
        const authorizeCalls = fake.calls.filter((c) => c.path === "/transactions/authorize.xml");
        assert.deepStrictEqual(authorizeCalls.map((c) => [c.params.get("app_id"), c.params.get("usage[hits]")]), [["app-limited", "1"]]);
        const before = fake.calls.length;
        const denied = await call(LIMITED);
        assert.strictEqual(policyEffect(denied), "Deny");
        assert.strictEqual(denied.context?.source, "cache");
        assert.strictEqual(denied.context?.reason, "usage limits are exceeded");
        assert.strictEqual(fake.calls.length, before, "denied from the cache, no 3scale call");
        const ttl = await redis.ttl(keys.decision(fake.serviceId, tokenHash(LIMITED)));
        assert.ok(ttl > 0 && ttl <= settings.negativeTtlSeconds);
        assert.strictEqual(policyEffect(await call(KEYS[0])), "Allow");
    });

    it("puts back a batch abandoned by a reporter that died, after the lease", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        let now = Date.now();
        setup({}, { leaseMs: 60_000, now: () => now });
        await call(KEYS[0]);
        await call(KEYS[0]);
        await call(KEYS[0]);
        // A reporter took the batch and died before reporting.
        await redis.rename(keys.pending(fake.serviceId), keys.batch(fake.serviceId, "dead"));
        await redis.zadd(keys.batches(fake.serviceId), now - 1000, "dead");
        await call(KEYS[0]);
        const early = await report(scheduledEvent("s-5"));
        assert.strictEqual(early.runs[0].reclaimed, 0, "within the lease the batch may still be in flight");
        assert.deepStrictEqual([...fake.reported], [["app-0", 1]]);
        now += 61_000;
        const late = await report(scheduledEvent("s-6"));
        assert.strictEqual(late.runs[0].reclaimed, 1);
        assert.deepStrictEqual([...fake.reported], [["app-0", 3]]);
        assert.strictEqual(await redis.zcard(keys.batches(fake.serviceId)), 0);
    });

    it("without an app id from 3scale, reports by the user key sealed in Redis (never stored raw)", async () => {
        fake.listAppKeys = false;
        for (let i = 0; i < 4; i++) await call(KEYS[3]);
        const fields = Object.keys(await redis.hgetall(keys.pending(fake.serviceId)));
        assert.strictEqual(fields.length, 1);
        assert.ok(parseUsageField(fields[0])?.uid.startsWith("k:"));
        for (const entry of await server.dump()) assert.ok(!entry.key.includes(KEYS[3]) && !entry.text.includes(KEYS[3]), `raw key in ${entry.key}`);
        await report(scheduledEvent("s-7"));
        const sent = fake.calls.find((c) => c.path === "/transactions.xml");
        assert.strictEqual(sent?.params.get("transactions[0][user_key]"), KEYS[3]);
        assert.deepStrictEqual([...fake.reported], [["app-3", 3]]);
    });

    it("drops usage sealed with another service token instead of failing forever", async () => {
        fake.listAppKeys = false;
        for (let i = 0; i < 3; i++) await call(KEYS[4]);
        const other = createReporter({ settings: { ...settings, threescale: { ...settings.threescale, serviceToken: "rotated-token" } }, redis, threescale: createThreescaleClient(settings.threescale), options: { log: (m) => logs.push(m) } });
        const r = await other(scheduledEvent("s-8"));
        assert.strictEqual(r.runs[0].dropped, 1);
        assert.strictEqual(fake.count("/transactions.xml"), 0);
        assert.deepStrictEqual(await pending(), {});
    });

    it("createReporterHandler reads the environment and reports from real Redis", async () => {
        for (let i = 0; i < 3; i++) await call(KEYS[2]);
        const handler = createReporterHandler(settingsToEnvironment(settings));
        const result = await handler(snsEvent("env-1"));
        assert.strictEqual(result.runs[0].hits, 2);
        assert.deepStrictEqual([...fake.reported], [["app-2", 2]]);
    });

    it("a reporter that cannot reach Redis fails fast, for Lambda's retry and the DLQ", async () => {
        await call(KEYS[0]);
        await call(KEYS[0]);
        await server.stop();
        try {
            const started = Date.now();
            await assert.rejects(report(scheduledEvent("s-9")));
            assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
            assert.strictEqual(fake.count("/transactions.xml"), 0);
        } finally {
            await server.start();
        }
    });
});
