import * as assert from "assert";
import type { SNSEvent } from "aws-lambda";
import type { Redis } from "ioredis";
import { policyEffect } from "../../handlers/access-policy";
import { createAuthorizer, AuthorizerHandler } from "../../handlers/authorizer";
import { keys, parseUsageField, tokenHash } from "../../handlers/keys";
import { createKeySealer } from "../../handlers/sealed-key";
import { formatTimestamp } from "../../handlers/threescale";
import { createReporter, createReporterHandler, ReporterHandler } from "../../handlers/reporter";
import { AuthorizerSettings } from "../../handlers/settings";
import { startParameterStore } from "../../dev-servers/parameter-store";
import { startParametersExtension } from "../../dev-servers/parameters-extension";
import { createThreescaleClient } from "../../handlers/threescale";
import { UsageNudge, UsagePublisher } from "../../handlers/usage";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { clientFor, deployedEnvironment, METHOD_ARN, testSettings } from "../support/settings";
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
    /** The authorizer's clock: fixed in a test, so its hits fall in one minute. */
    let clock: number;

    before(async () => {
        server = await startRedis();
    });
    after(async () => server.close());

    const setup = (overrides: Partial<AuthorizerSettings> = {}, reporterOptions: Parameters<typeof createReporter>[0]["options"] = {}): void => {
        settings = testSettings(server, fake, overrides);
        redis = clientFor(server, settings);
        clients.push(redis);
        topic = snsTopic();
        authorize = createAuthorizer({ settings, redis, threescale: createThreescaleClient(settings.threescale), publisher: topic, log: (m) => logs.push(m), now: () => clock });
        const reporterRedis = clientFor(server, { ...settings, redis: { ...settings.redis, timeoutMs: 2000 } });
        clients.push(reporterRedis);
        report = createReporter({ settings, redis: reporterRedis, threescale: createThreescaleClient(settings.threescale), options: { log: (m) => logs.push(m), retryPauseMs: 20, ...reporterOptions } });
    };

    beforeEach(async () => {
        logs = [];
        clock = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
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
    /** Hits waiting in Redis, by application. */
    const pending = async (): Promise<Record<string, number>> => {
        const raw = await redis.hgetall(keys.pending(fake.serviceId));
        const out: Record<string, number> = {};
        for (const [field, n] of Object.entries(raw)) {
            const uid = parseUsageField(field)?.who ?? field;
            out[uid] = (out[uid] ?? 0) + Number(n);
        }
        return out;
    };
    const reportedTotal = (): number => [...fake.reported.values()].reduce((a, b) => a + b, 0);
    const deliverAll = async () => {
        const results = [];
        for (const m of topic.published.splice(0)) results.push(await report(snsEvent(m.id, m.nudge)));
        return results;
    };

    it("aggregates hits per key, nudges once per window, and reports them in one transactions.xml call", async () => {
        for (let round = 0; round < 5; round++) for (const k of KEYS.slice(0, 3)) await call(k);
        // Every request is counted in Redis (authorize.xml counts nothing in 3scale): 5 per key wait.
        assert.deepStrictEqual(await pending(), { "app-0": 5, "app-1": 5, "app-2": 5 });
        assert.strictEqual(topic.published.length, 1);
        const [result] = await deliverAll();
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 5], ["app-1", 5], ["app-2", 5]]);
        assert.strictEqual(result.runs[0].hits, 15);
        assert.strictEqual(result.runs[0].transactions, 3);
        assert.deepStrictEqual(await pending(), {});
        assert.deepStrictEqual(await redis.keys("usage:v1:*:batch*"), [], "no batch left behind");
        assert.deepStrictEqual(await redis.keys("usage:v1:*:chunk*"), [], "no report left behind");
        // Each transaction carries the minute its hits were counted in.
        const sent = fake.calls.find((c) => c.path === "/transactions.xml");
        assert.strictEqual(sent?.params.get("transactions[0][timestamp]"), formatTimestamp(Math.floor(clock / 60_000) * 60_000));
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
        assert.strictEqual(fake.count("/transactions/authorize.xml"), 1);
        assert.strictEqual(fake.count("/transactions.xml"), 4);
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
        assert.strictEqual(total, 30);
        assert.strictEqual(reportedTotal(), 30);
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        assert.strictEqual(results.filter((r) => r.runs[0].busy).length, 2, "one reporter holds the lock, the others leave it the work");
    });

    it("puts counts back when 3scale fails, merged with hits counted meanwhile, and throws for the retry and the DLQ", async () => {
        for (const k of KEYS.slice(0, 2)) { await call(k); await call(k); await call(k); }
        assert.deepStrictEqual(await pending(), { "app-0": 3, "app-1": 3 });
        fake.slowMs = 250;
        fake.reportFaults = ["slow", "slow", "slow"]; // every attempt of the run
        const inFlight = report(snsEvent("m-1"));
        await new Promise((r) => setTimeout(r, 100));
        assert.deepStrictEqual(await pending(), {}, "the reporter holds the batch");
        // A hit arrives while the reporter holds the batch.
        await call(KEYS[0]);
        await assert.rejects(inFlight, /did not accept/);
        assert.deepStrictEqual(await pending(), { "app-0": 4, "app-1": 3 });
        assert.deepStrictEqual(fake.reported.size, 0);
        // Lambda retries the same message: it is not a duplicate, and everything is reported once.
        const retry = await report(snsEvent("m-1"));
        assert.strictEqual(retry.runs[0].duplicate, false);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 4], ["app-1", 3]]);
        assert.deepStrictEqual(await pending(), {});
    });

    it("a failed chunk puts back only what 3scale did not accept", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        setup({}, { batchSize: 2 });
        // Two calls of two applications, sent side by side: the first to arrive is taken, the other fails thrice.
        for (const k of KEYS.slice(0, 4)) { await call(k); await call(k); }
        fake.reportFaults = ["none", "5xx", "5xx", "5xx"];
        await assert.rejects(report(scheduledEvent("s-2")));
        assert.strictEqual(reportedTotal(), 4);
        assert.strictEqual(Object.values(await pending()).reduce((a, b) => a + b, 0), 4);
        await report(scheduledEvent("s-3"));
        assert.strictEqual(reportedTotal(), 8);
        for (let i = 0; i < 4; i++) assert.strictEqual(fake.app(`app-${i}`).hits, 2);
    });

    it("tries a report 3scale answered with a 5xx again within the run (it took nothing)", async () => {
        await call(KEYS[0]);
        await call(KEYS[1]);
        fake.reportFaults = ["5xx", "5xx"];
        const result = await report(scheduledEvent("s-retry"));
        assert.strictEqual(result.runs[0].hits, 2);
        assert.strictEqual(fake.count("/transactions.xml"), 3);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 1], ["app-1", 1]]);
    });

    it("an SNS message delivered twice reports once", async () => {
        await call(KEYS[0]);
        await call(KEYS[0]);
        await call(KEYS[0]);
        const [message] = topic.published;
        const first = await report(snsEvent(message.id));
        await call(KEYS[0]); // new hit after the first delivery
        const second = await report(snsEvent(message.id));
        assert.strictEqual(first.runs[0].hits, 3);
        assert.strictEqual(second.runs[0].duplicate, true);
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        assert.deepStrictEqual([...fake.reported], [["app-0", 3]]);
        // The later hit waits for the next nudge or the schedule.
        assert.deepStrictEqual(await pending(), { "app-0": 1 });
        // Two deliveries at the same moment: one reports, the other is skipped.
        const both = await Promise.all([report(snsEvent("dup")), report(snsEvent("dup"))]);
        assert.deepStrictEqual(both.map((r) => r.runs[0].duplicate).sort(), [false, true]);
        assert.deepStrictEqual([...fake.reported], [["app-0", 4]]);
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

    it("a key on a limited plan is not refused after a report on a user_key service (the old re-check asked authorize.xml?app_id: 403 user_key_invalid)", async () => {
        fake.addApp({ id: "app-roomy", userKey: "roomy-key-0123456789abcde", plan: "Basic", dailyHits: 1000 });
        for (let i = 0; i < 3; i++) assert.strictEqual(policyEffect(await call("roomy-key-0123456789abcde")), "Allow");
        await report(scheduledEvent("s-4"));
        assert.strictEqual(fake.app("app-roomy").hits, 3);
        const after = await call("roomy-key-0123456789abcde");
        assert.deepStrictEqual([policyEffect(after), after.context?.source], ["Allow", "cache"]);
        assert.strictEqual(fake.count("/transactions/authorize.xml"), 1, "no re-check: the limit is counted down locally");
        assert.deepStrictEqual(fake.errors, [], "no request 3scale refused");
    });

    it("counts a limited plan down locally and denies at the limit before and after reports (item 3)", async () => {
        const served = [];
        for (let i = 0; i < 6; i++) served.push(policyEffect(await call(LIMITED)));
        assert.deepStrictEqual(served, ["Allow", "Allow", "Allow", "Allow", "Allow", "Deny"]);
        await call(KEYS[0]);
        await call(KEYS[0]);
        await report(scheduledEvent("s-4b"));
        assert.strictEqual(fake.app("app-limited").hits, 5, "3scale counted exactly the 5 served");
        const denied = await call(LIMITED);
        assert.strictEqual(policyEffect(denied), "Deny");
        assert.strictEqual(denied.context?.source, "cache");
        assert.strictEqual(denied.context?.reason, "usage limits are exceeded");
        assert.strictEqual(fake.count("/transactions/authorize.xml"), 2, "one per key, no re-check after the report");
        assert.strictEqual(policyEffect(await call(KEYS[0])), "Allow");
    });

    it("puts back a batch abandoned by a reporter that died, after its lock's lease", async () => {
        for (const c of clients.splice(0)) c.disconnect();
        setup({}, { leaseMs: 400 });
        await call(KEYS[0]);
        await call(KEYS[0]);
        await call(KEYS[0]);
        // A reporter took the lock and the batch, and died before reporting.
        await redis.set(keys.lock(fake.serviceId), "dead-reporter", "PX", 400);
        await redis.rename(keys.pending(fake.serviceId), keys.batch(fake.serviceId, "dead"));
        await redis.zadd(keys.batches(fake.serviceId), Date.now() - 1000, "dead");
        await call(KEYS[0]);
        const early = await report(scheduledEvent("s-5"));
        assert.strictEqual(early.runs[0].busy, true, "within the lease the batch may still be in flight");
        assert.strictEqual(early.runs[0].reclaimed, 0);
        assert.strictEqual(fake.reported.size, 0);
        await new Promise((r) => setTimeout(r, 450));
        const late = await report(scheduledEvent("s-6"));
        assert.strictEqual(late.runs[0].reclaimed, 1);
        assert.deepStrictEqual([...fake.reported], [["app-0", 4]]);
        assert.strictEqual(await redis.zcard(keys.batches(fake.serviceId)), 0);
    });

    it("without an app id from 3scale, reports by the user key sealed in Redis (never stored raw)", async () => {
        fake.listAppKeys = false;
        for (let i = 0; i < 4; i++) await call(KEYS[3]);
        const fields = Object.keys(await redis.hgetall(keys.pending(fake.serviceId)));
        assert.strictEqual(fields.length, 1);
        assert.strictEqual(parseUsageField(fields[0])?.who, `~${tokenHash(KEYS[3])}`);
        for (const entry of await server.dump()) assert.ok(!entry.key.includes(KEYS[3]) && !entry.text.includes(KEYS[3]), `raw key in ${entry.key}`);
        await report(scheduledEvent("s-7"));
        const sent = fake.calls.find((c) => c.path === "/transactions.xml");
        assert.strictEqual(sent?.params.get("transactions[0][user_key]"), KEYS[3]);
        assert.deepStrictEqual([...fake.reported], [["app-3", 4]]);
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

    it("keeps within the limit when a report settles while 3scale is being asked (its figure may predate the report)", async () => {
        // LIMITED allows 5 a day. Three hits wait; the decision goes stale; while authorize.xml is on
        // its way back with a figure of 0, the reporter reports and settles the three.
        for (const c of clients.splice(0)) c.disconnect();
        setup({}, { reconcileAfterMs: 300 });
        for (let i = 0; i < 3; i++) await call(LIMITED);
        clock += 301_000;
        fake.replyDelayMs["/transactions/authorize.xml"] = 200;
        const asking = call(LIMITED);
        await new Promise((r) => setTimeout(r, 50));
        await report(scheduledEvent("s-race"));
        assert.strictEqual(fake.app("app-limited").hits, 3);
        assert.strictEqual(policyEffect(await asking), "Allow");
        fake.replyDelayMs = {};
        const rest = [];
        for (let i = 0; i < 4; i++) rest.push(policyEffect(await call(LIMITED)));
        assert.deepStrictEqual(rest, ["Allow", "Deny", "Deny", "Deny"], "5 in all, not 3 + 5");
        // The first report's witness (LIMITED) is held until its job is verified.
        await new Promise((r) => setTimeout(r, 350));
        await report(scheduledEvent("s-race-2"));
        assert.strictEqual(fake.app("app-limited").hits, 5);
    });

    describe("a batch carries only applications 3scale confirmed (item 2)", () => {
        it("a made-up token served in allow mode is reported apart and poisons nothing; a real one 3scale now confirms joins the report", async () => {
            // The old reporter put the made-up token in the shared batch by user_key: apisonator dropped the whole batch.
            for (const c of clients.splice(0)) c.disconnect();
            setup({ failureMode: "allow", defaultRoutes: ["discovery/*"] });
            await call(KEYS[0]);
            await call(KEYS[1]);
            await fake.setFault("5xx");
            for (let i = 0; i < 3; i++) assert.strictEqual((await call("made-up-token-0123456789ab")).context?.source, "fail-open");
            for (let i = 0; i < 2; i++) assert.strictEqual((await call(KEYS[2])).context?.source, "fail-open");
            await call(KEYS[0]); // cache hit during the outage
            await fake.setFault("none");
            const result = await report(scheduledEvent("s-q"));
            const reports = fake.calls.filter((c) => c.path === "/transactions.xml");
            assert.ok(reports.every((c) => ![...c.params.values()].includes("made-up-token-0123456789ab")), "the made-up token is never in a report");
            assert.deepStrictEqual(fake.droppedReports, [], "3scale dropped no report job");
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-1", 1], ["app-2", 2]]);
            assert.strictEqual(result.runs[0].refused, 3);
            assert.strictEqual(result.runs[0].confirmed, 2);
            assert.strictEqual(fake.count("/transactions.xml"), 1);
            assert.deepStrictEqual(await redis.hgetall(keys.unconfirmed(fake.serviceId)), {});
        });

        it("an application deleted in 3scale after its last confirmation loses only its own usage", async () => {
            for (let i = 0; i < 2; i++) for (const k of KEYS.slice(0, 3)) await call(k);
            fake.deleteApp("app-0");
            clock += 301_000; // the cached decision is stale: the next request asks 3scale, which refuses the key now
            const refused = await call(KEYS[0]);
            assert.deepStrictEqual([policyEffect(refused), refused.context?.reason], ["Deny", "user key invalid"]);
            const result = await report(scheduledEvent("s-del"));
            assert.deepStrictEqual([...fake.reported].sort(), [["app-1", 2], ["app-2", 2]]);
            assert.strictEqual(result.runs[0].refused, 2);
            assert.deepStrictEqual(fake.droppedReports, []);
        });

        it("asks 3scale about an application not confirmed lately before putting it in a shared report", async () => {
            await call(KEYS[0]);
            await call(KEYS[1]);
            await redis.hset(keys.app(fake.serviceId, "app-1"), "t", "0");
            const before = fake.count("/transactions/authorize.xml");
            await report(scheduledEvent("s-old"));
            const probes = fake.calls.filter((c) => c.path === "/transactions/authorize.xml").slice(before);
            assert.deepStrictEqual(probes.map((c) => c.params.get("user_key")), [KEYS[1]], "asked with the credential the user_key service takes");
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 1], ["app-1", 1]]);
        });
    });

    describe("timestamps", () => {
        it("reports hits in the minute they were counted, so yesterday's hits land in yesterday's period", async () => {
            const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
            clock = midnight - 30_000;
            await call(KEYS[0]);
            await call(KEYS[0]);
            await report(scheduledEvent("s-ts"));
            assert.strictEqual(fake.usage("app-0", "day", midnight - 30_000), 2);
            assert.strictEqual(fake.usage("app-0", "day"), 0, "not in today's period");
        });

        it("drops hits older than 3scale accepts instead of sending a batch 3scale would drop whole", async () => {
            clock = Date.now() - 25 * 3600_000;
            await call(KEYS[0]);
            clock = Date.now();
            await call(KEYS[1]);
            const result = await report(scheduledEvent("s-old-ts"));
            assert.strictEqual(result.runs[0].expired, 1);
            assert.deepStrictEqual([...fake.reported], [["app-1", 1]]);
            assert.deepStrictEqual(fake.errors, [], "nothing 3scale would refuse was sent");
            assert.strictEqual(await redis.hget(keys.app(fake.serviceId, "app-0"), "u"), "0");
        });
    });

    describe("a report with no reply is reconciled against 3scale's figures, never blindly re-sent (item 4)", () => {
        const settleMs = 700;
        beforeEach(() => {
            for (const c of clients.splice(0)) c.disconnect();
            setup({}, { reconcileAfterMs: settleMs });
        });

        it("3scale took it (the reply came too late): settled once, not sent again", async () => {
            // The old reporter put a report back on a late reply and sent it again: counted twice.
            for (let i = 0; i < 2; i++) { await call(LIMITED); await call(KEYS[0]); }
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            const first = await report(scheduledEvent("s-late"));
            assert.strictEqual(first.runs[0].inDoubt, 4);
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-limited", 2]], "3scale took it");
            await call(KEYS[1]); // counted meanwhile
            const waiting = await report(scheduledEvent("s-wait"));
            assert.strictEqual(waiting.runs[0].inDoubt, 4, JSON.stringify(waiting));
            assert.strictEqual(fake.count("/transactions.xml"), 2, "app-1 is reported while the report is in doubt (issue 20: doubt holds back only the witness)");
            await new Promise((r) => setTimeout(r, settleMs));
            const settled = await report(scheduledEvent("s-settle"));
            assert.deepStrictEqual(settled.runs[0].reconciled, { applied: 4, resent: 0, unverified: 0 });
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-1", 1], ["app-limited", 2]]);
            assert.strictEqual(fake.app("app-limited").hits, 2);
            const probe = fake.calls.filter((c) => c.path === "/transactions/authorize.xml").at(-1);
            assert.strictEqual(probe?.params.get("user_key"), LIMITED, "asked with the credential the service takes");
            assert.strictEqual(probe?.params.get("usage[hits]"), null, "a question, not a count");
            assert.deepStrictEqual(await redis.keys("usage:v1:*:chunk*"), []);
        });

        it("3scale never got it (no reply, nothing processed): sent again, once", async () => {
            for (let i = 0; i < 2; i++) { await call(LIMITED); await call(KEYS[0]); }
            fake.slowMs = 1000;
            fake.reportFaults = ["slow"];
            const first = await report(scheduledEvent("s-lost"));
            assert.strictEqual(first.runs[0].inDoubt, 4);
            assert.strictEqual(fake.reported.size, 0);
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("s-resend"));
            assert.deepStrictEqual(settled.runs[0].reconciled, { applied: 0, resent: 4, unverified: 0 });
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-limited", 2]]);
            assert.strictEqual((await report(scheduledEvent("s-after"))).runs[0].hits, 0);
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-limited", 2]]);
        });

        it("with no limited application to check against, assumes 3scale took it and says so", async () => {
            await call(KEYS[0]);
            await call(KEYS[0]);
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            await report(scheduledEvent("s-nowit"));
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("s-nowit-2"));
            assert.deepStrictEqual(settled.runs[0].reconciled, { applied: 0, resent: 0, unverified: 2 });
            assert.deepStrictEqual([...fake.reported], [["app-0", 2]]);
            assert.ok(logs.some((l) => /none of its applications has figures to check it against/.test(l)));
        });

        it("a limited application used by others meanwhile is read with its own hits only: a baseline taken with a report in flight is not clean", async () => {
            for (let i = 0; i < 2; i++) await call(LIMITED);
            await report(scheduledEvent("s-b1")); // settled: its hits count in the baseline's period
            await new Promise((r) => setTimeout(r, settleMs + 50));
            assert.deepStrictEqual((await report(scheduledEvent("s-b1v"))).runs[0].verified, { applied: 2, requeued: 0, unverified: 0 }, "its job verified, its witness free");
            await call(LIMITED);
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            await report(scheduledEvent("s-b2"));
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("s-b3"));
            assert.deepStrictEqual(settled.runs[0].reconciled, { applied: 1, resent: 0, unverified: 0 });
            assert.strictEqual(fake.app("app-limited").hits, 3);
        });
    });

    describe("metering under harsher faults (issue 20)", () => {
        const settleMs = 700;
        const runOf = (r: { runs: unknown[] }): Record<string, unknown> => r.runs[0] as Record<string, unknown>;
        const withAnalytics = (): void => {
            for (const c of clients.splice(0)) c.disconnect();
            setup({ threescale: { ...settings.threescale, adminUrl: fake.url, accessToken: fake.accessToken } as AuthorizerSettings["threescale"] }, { reconcileAfterMs: settleMs });
        };
        beforeEach(() => {
            for (const c of clients.splice(0)) c.disconnect();
            setup({}, { reconcileAfterMs: settleMs });
        });

        it("item 1: a report in doubt holds back only the applications its reconciliation reads; every other one keeps reporting", async () => {
            // The old reporter sent nothing for the service while any report was in doubt.
            for (let i = 0; i < 2; i++) { await call(LIMITED); await call(KEYS[0]); }
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            assert.strictEqual(runOf(await report(scheduledEvent("d-1"))).inDoubt, 4);
            await call(LIMITED);
            await call(KEYS[0]);
            await call(KEYS[1]);
            await call(KEYS[1]);
            const during = await report(scheduledEvent("d-2"));
            assert.strictEqual(runOf(during).hits, 3, "app-0 and app-1 are reported while the report is in doubt");
            assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 3], ["app-1", 2], ["app-limited", 2]]);
            assert.deepStrictEqual(await pending(), { "app-limited": 1 }, "only the witness of the report in doubt waits");
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("d-3"));
            assert.deepStrictEqual(runOf(settled).reconciled, { applied: 4, resent: 0, unverified: 0 });
            assert.deepStrictEqual([fake.app("app-limited").hits, fake.app("app-0").hits, fake.app("app-1").hits], [3, 3, 2]);
            assert.deepStrictEqual(await pending(), {});
        });

        /** Each chunk the reporter still keeps, with its state and witnesses. */
        const chunks = async (): Promise<{ state: string; uids: string[]; witnesses: string[] }[]> => {
            const out = [];
            for (const id of await redis.zrange(keys.chunks(fake.serviceId), 0, -1)) {
                const h = await redis.hgetall(keys.chunk(fake.serviceId, id));
                out.push({ state: h.s, uids: [...new Set((JSON.parse(h.d) as [number, string, number][]).map((e) => e[1]))].sort(), witnesses: (JSON.parse(h.w ?? "[]") as string[]).sort() });
            }
            return out;
        };

        it("item 1 (audit): an application with hits in a report in doubt never witnesses another report while that one is unresolved", async () => {
            // Its figure then holds the report in doubt's hits, whether 3scale took them or not: the
            // other report could be settled by hits that are not its own. The report in doubt must stay
            // unresolved through the second run, however slow the machine: a longer reconcile delay.
            const delayMs = 3000;
            for (const c of clients.splice(0)) c.disconnect();
            setup({ threescale: { ...settings.threescale, adminUrl: fake.url, accessToken: fake.accessToken } as AuthorizerSettings["threescale"] }, { reconcileAfterMs: delayMs });
            for (let i = 0; i < 2; i++) await call(LIMITED);
            for (let i = 0; i < 3; i++) { await call(KEYS[0]); await call(KEYS[1]); }
            await call(KEYS[2]);
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            assert.strictEqual(runOf(await report(scheduledEvent("w-1"))).inDoubt, 9);
            const [inDoubt] = await chunks();
            assert.deepStrictEqual([inDoubt.state, inDoubt.witnesses], ["sent", ["app-0", "app-1", "app-limited"]], "app-2 has fewest hits: no witness");
            await call(KEYS[2]);
            await call(KEYS[2]);
            await call(KEYS[3]);
            const during = await report(scheduledEvent("w-2"));
            assert.strictEqual(runOf(during).hits, 3, "app-2 and app-3 keep reporting");
            const later = (await chunks()).filter((c) => c.state !== "sent");
            assert.deepStrictEqual(later.map((c) => c.uids), [["app-2", "app-3"]]);
            assert.deepStrictEqual(later[0].witnesses, ["app-3"], "app-2 has hits in doubt: it may not witness");
            await new Promise((r) => setTimeout(r, delayMs + 450));
            const settled = await report(scheduledEvent("w-3"));
            assert.deepStrictEqual(runOf(settled).reconciled, { applied: 9, resent: 0, unverified: 0 });
            assert.deepStrictEqual([fake.app("app-2").hits, fake.app("app-3").hits], [3, 1]);
        });

        it("item 1 (audit): verifying reports 3scale took holds nothing back: every application reports each window", async () => {
            // The first report must still wait for its verification in the second run, however slow the machine.
            const delayMs = 3000;
            for (const c of clients.splice(0)) c.disconnect();
            setup({ threescale: { ...settings.threescale, adminUrl: fake.url, accessToken: fake.accessToken } as AuthorizerSettings["threescale"] }, { reconcileAfterMs: delayMs });
            for (const k of [LIMITED, ...KEYS]) for (let i = 0; i < 2; i++) await call(k);
            const first = await report(scheduledEvent("v-1"));
            assert.strictEqual(runOf(first).hits, 12);
            assert.ok((await chunks()).every((c) => c.state === "acc" && c.witnesses.length > 0), "taken, to be verified by its witnesses");
            for (const k of [LIMITED, ...KEYS]) await call(k);
            const next = await report(scheduledEvent("v-2"));
            assert.deepStrictEqual([runOf(next).hits, runOf(next).held], [6, 0], "the heaviest applications are not held back while the first report is verified");
            assert.deepStrictEqual(await pending(), {});
            await new Promise((r) => setTimeout(r, delayMs + 450));
            const verified = await report(scheduledEvent("v-3"));
            assert.deepStrictEqual(runOf(verified).verified, { applied: 18, requeued: 0, unverified: 0 });
            assert.deepStrictEqual([fake.app("app-limited").hits, fake.app("app-0").hits, fake.app("app-4").hits], [3, 3, 3]);
            assert.deepStrictEqual(await chunks(), []);
        });

        it("item 2: a report of applications without limits that got no reply is settled from porta's Analytics API: not taken, sent again", async () => {
            withAnalytics();
            for (let i = 0; i < 30; i++) await call(KEYS[0]);
            fake.slowMs = 1000;
            fake.reportFaults = ["slow"];
            assert.strictEqual(runOf(await report(scheduledEvent("a-1"))).inDoubt, 30);
            assert.strictEqual(fake.app("app-0").hits, 0, "3scale never took it");
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("a-2"));
            assert.deepStrictEqual(runOf(settled).reconciled, { applied: 0, resent: 30, unverified: 0 });
            assert.strictEqual(fake.app("app-0").hits, 30, "the old reporter assumed it taken: 30 of 30 lost");
        });

        it("item 2: ... and taken, settled once", async () => {
            withAnalytics();
            for (let i = 0; i < 30; i++) await call(KEYS[0]);
            fake.lateMs = 1000;
            fake.reportFaults = ["late"];
            await report(scheduledEvent("a-3"));
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const settled = await report(scheduledEvent("a-4"));
            assert.deepStrictEqual(runOf(settled).reconciled, { applied: 30, resent: 0, unverified: 0 });
            assert.strictEqual(fake.app("app-0").hits, 30);
        });

        // apisonator's replies that a request "should not be repeated without modification" (errors.rb
        // BadRequest, NotValidData), each as the development 3scale gives it (test/dev-servers/threescale.test.ts).
        for (const code of ["transactions_has_nil_transaction", "transactions_format_invalid", "not_valid_data", "end_users_no_longer_supported", "bad_request"] as const) {
            it(`item 3: ${code}: the bad transaction is found by splitting the batch, kept apart with its reason, never sent again; the rest is reported`, async () => {
                for (const k of KEYS) { await call(k); await call(k); }
                fake.unreadableTransactions.set("app-2", code);
                const first = await report(scheduledEvent(`r-${code}`));
                assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 2], ["app-1", 2], ["app-3", 2], ["app-4", 2]]);
                assert.strictEqual(runOf(first).rejected, 2);
                const record = (await redis.lrange(`usage:v1:${fake.serviceId}:rejected`, 0, -1)).map((r) => JSON.parse(r) as Record<string, unknown>);
                assert.deepStrictEqual(record.map((r) => [r.uid, r.hits, r.code]), [["app-2", 2, code]]);
                assert.ok(logs.some((l) => l.includes(code) && l.includes("kept apart")), logs.join("\n"));
                const calls = fake.count("/transactions.xml");
                await call(KEYS[0]);
                await report(scheduledEvent(`r2-${code}`));
                const sent = fake.calls.filter((c) => c.path === "/transactions.xml").slice(calls);
                assert.deepStrictEqual(sent.map((c) => c.params.getAll("transactions[0][app_id]")), [["app-0"]], "app-2 is never sent again");
                assert.deepStrictEqual(await pending(), {});
            });
        }

        // Refusals of the request itself, whatever transactions it carries (listener.rb check_post_content_type!
        // and check_transactions_validity: the Content-Type header, a blank `transactions`): halving the
        // call would only make 2n-1 calls that all fail. The fault is the reporter's.
        for (const code of ["content_type_invalid", "transactions_is_blank"] as const) {
            it(`item 3 (audit): ${code} refuses the request, not a transaction: no halving; the call's hits are kept apart once, as the reporter's own fault, with the reason`, async () => {
                for (const k of KEYS) { await call(k); await call(k); }
                fake.refuseReports = code;
                const first = await report(scheduledEvent(`q-${code}`));
                assert.strictEqual(fake.count("/transactions.xml"), 1, "one call, not 2n-1");
                assert.strictEqual(runOf(first).rejected, 10);
                const record = (await redis.lrange(`usage:v1:${fake.serviceId}:rejected`, 0, -1)).map((r) => JSON.parse(r) as Record<string, unknown>);
                assert.deepStrictEqual(record.map((r) => [r.uid, r.hits, r.code]).sort(), KEYS.map((_, i) => [`app-${i}`, 2, code]));
                assert.ok(record.every((r) => /the reporter's own request/.test(String(r.reason))), String(record[0]?.reason));
                assert.ok(logs.some((l) => l.includes(code) && l.includes("the reporter's own request")), logs.join("\n"));
                assert.deepStrictEqual(await pending(), {});
                assert.deepStrictEqual(fake.reported.size, 0);
            });
        }

        it("item 4: a shared report 3scale drops after its 202 (an application deleted since it was confirmed) is detected, and the others are sent again", async () => {
            // The old reporter lost app-limited's and app-0's usage with the batch.
            for (let i = 0; i < 2; i++) for (const k of [LIMITED, KEYS[0], KEYS[1]]) await call(k);
            fake.deleteApp("app-1");
            await report(scheduledEvent("x-1"));
            assert.strictEqual(fake.droppedReports.length, 1, "apisonator's report job dropped the whole call");
            await new Promise((r) => setTimeout(r, settleMs + 450));
            const verified = await report(scheduledEvent("x-2"));
            assert.deepStrictEqual([fake.app("app-limited").hits, fake.app("app-0").hits], [2, 2]);
            assert.strictEqual(runOf(verified).refused, 2, "app-1's hits: 3scale refuses it now");
            const record = (await redis.lrange(`usage:v1:${fake.serviceId}:rejected`, 0, -1)).map((r) => JSON.parse(r) as Record<string, unknown>);
            assert.deepStrictEqual(record.map((r) => [r.uid, r.hits, r.code]), [["app-1", 2, "user_key_invalid"]]);
            assert.deepStrictEqual(await pending(), {});
        });
    });

    it("reports counts the previous release left in Redis (no minute, token hash first)", async () => {
        const legacy = `${tokenHash(KEYS[0])}|0|a:app-0`;
        const sealer = createKeySealer(settings.threescale.serviceToken, settings.threescale.serviceId);
        const legacyKey = `${tokenHash(KEYS[4])}|1|k:${sealer.seal(KEYS[4])}`;
        await redis.hset(keys.pending(fake.serviceId), legacy, "3", legacyKey, "2");
        const result = await report(scheduledEvent("s-legacy"));
        assert.strictEqual(result.runs[0].hits, 5);
        assert.deepStrictEqual([...fake.reported].sort(), [["app-0", 3], ["app-4", 2]]);
        const sent = fake.calls.filter((c) => c.path === "/transactions.xml").flatMap((c) => [...c.params.entries()]);
        assert.ok(sent.some(([k, v]) => /^transactions\[\d+\]\[user_key\]$/.test(k) && v === KEYS[4]), "the sealed key is reported by user_key");
        assert.deepStrictEqual(fake.droppedReports, []);
    });

    it("createReporterHandler reads the environment, its tokens from the parameter store (through the extension), and reports from real Redis", async () => {
        const store = await startParameterStore();
        const extension = await startParametersExtension({ store });
        try {
            for (let i = 0; i < 3; i++) await call(KEYS[2]);
            const handler = createReporterHandler(deployedEnvironment(settings, extension));
            const result = await handler(snsEvent("env-1"));
            assert.strictEqual(result.runs[0].hits, 3);
            assert.deepStrictEqual([...fake.reported], [["app-2", 3]]);
            assert.deepStrictEqual(extension.calls.map((c) => [c.status, c.token]), [[200, true]], "Redis without AUTH here: the service token alone");
        } finally {
            await Promise.all([extension.close(), store.close()]);
        }
    });

    it("a reporter that cannot read its secrets fails the invocation at once and leaves the counts in Redis (issue 17 item 6)", async () => {
        const store = await startParameterStore();
        const extension = await startParametersExtension({ store });
        try {
            for (let i = 0; i < 2; i++) await call(KEYS[2]);
            const env = deployedEnvironment(settings, extension);
            await store.setFault("down");
            const handler = createReporterHandler(env, { log: () => undefined });
            const started = Date.now();
            await assert.rejects(handler(snsEvent("env-2")), /THREESCALE_SERVICE_TOKEN_PARAMETER names .*, which could not be read: the extension answered 400/);
            assert.ok(Date.now() - started < 6000);
            assert.strictEqual(fake.count("/transactions.xml"), 0);
            assert.strictEqual(Object.keys(await redis.hgetall(keys.pending(fake.serviceId))).length, 1, "the counts wait in Redis");
        } finally {
            await Promise.all([extension.close(), store.close()]);
        }
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
