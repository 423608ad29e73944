import * as assert from "assert";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import type { Redis } from "ioredis";
import * as net from "net";
import { createAuthorizer, createAuthorizerHandler, AuthorizerHandler, CountingAuthorizer } from "../../handlers/authorizer";
import { policyEffect } from "../../handlers/access-policy";
import { HTTP_METHODS } from "../../handlers/routes";
import { createDecisionCache } from "../../handlers/decision-cache";
import { keys, minuteOf, parseUsageField, tokenHash, usageField } from "../../handlers/keys";
import { AuthorizerSettings, FailureMode } from "../../handlers/settings";
import { createSnsPublisher, UsageNudge, UsagePublisher } from "../../handlers/usage";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { clientFor, deployedEnvironment, METHOD_ARN, SECRET_PARAMETER_NAMES, testSettings } from "../support/settings";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";
import { ParametersExtension, startParametersExtension } from "../../dev-servers/parameters-extension";
import { FakeThreescale, Fault, startThreescale } from "../../dev-servers/threescale";

const KEY_BASIC = "basic-key-0123456789abcdef";
const KEY_UNLIMITED = "unlimited-key-0123456789ab";
const KEY_GOLD = "gold-plan-key-0123456789ab";
const KEY_LIMITED = "limited-key-0123456789abcd";
const KEY_UNKNOWN = "unknown-key-0123456789abcd";

function event(token: string | undefined): { type: "TOKEN"; authorizationToken: string; methodArn: string } {
    return { type: "TOKEN", authorizationToken: token as string, methodArn: METHOD_ARN };
}

const HEARTBEAT_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/GET/heartbeat";

function resources(r: APIGatewayAuthorizerResult): string[] {
    return (r.policyDocument.Statement[0] as { Resource: string[] }).Resource;
}

export function recordingPublisher(): UsagePublisher & { nudges: UsageNudge[]; fail: boolean; attempts: number } {
    const p = {
        nudges: [] as UsageNudge[],
        fail: false,
        attempts: 0,
        async publish(n: UsageNudge) {
            p.attempts += 1;
            if (p.fail) throw new Error("SNS unavailable");
            p.nudges.push(n);
        },
    };
    return p;
}

async function seed(fake: FakeThreescale): Promise<void> {
    fake.addApp({ id: "app-basic", userKey: KEY_BASIC, plan: "Basic" });
    fake.addApp({ id: "app-unlimited", userKey: KEY_UNLIMITED, plan: "Unlimited" });
    fake.addApp({ id: "app-gold", userKey: KEY_GOLD, plan: "Gold" });
    fake.addApp({ id: "app-limited", userKey: KEY_LIMITED, plan: "Basic", dailyHits: 2 });
}

describe("authorizer against real Redis and the 3scale stand-in", function () {
    let redisServer: RedisServer;
    let fake: FakeThreescale;
    let redis: Redis;
    let settings: AuthorizerSettings;
    let clock: number;
    let publisher: ReturnType<typeof recordingPublisher>;
    let logs: string[];
    const clients: Redis[] = [];

    before(async () => {
        redisServer = await startRedis();
    });
    after(async () => redisServer.close());

    beforeEach(async () => {
        if (redisServer) await redisServer.start().catch(() => undefined);
        fake = await startThreescale();
        await seed(fake);
        settings = testSettings(redisServer, fake);
        redis = clientFor(redisServer, settings);
        clients.push(redis);
        const admin = redisServer.admin();
        await admin.flushall();
        admin.disconnect();
        clock = Date.now();
        publisher = recordingPublisher();
        logs = [];
    });
    afterEach(async () => {
        await fake.close();
        for (const c of clients.splice(0)) c.disconnect();
    });

    const make = (overrides: Partial<AuthorizerSettings> = {}, client: Redis | null = redis): AuthorizerHandler =>
        createAuthorizer({ settings: { ...settings, ...overrides }, redis: client ?? undefined, threescale: createThreescaleFor(overrides), publisher, now: () => clock, log: (m) => logs.push(m) });
    const waitFor = async (what: string, check: () => Promise<boolean>): Promise<void> => {
        const deadline = Date.now() + 5000;
        while (!(await check())) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 20));
        }
    };
    /** Hits waiting in Redis for the reporter, by application. */
    const pendingByApp = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for (const [field, n] of Object.entries(await redis.hgetall(keys.pending(fake.serviceId)))) {
            const who = parseUsageField(field)?.who ?? field;
            out[who] = (out[who] ?? 0) + Number(n);
        }
        return out;
    };
    const createThreescaleFor = (overrides: Partial<AuthorizerSettings>) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createThreescaleClient } = require("../../handlers/threescale") as typeof import("../../handlers/threescale");
        return createThreescaleClient({ ...settings.threescale, ...overrides.threescale });
    };

    describe("tokens", () => {
        it("strips a Bearer prefix", async () => {
            const handler = make();
            const r = await handler(event(`Bearer ${KEY_BASIC}`));
            assert.strictEqual(policyEffect(r), "Allow");
            assert.strictEqual(fake.calls[0].params.get("user_key"), KEY_BASIC);
        });

        for (const [name, token] of [
            ["missing", undefined],
            ["empty", ""],
            ["only Bearer", "Bearer "],
            ["over 512 bytes", "a".repeat(513)],
            ["over 512 bytes in UTF-8 (multi-byte)", "é".repeat(300)],
            ["failing the pattern (bad characters)", "basic-key-0123456789abc$ef"],
            ["failing the pattern (too short)", "short"],
            ["matching only part of the pattern", `${KEY_BASIC} extra`],
        ] as [string, string | undefined][]) {
            it(`rejects a ${name} token as Unauthorized without any I/O`, async () => {
                const handler = make({ tokenPattern: "[A-Za-z0-9_-]{16,600}" });
                await assert.rejects(handler(event(token)), (e: Error) => e.message === "Unauthorized");
                assert.strictEqual(fake.calls.length, 0);
                assert.strictEqual((await redis.keys("*")).length, 0);
            });
        }
    });

    describe("cache", () => {
        it("asks 3scale once, then answers from Redis and counts the hit in one round trip", async () => {
            const handler = make();
            const first = await handler(event(KEY_BASIC));
            assert.strictEqual(first.context?.source, "3scale");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 1);

            const commands: string[] = [];
            const monitor = await redisServer.admin().monitor();
            // Commands a script runs show up with the source "lua"; count only what the client sent.
            monitor.on("monitor", (_t: string, args: string[], source: string) => { if (source !== "lua") commands.push(args[0].toLowerCase()); });
            await new Promise((r) => setTimeout(r, 50));
            const second = await handler(event(KEY_BASIC));
            await new Promise((r) => setTimeout(r, 50));
            monitor.disconnect();

            assert.strictEqual(second.context?.source, "cache");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 1);
            assert.strictEqual(fake.count("/transactions/authrep.xml"), 0);
            assert.deepStrictEqual(resources(second), resources(first));
            // One command from the client: EVALSHA; the lookup, the route and limit checks and the count run inside the script.
            assert.deepStrictEqual(commands, ["evalsha"]);
            // Both requests are counted in Redis, by application (authorize.xml counted nothing in 3scale).
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 2 });
            assert.strictEqual(fake.app("app-basic").hits, 0);
        });

        it("never writes the raw token to Redis", async () => {
            const handler = make({ failureMode: "allow" });
            await handler(event(KEY_BASIC));
            await handler(event(KEY_BASIC));
            await handler(event(KEY_UNKNOWN));
            fake.listAppKeys = false;
            await handler(event(KEY_UNLIMITED));
            await handler(event(KEY_UNLIMITED));
            await fake.setFault("down");
            await handler(event("never-seen-key-0123456789"));
            const dump = await redisServer.dump();
            for (const token of [KEY_BASIC, KEY_UNKNOWN]) assert.ok(!logs.some((l) => l.includes(token)), "no token in logs");
            assert.ok(dump.length >= 4);
            for (const token of [KEY_BASIC, KEY_UNKNOWN, KEY_UNLIMITED, "never-seen-key-0123456789"]) {
                for (const entry of dump) {
                    assert.ok(!entry.key.includes(token) && !entry.text.includes(token), `${token} leaked in ${entry.key}`);
                }
            }
            assert.ok(dump.some((e) => e.key === `authz:v1:${fake.serviceId}:${tokenHash(KEY_BASIC)}`));
        });

        it("keeps an allowed decision for the stale TTL and serves it fresh for the cache TTL", async () => {
            const handler = make({ cacheTtlSeconds: 60, staleTtlSeconds: 3600 });
            await handler(event(KEY_BASIC));
            const key = keys.decision(fake.serviceId, tokenHash(KEY_BASIC));
            const ttl = await redis.ttl(key);
            assert.ok(ttl > 3590 && ttl <= 3600, `ttl ${ttl}`);
            clock += 59_000;
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
            clock += 2_000;
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 2);
        });

        it("caches a 403 unknown key for the negative TTL and denies from the cache", async () => {
            const handler = make({ negativeTtlSeconds: 30 });
            const first = await handler(event(KEY_UNKNOWN));
            assert.strictEqual(policyEffect(first), "Deny");
            const key = keys.decision(fake.serviceId, tokenHash(KEY_UNKNOWN));
            const ttl = await redis.ttl(key);
            assert.ok(ttl > 25 && ttl <= 30, `ttl ${ttl}`);
            const second = await handler(event(KEY_UNKNOWN));
            assert.strictEqual(policyEffect(second), "Deny");
            assert.strictEqual(second.context?.source, "cache");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 1);
            assert.strictEqual(await redis.exists(keys.pending(fake.serviceId)), 0);
        });

        it("caches a 409 limits exceeded as a denial", async () => {
            // 3scale's own figure is at the limit (the hits were reported earlier).
            fake.addApp({ id: "app-full", userKey: "full-key-0123456789abcdef", plan: "Basic", dailyHits: 2, hits: 2 });
            const handler = make({ cacheTtlSeconds: 0 });
            const first = await handler(event("full-key-0123456789abcdef"));
            assert.strictEqual(policyEffect(first), "Deny");
            assert.strictEqual(first.context?.reason, "usage limits are exceeded");
            assert.strictEqual((await handler(event("full-key-0123456789abcdef"))).context?.source, "cache");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 1);
            assert.strictEqual(fake.app("app-full").hits, 2, "a 409 counts nothing");
        });

        it("counts a limited plan down locally from 3scale's usage_reports and denies at zero, before any report (item 3)", async () => {
            // dailyHits 2: the old code served 3 (the third only failed at the next 3scale call).
            const handler = make({ cacheTtlSeconds: 0 });
            assert.strictEqual(policyEffect(await handler(event(KEY_LIMITED))), "Allow");
            assert.strictEqual(policyEffect(await handler(event(KEY_LIMITED))), "Allow");
            const third = await handler(event(KEY_LIMITED));
            assert.strictEqual(policyEffect(third), "Deny");
            assert.strictEqual(third.context?.reason, "usage limits are exceeded");
            assert.deepStrictEqual(await pendingByApp(), { "app-limited": 2 }, "the denied request is not counted");
            // With the decision cached, the count-down happens in the lookup itself.
            const cached = make({ cacheTtlSeconds: 60 });
            await redisServer.admin().flushall();
            const served = [];
            for (let i = 0; i < 4; i++) served.push(policyEffect(await cached(event(KEY_LIMITED))));
            assert.deepStrictEqual(served, ["Allow", "Allow", "Deny", "Deny"]);
            const last = await cached(event(KEY_LIMITED));
            assert.deepStrictEqual([last.context?.source, last.context?.reason], ["cache", "usage limits are exceeded"]);
            assert.deepStrictEqual(await pendingByApp(), { "app-limited": 2 });
        });

        it("reads the figures again when a limit's period ends (item 3: a new period refreshes them)", async () => {
            fake.addApp({ id: "app-min", userKey: "minute-key-0123456789abcd", plan: "Basic", limits: { minute: 1, day: 100 } });
            const handler = make({ cacheTtlSeconds: 300 });
            clock = Math.floor(Date.now() / 60_000) * 60_000 + 1_000; // early in a minute
            assert.strictEqual(policyEffect(await handler(event("minute-key-0123456789abcd"))), "Allow");
            const denied = await handler(event("minute-key-0123456789abcd"));
            assert.deepStrictEqual([policyEffect(denied), denied.context?.reason], ["Deny", "usage limits are exceeded"]);
            const ttl = Number(await redis.hget(keys.decision(fake.serviceId, tokenHash("minute-key-0123456789abcd")), "f")) - clock;
            assert.ok(ttl <= 59_000, `fresh only until the minute ends, not for the cache TTL (${ttl} ms)`);
            clock += 60_000; // next minute: the decision is stale, 3scale is asked again
            const next = await handler(event("minute-key-0123456789abcd"));
            assert.strictEqual(next.context?.source, "3scale");
            assert.strictEqual(fake.count("/transactions/authorize.xml"), 2);
        });
    });

    describe("limits to clients (issue 20, item 5)", () => {
        const FIVE = "five-key-0123456789abcdef";
        const FULL = "full-key-0123456789abcdef";
        const endOfDay = (t: number): number => { const d = new Date(t); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1); };

        it("asks 3scale with limit_headers=1 and tells backends what is left of the tightest limit and when it resets, from 3scale and the local count-down", async () => {
            fake.addApp({ id: "app-five", userKey: FIVE, plan: "Basic", limits: { day: 5, month: 100 } });
            const handler = make();
            const reset = Math.ceil((endOfDay(clock) - clock) / 1000);
            const seen = [];
            for (let i = 0; i < 5; i++) {
                const r = await handler(event(FIVE));
                seen.push([policyEffect(r), r.context?.source, r.context?.limitRemaining, r.context?.limitReset]);
            }
            assert.deepStrictEqual(seen, [["Allow", "3scale", 4, reset], ["Allow", "cache", 3, reset], ["Allow", "cache", 2, reset], ["Allow", "cache", 1, reset], ["Allow", "cache", 0, reset]]);
            assert.match(String(fake.calls.find((c) => c.path === "/transactions/authorize.xml")?.headers["3scale-options"]), /(^|&)limit_headers=1(&|$)/);
            clock += 60_000;
            const denied = await handler(event(FIVE));
            assert.deepStrictEqual([policyEffect(denied), denied.context?.reason, denied.context?.retryAfter], ["Deny", "usage limits are exceeded", String(reset - 60)]);
            const unlimited = await handler(event(KEY_UNLIMITED));
            assert.deepStrictEqual([unlimited.context?.limitRemaining, unlimited.context?.limitReset], [-1, -1], "no limit: apisonator's -1");
            const route = await handler({ ...event(KEY_BASIC), methodArn: HEARTBEAT_ARN });
            assert.deepStrictEqual([policyEffect(route), route.context?.retryAfter], ["Deny", ""], "a denial a retry cannot change says no time");
        });

        it("a 409 from 3scale says when to retry from its 3scale-limit-reset, and the cached denial counts it down", async () => {
            fake.addApp({ id: "app-full", userKey: FULL, plan: "Basic", limits: { day: 2 }, hits: 2 });
            const handler = make();
            const first = await handler(event(FULL));
            const reset = Math.ceil((endOfDay(Date.now()) - Date.now()) / 1000);
            assert.deepStrictEqual([policyEffect(first), first.context?.source, first.context?.reason], ["Deny", "3scale", "usage limits are exceeded"]);
            assert.ok(Math.abs(Number(first.context?.retryAfter) - reset) <= 1, `retryAfter ${String(first.context?.retryAfter)}, 3scale's reset ${reset}`);
            clock += 10_000;
            const cached = await handler(event(FULL));
            assert.strictEqual(cached.context?.source, "cache");
            assert.ok(Math.abs(Number(cached.context?.retryAfter) - (reset - 10)) <= 1, `retryAfter ${String(cached.context?.retryAfter)}`);
        });
    });

    describe("policy", () => {
        it("maps plans to execute-api ARNs: *, a list, unknown plan -> default routes", async () => {
            const handler = make({ defaultRoutes: ["heartbeat"] });
            const prefix = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/";
            const unlimited = await handler(event(KEY_UNLIMITED));
            const each = (path: string) => HTTP_METHODS.map((m) => `${prefix}${m}/${path}`);
            assert.deepStrictEqual(resources(unlimited), each("*"));
            assert.strictEqual(unlimited.principalId, "app-unlimited");
            assert.deepStrictEqual(unlimited.context, { plan: "Unlimited", appId: "app-unlimited", source: "3scale", limitRemaining: -1, limitReset: -1 });
            assert.deepStrictEqual(resources(await handler(event(KEY_BASIC))), each("discovery/*"));
            assert.deepStrictEqual(resources(await handler({ ...event(KEY_GOLD), methodArn: HEARTBEAT_ARN })), HTTP_METHODS.flatMap((m) => [`${prefix}${m}/heartbeat`, `${prefix}${m}/heartbeat/`]));
        });

        it("matches plan names whole, from 3scale and from the cache: Gold is neither Gold Plus nor known through it", async () => {
            const enterprise = { ...event(KEY_GOLD), methodArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/GET/enterprise/v1/customers" };
            // Gold Plus grants the route, Gold is not configured and the default routes do not: denied.
            const granting = make({ planRoutes: { "Gold Plus": ["enterprise/*"] }, defaultRoutes: [] });
            // Gold Plus does not grant it, Gold is not configured and the default routes do: allowed.
            const defaulting = make({ planRoutes: { "Gold Plus": ["discovery/*"] }, defaultRoutes: ["enterprise/*"] });
            const seen = [];
            for (const handler of [granting, granting, defaulting, defaulting]) {
                const r = await handler(enterprise);
                seen.push([policyEffect(r), r.context?.source]);
            }
            assert.deepStrictEqual(seen, [["Deny", "3scale"], ["Deny", "cache"], ["Allow", "cache"], ["Allow", "cache"]]);
        });

        it("denies a plan mapped to [] even though 3scale authorized it", async () => {
            fake.addApp({ id: "app-s", userKey: "suspended-plan-key-012345", plan: "Suspended" });
            const r = await make()(event("suspended-plan-key-012345"));
            assert.strictEqual(policyEffect(r), "Deny");
        });

        it("uses a key-hash principal when 3scale does not name the application", async () => {
            fake.listAppKeys = false;
            const r = await make()(event(KEY_BASIC));
            assert.strictEqual(r.principalId, `key-${tokenHash(KEY_BASIC).slice(0, 16)}`);
            assert.strictEqual(r.context?.appId, "");
        });
    });

    describe("failure modes (3scale unreachable, slow, 5xx, malformed)", () => {
        const faults: Fault[] = ["down", "slow", "5xx", "garbage"];
        const expectations: Record<FailureMode, { noRecord: "Allow" | "Deny"; stale: "Allow" | "Deny"; knownDenied: "Deny" }> = {
            strict: { noRecord: "Deny", stale: "Deny", knownDenied: "Deny" },
            resilient: { noRecord: "Deny", stale: "Allow", knownDenied: "Deny" },
            allow: { noRecord: "Allow", stale: "Allow", knownDenied: "Deny" },
        };
        for (const mode of ["strict", "resilient", "allow"] as FailureMode[]) {
            for (const fault of faults) {
                it(`${mode} x ${fault}: ${JSON.stringify(expectations[mode])}`, async () => {
                    fake.slowMs = 2000;
                    const handler = make({ failureMode: mode, cacheTtlSeconds: 10, defaultRoutes: ["discovery/*"] });
                    await handler(event(KEY_BASIC)); // decision cached
                    await handler(event(KEY_UNKNOWN)); // denial cached
                    clock += 11_000; // the allowed decision is stale now
                    const before = await pendingByApp();
                    await fake.setFault(fault);
                    const started = Date.now();
                    const stale = await handler(event(KEY_BASIC));
                    const noRecord = await handler(event(KEY_UNLIMITED));
                    const denied = await handler(event(KEY_UNKNOWN));
                    assert.ok(Date.now() - started < 2000, "bounded by the 3scale timeout");
                    assert.strictEqual(policyEffect(stale), expectations[mode].stale, "stale decision");
                    assert.strictEqual(policyEffect(noRecord), expectations[mode].noRecord, "no record");
                    assert.strictEqual(policyEffect(denied), expectations[mode].knownDenied, "known denied");
                    if (mode !== "strict") {
                        assert.deepStrictEqual(resources(stale), HTTP_METHODS.map((m) => `arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/${m}/discovery/*`));
                        assert.strictEqual(stale.context?.source, "stale");
                        // 3scale never saw this hit: it waits in Redis for the reporter.
                        assert.strictEqual((await pendingByApp())["app-basic"], before["app-basic"] + 1);
                    } else {
                        assert.strictEqual(stale.context?.source, "fail-closed");
                    }
                    assert.ok(logs.some((l) => l.includes("3scale failed")));
                    await fake.setFault("none");
                });
            }
        }

        // Issue 11 item 5 (APIcast's allow semantics) replaces "allow mode grants the default routes" and
        // "allow mode denies, and counts nothing, when the default routes do not grant the request".
        it("allow mode with nothing known allows exactly the requested route, whatever the default routes, and counts it apart", async () => {
            for (const defaultRoutes of [[], ["heartbeat"]]) {
                await redis.flushall();
                const handler = make({ failureMode: "allow", defaultRoutes });
                await fake.setFault("down");
                const r = await handler(event(KEY_BASIC));
                assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Allow", "fail-open"]);
                assert.deepStrictEqual(resources(r), [METHOD_ARN], "the requested method and resource, nothing more");
                const heartbeat = await handler({ ...event(KEY_BASIC), methodArn: HEARTBEAT_ARN });
                assert.deepStrictEqual(resources(heartbeat), [HEARTBEAT_ARN]);
                const unconfirmed = await redis.hgetall(keys.unconfirmed(fake.serviceId));
                assert.deepStrictEqual(Object.values(unconfirmed), ["2"], "counted, apart from confirmed applications");
                assert.deepStrictEqual(await pendingByApp(), {});
                await fake.setFault("none");
            }
        });

        it("treats refusals about our own service as 3scale failures and caches no denial: service not active, credential type (item 5)", async () => {
            const handler = make({ failureMode: "resilient", cacheTtlSeconds: 10 });
            await handler(event(KEY_BASIC)); // a decision to fall back on
            clock += 11_000;
            fake.serviceState = "suspended";
            const suspended = await handler(event(KEY_BASIC));
            assert.deepStrictEqual([policyEffect(suspended), suspended.context?.source], ["Allow", "stale"]);
            const unseen = await handler(event(KEY_UNLIMITED));
            assert.deepStrictEqual([policyEffect(unseen), unseen.context?.source], ["Deny", "fail-closed"]);
            assert.match(String(unseen.context?.reason ?? ""), /service_not_active/);
            fake.serviceState = "active";
            fake.backendVersion = "2"; // the service now wants app_id: our user_key is the wrong credential type
            const wrongType = await handler(event(KEY_UNLIMITED));
            assert.deepStrictEqual([policyEffect(wrongType), wrongType.context?.source], ["Deny", "fail-closed"]);
            for (const key of [KEY_BASIC, KEY_UNLIMITED]) {
                assert.notStrictEqual(await redis.hget(keys.decision(fake.serviceId, tokenHash(key)), "a"), "0", "no denial cached for the key");
            }
            fake.backendVersion = "1";
            assert.strictEqual(policyEffect(await handler(event(KEY_UNLIMITED))), "Allow");
        });

        it("treats a 403 about the service token as a 3scale failure and caches nothing", async () => {
            const handler = make({ failureMode: "strict", threescale: { ...settings.threescale, serviceToken: "wrong-token" } });
            const r = await handler(event(KEY_BASIC));
            assert.strictEqual(policyEffect(r), "Deny");
            assert.strictEqual(await redis.exists(keys.decision(fake.serviceId, tokenHash(KEY_BASIC))), 0);
        });
    });

    describe("Redis faults", () => {
        it("keeps answering through 3scale when Redis is stopped mid-run, and uses it again when back", async () => {
            const handler = make();
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
            await redisServer.stop();
            for (let i = 0; i < 5; i++) {
                const started = Date.now();
                const r = await handler(event(KEY_BASIC));
                assert.strictEqual(policyEffect(r), "Allow");
                assert.strictEqual(r.context?.source, "3scale");
                assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
            }
            assert.strictEqual(policyEffect(await handler(event(KEY_UNKNOWN))), "Deny");
            await redisServer.start();
            const deadline = Date.now() + 5000;
            while (redis.status !== "ready" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
            assert.strictEqual(redis.status, "ready");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
        });

        it("answers through 3scale within the bound when Redis is slow (CLIENT PAUSE)", async () => {
            const handler = make();
            await handler(event(KEY_BASIC));
            await redisServer.pause(1500);
            const started = Date.now();
            const r = await handler(event(KEY_BASIC));
            const took = Date.now() - started;
            assert.strictEqual(policyEffect(r), "Allow");
            assert.strictEqual(r.context?.source, "3scale");
            assert.ok(took < settings.redis.timeoutMs * 2 + settings.threescale.timeoutMs + 200, `took ${took} ms`);
            assert.ok(logs.some((l) => l.includes("redis unavailable")));
            await new Promise((r) => setTimeout(r, 1500 - took));
        });

        it("works with no Redis configured at all", async () => {
            const handler = make({}, null);
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
        });
    });

    describe("metering: every allowed request counted once, nothing denied counted", () => {
        const ENTERPRISE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/GET/enterprise/v1/customers";

        it("denies a route outside the plan and counts nothing, cached or not (issue: 10 of 10 counted)", async () => {
            const handler = make();
            for (let i = 0; i < 5; i++) {
                const r = await handler({ ...event(KEY_BASIC), methodArn: ENTERPRISE_ARN });
                assert.deepStrictEqual([policyEffect(r), r.context?.reason, r.context?.source], ["Deny", "route not in plan", i === 0 ? "3scale" : "cache"]);
            }
            assert.deepStrictEqual(await pendingByApp(), {});
            assert.strictEqual(fake.app("app-basic").hits, 0, "authorize.xml counts nothing in 3scale either");
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 1 });
        });

        it("a stalled Redis never makes a hit count twice: the late script counts nothing, the container's count is replayed once (item 4)", async () => {
            // The old authorizer sent authrep (3scale counted) while the stalled lookup counted again on wake-up.
            const handler = make();
            await handler(event(KEY_BASIC)); // cached and counted: 1
            await redisServer.pause(800);
            const during = [];
            for (let i = 0; i < 4; i++) during.push(await handler(event(KEY_BASIC), { awsRequestId: `stalled-${i}` }));
            assert.deepStrictEqual(during.map((r) => [policyEffect(r), r.context?.source]), Array(4).fill(["Allow", "3scale"]));
            // Redis wakes up and runs the queued lookups after their deadlines (they count nothing), and
            // maybe a replay the container sent meanwhile (it counts each held invocation once).
            await new Promise((r) => setTimeout(r, 900));
            await handler(event(KEY_BASIC)); // Redis answers again: the container replays what it held
            await waitFor("the replay", async () => (await pendingByApp())["app-basic"] === 6);
            await new Promise((r) => setTimeout(r, 100));
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 6 }, "1 + 4 held + 1 = every allowed request once");
            assert.strictEqual(fake.app("app-basic").hits, 0, "and never in 3scale as well");
            assert.strictEqual(fake.count("/transactions/authrep.xml"), 0);
        });

        it("hits served while Redis is down are held in the container and counted once it is back (allow mode served them nowhere before)", async () => {
            const handler = make();
            await handler(event(KEY_BASIC));
            await redisServer.stop(); // the count of 1 dies with Redis
            for (let i = 0; i < 3; i++) assert.strictEqual(policyEffect(await handler(event(KEY_UNLIMITED), { awsRequestId: `down-${i}` })), "Allow");
            await redisServer.start();
            await waitFor("redis", async () => redis.status === "ready");
            await handler(event(KEY_UNLIMITED), { awsRequestId: "back-0" });
            await waitFor("the replay", async () => (await pendingByApp())["app-unlimited"] === 4);
            assert.deepStrictEqual(await pendingByApp(), { "app-unlimited": 4 });
            // The replay also tells the new ledger which credential 3scale confirmed, for the reporter's questions.
            assert.ok(await redis.hget(keys.app(fake.serviceId, "app-unlimited"), "k"));
        });

        it("replaying the same invocation counts it once", async () => {
            const cache = createDecisionCache(redis, { ...settings, serviceId: fake.serviceId });
            const hit = { invocationId: "req-1", target: "pending" as const, field: usageField(minuteOf(Date.now()), "app-basic"), uid: "app-basic" };
            assert.deepStrictEqual(await cache.replayHits([hit, { ...hit, invocationId: "req-2" }]), { applied: 2, publish: true });
            assert.deepStrictEqual(await cache.replayHits([hit]), { applied: 0, publish: false });
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 2 });
            assert.strictEqual(await redis.hget(keys.app(fake.serviceId, "app-basic"), "u"), "2");
        });

        it("allow mode keeps an unconfirmed credential's hits apart, sealed, never in the confirmed counts", async () => {
            const handler = make({ failureMode: "allow", defaultRoutes: ["discovery/*"] });
            await fake.setFault("5xx");
            for (let i = 0; i < 3; i++) assert.strictEqual((await handler(event("made-up-token-0123456789ab"))).context?.source, "fail-open");
            assert.deepStrictEqual(await pendingByApp(), {});
            const unconfirmed = await redis.hgetall(keys.unconfirmed(fake.serviceId));
            assert.deepStrictEqual(Object.values(unconfirmed), ["3"]);
            assert.ok(!Object.keys(unconfirmed)[0].includes("made-up-token"), "sealed, not raw");
        });
    });

    describe("last known decisions kept in the container (issue 17 item 7)", () => {
        const ENTERPRISE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/GET/enterprise/v1/customers";
        const waitReady = () => waitFor("redis", async () => redis.status === "ready");

        it("resilient: with Redis stopped mid-run and 3scale down, a known key is served from the container and its hits held, then counted once", async () => {
            const handler = make({ failureMode: "resilient" });
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
            assert.strictEqual(policyEffect(await handler(event(KEY_LIMITED))), "Allow"); // 1 of its 2 daily hits
            assert.strictEqual(policyEffect(await handler(event(KEY_UNKNOWN))), "Deny");
            await redisServer.stop(); // the counts so far die with it
            await fake.setFault("down");
            for (let i = 0; i < 3; i++) {
                const r = await handler(event(KEY_BASIC), { awsRequestId: `outage-basic-${i}` });
                assert.deepStrictEqual([policyEffect(r), r.context?.source, r.context?.plan, r.context?.appId], ["Allow", "stale", "Basic", "app-basic"]);
                assert.deepStrictEqual(resources(r), HTTP_METHODS.map((m) => `arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/${m}/discovery/*`));
            }
            const outside = await handler({ ...event(KEY_BASIC), methodArn: ENTERPRISE_ARN });
            assert.deepStrictEqual([policyEffect(outside), outside.context?.reason], ["Deny", "route not in plan"]);
            // The counting rules while Redis is down stay: within what this container last knew was left.
            assert.strictEqual(policyEffect(await handler(event(KEY_LIMITED), { awsRequestId: "outage-limited-0" })), "Allow");
            const spent = await handler(event(KEY_LIMITED), { awsRequestId: "outage-limited-1" });
            assert.deepStrictEqual([policyEffect(spent), spent.context?.reason], ["Deny", "usage limits are exceeded"]);
            assert.strictEqual(policyEffect(await handler(event(KEY_UNKNOWN))), "Deny");
            const unseen = await handler(event(KEY_UNLIMITED));
            assert.deepStrictEqual([policyEffect(unseen), unseen.context?.source], ["Deny", "fail-closed"]);
            assert.strictEqual((handler as CountingAuthorizer).heldHits(), 4);

            await redisServer.start();
            await waitReady();
            // Redis answers (empty), 3scale still down: served from the container again, counted in Redis, and the held hits replayed.
            const back = await handler(event(KEY_BASIC), { awsRequestId: "outage-still-3scale-down" });
            assert.deepStrictEqual([policyEffect(back), back.context?.source], ["Allow", "stale"]);
            await waitFor("the replay", async () => (await pendingByApp())["app-limited"] === 1);
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 4, "app-limited": 1 }, "every hit served since Redis died, once");
        });

        it("allow: a key 3scale refused stays refused while Redis and 3scale are down, never served fail-open", async () => {
            const handler = make({ failureMode: "allow" });
            assert.strictEqual(policyEffect(await handler(event(KEY_UNKNOWN))), "Deny");
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            await redisServer.stop();
            await fake.setFault("down");
            const refused = await handler(event(KEY_UNKNOWN));
            assert.deepStrictEqual([policyEffect(refused), refused.context?.source], ["Deny", "stale"]);
            assert.match(String(refused.context?.reason), /user_key_invalid|invalid/);
            const known = await handler(event(KEY_BASIC));
            assert.deepStrictEqual([policyEffect(known), known.context?.source, known.context?.plan], ["Allow", "stale", "Basic"]);
            assert.strictEqual((await handler(event(KEY_UNLIMITED))).context?.source, "fail-open", "nothing known: APIcast's allow");
        });

        it("serves the container's decision when Redis answers but lost it (flushed), 3scale down", async () => {
            const handler = make({ failureMode: "resilient" });
            await handler(event(KEY_BASIC));
            await redis.flushall();
            await fake.setFault("down");
            const r = await handler(event(KEY_BASIC), { awsRequestId: "flushed-0" });
            assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Allow", "stale"]);
            assert.deepStrictEqual(await pendingByApp(), { "app-basic": 1 }, "counted in Redis, which answers");
        });

        it("a decision older than the stale TTL is not served", async () => {
            const handler = make({ failureMode: "resilient", staleTtlSeconds: 600 });
            await handler(event(KEY_BASIC));
            await redisServer.stop();
            await fake.setFault("down");
            clock += 601_000;
            const r = await handler(event(KEY_BASIC));
            assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Deny", "fail-closed"]);
        });

        it("strict keeps no decision to fall back on", async () => {
            const handler = make({ failureMode: "strict" });
            await handler(event(KEY_BASIC));
            await redisServer.stop();
            await fake.setFault("down");
            const r = await handler(event(KEY_BASIC));
            assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Deny", "fail-closed"]);
        });
    });

    describe("usage nudges", () => {
        it("publishes at most once per window per service", async () => {
            const handler = make({ usageWindowSeconds: 60 });
            for (let i = 0; i < 20; i++) {
                await handler(event(KEY_BASIC));
                await handler(event(KEY_UNLIMITED));
            }
            assert.strictEqual(publisher.nudges.length, 1);
            assert.deepStrictEqual({ ...publisher.nudges[0], at: "" }, { serviceId: fake.serviceId, reason: "window", at: "" });
            const ttl = await redis.ttl(keys.window(fake.serviceId));
            assert.ok(ttl > 55 && ttl <= 60);
            await redis.del(keys.window(fake.serviceId)); // the window ends
            await handler(event(KEY_BASIC));
            assert.strictEqual(publisher.nudges.length, 2);
        });

        it("window 0 publishes once per counted request", async () => {
            const handler = make({ usageWindowSeconds: 0 });
            for (let i = 0; i < 5; i++) await handler(event(KEY_BASIC));
            // Every request is counted in Redis (the first one with its decision), so each nudges.
            assert.deepStrictEqual(publisher.nudges.map((n) => n.reason), ["request", "request", "request", "request", "request"]);
        });

        // Issue 11 item 2 replaces "gives the window back when SNS fails, so the next request nudges again":
        // with SNS down that put one failed publish on every request.
        it("an SNS that fails costs one attempt per window: the window is kept, the schedule flushes", async () => {
            const handler = make({ usageWindowSeconds: 60 });
            publisher.fail = true;
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            await new Promise((resolve) => setImmediate(resolve));
            assert.strictEqual(await redis.exists(keys.window(fake.serviceId)), 1);
            publisher.fail = false;
            for (let i = 0; i < 5; i++) assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            assert.deepStrictEqual([publisher.attempts, publisher.nudges.length], [1, 0]);
            assert.ok(logs.some((l) => l.includes("usage nudge failed")));
        });

        it("an SNS endpoint that accepts and never answers holds no decision: the publish goes on behind it, once per window", async () => {
            const sockets: net.Socket[] = [];
            const hanging = net.createServer((socket) => {
                sockets.push(socket);
                socket.on("error", () => undefined);
            });
            await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
            const saved = { ...process.env };
            Object.assign(process.env, { AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(hanging.address() as net.AddressInfo).port}`,
                AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local" });
            try {
                const sns = createSnsPublisher("arn:aws:sns:eu-west-1:123456789012:usage", 1000);
                let settled = false;
                const watched = { publish: (n: UsageNudge) => sns.publish(n).finally(() => (settled = true)) };
                const handler = createAuthorizer({ settings: { ...settings, usageWindowSeconds: 60 }, redis, threescale: createThreescaleFor({}), publisher: watched, now: () => clock, log: (m) => logs.push(m) });
                await handler(event(KEY_BASIC)); // decision cached; the window's nudge starts and hangs
                for (let i = 0; i < 5; i++) assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
                assert.strictEqual(settled, false, "every decision was answered while the publish still hung");
                await waitFor("the hanging publish to give up", async () => settled);
                assert.strictEqual(sockets.length, 1, "one attempt in the window");
                assert.ok(logs.some((l) => l.includes("usage nudge failed")), "the publish gave up at its own bound");
            } finally {
                process.env = saved;
                for (const socket of sockets) socket.destroy();
                await new Promise<void>((resolve) => hanging.close(() => resolve()));
            }
        });
    });

    describe("TLS with AUTH, as ElastiCache runs", () => {
        let tlsServer: RedisServer;
        before(async () => {
            tlsServer = await startRedis({ tls: true, password: "s3cret-auth-token-0123" });
        });
        after(async () => tlsServer.close());

        it("caches decisions over TLS with the AUTH token", async () => {
            const tlsSettings = testSettings(tlsServer, fake);
            const client = clientFor(tlsServer, tlsSettings);
            clients.push(client);
            const handler = createAuthorizer({ settings: tlsSettings, redis: client, threescale: createThreescaleFor({}), now: () => clock });
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "cache");
            const admin = tlsServer.admin();
            assert.strictEqual(await admin.exists(keys.decision(fake.serviceId, tokenHash(KEY_BASIC))), 1);
        });

        it("fails over to 3scale when the AUTH token is wrong, without hanging", async () => {
            const bad = testSettings(tlsServer, fake);
            bad.redis.authToken = "wrong";
            const client = clientFor(tlsServer, bad);
            clients.push(client);
            const handler = createAuthorizer({ settings: bad, redis: client, threescale: createThreescaleFor({}), now: () => clock, log: () => undefined });
            for (let i = 0; i < 2; i++) {
                const started = Date.now();
                const r = await handler(event(KEY_BASIC));
                assert.strictEqual(r.context?.source, "3scale");
                assert.ok(Date.now() - started < 1000);
            }
        });
    });

    describe("entry point: the tokens come from the parameter store, through the Parameters and Secrets extension (issue 17 item 6)", () => {
        let store: ParameterStore;
        let extension: ParametersExtension;
        let authServer: RedisServer;
        before(async () => {
            authServer = await startRedis({ password: "entry-auth-token-0123456789" });
        });
        after(async () => authServer.close());
        beforeEach(async () => {
            store = await startParameterStore();
            extension = await startParametersExtension({ store });
            const admin = authServer.admin();
            await admin.flushall();
            admin.disconnect();
        });
        afterEach(async () => Promise.all([extension.close(), store.close()]));
        const deployed = (overrides: Partial<AuthorizerSettings> = {}) => testSettings(authServer, fake, overrides);

        it("reads the service token and the Redis AUTH token on the first invocation, one GET each, and never again; the environment names only the parameters", async () => {
            const s = deployed();
            const env = deployedEnvironment(s, extension);
            for (const secret of [s.threescale.serviceToken, s.redis.authToken]) {
                assert.ok(!Object.values(env).some((v) => v.includes(secret)), "no token in the functions' configuration");
            }
            const handler = createAuthorizerHandler(env);
            assert.strictEqual((await handler(event(KEY_BASIC))).context?.source, "3scale");
            for (let i = 0; i < 5; i++) assert.strictEqual((await handler(event(`Bearer ${KEY_BASIC}`))).context?.source, "cache");
            await assert.rejects(handler(event("bad token")), /Unauthorized/);
            assert.deepStrictEqual(extension.calls.map((c) => [c.name, c.withDecryption, c.token]).sort(),
                [[SECRET_PARAMETER_NAMES.redisAuthToken, true, true], [SECRET_PARAMETER_NAMES.serviceToken, true, true]]);
            assert.strictEqual(fake.calls[0].params.get("service_token"), s.threescale.serviceToken);
        });

        it("a secrets reader given in place of the environment's is the one used: nothing is asked of the extension (the cold-start bench's start without the read)", async () => {
            const s = deployed();
            let reads = 0;
            const secrets = { get: async () => (reads++, { serviceToken: s.threescale.serviceToken, redisAuthToken: s.redis.authToken }) };
            const handler = createAuthorizerHandler(deployedEnvironment(s, extension), { secrets });
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            assert.deepStrictEqual([reads, extension.calls.length], [1, 0]);
        });

        it("the extension is not listening while the container loads (Init): nothing is asked then, and the first invocation reads the secrets and allows", async () => {
            await extension.setFault("down");
            const handler = createAuthorizerHandler(deployedEnvironment(deployed(), extension), { now: () => clock, log: (m) => logs.push(m) });
            await new Promise((resolve) => setTimeout(resolve, 50));
            await extension.setFault("none"); // the Init phase ends
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
            assert.deepStrictEqual(logs.filter((l) => l.includes("secrets")), [], "no failed read at module load");
        });

        it("strict: the extension unreachable denies (fail-closed) within the bound, asks nothing of 3scale, and serves once it answers", async () => {
            const env = deployedEnvironment(deployed(), extension);
            await extension.setFault("down");
            const handler = createAuthorizerHandler(env, { now: () => clock, log: (m) => logs.push(m) });
            const started = Date.now();
            const r = await handler(event(KEY_BASIC));
            assert.ok(Date.now() - started < 1500, `answered in ${Date.now() - started} ms`);
            assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Deny", "fail-closed"]);
            assert.match(String(r.context?.reason), /secrets/);
            await assert.rejects(handler(event("bad token")), /Unauthorized/, "a malformed credential is still 401 before any I/O");
            assert.strictEqual(fake.calls.length, 0);
            await extension.setFault("none");
            clock += 60_000; // past the back-off
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Allow");
        });

        it("a Parameter Store that hangs (and with it the extension) costs at most one request's wait per back-off period; requests meanwhile are answered at once", async () => {
            const env = deployedEnvironment(deployed(), extension);
            await store.setFault("hang");
            const handler = createAuthorizerHandler(env, { now: () => clock, log: (m) => logs.push(m) });
            const waits: number[] = [];
            for (let i = 0; i < 10; i++) {
                const started = Date.now();
                assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Deny");
                waits.push(Date.now() - started);
            }
            assert.ok(waits[0] <= 1500, `the first waits at most the read's bound: ${waits[0]} ms`);
            assert.ok(waits.slice(1).every((w) => w < 100), `the others do not wait: ${waits.join(", ")}`);
            // The extension, waiting on Parameter Store, has not answered: count what reached the store.
            assert.strictEqual(store.calls.length, 2, "one read: a GetParameter a parameter");
            clock += 60_000;
            await handler(event(KEY_BASIC));
            assert.strictEqual(store.calls.length, 4, "one more read after the back-off");
        });

        it("allow: with the store unreachable, the requested route is served and each hit held, then counted as unconfirmed once the store and Redis answer", async () => {
            const env = deployedEnvironment(deployed({ failureMode: "allow" }), extension);
            await store.setFault("down");
            const handler = createAuthorizerHandler(env, { now: () => clock, log: (m) => logs.push(m) });
            for (let i = 0; i < 3; i++) {
                const r = await handler(event(KEY_BASIC), { awsRequestId: `no-store-${i}` });
                assert.deepStrictEqual([policyEffect(r), r.context?.source], ["Allow", "fail-open"]);
                assert.deepStrictEqual(resources(r), [METHOD_ARN]);
            }
            await store.setFault("none");
            clock += 60_000;
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC), { awsRequestId: "store-back" })), "Allow");
            const admin = authServer.admin();
            try {
                await waitFor("the held hits", async () => Object.values(await admin.hgetall(keys.unconfirmed(fake.serviceId))).reduce((n, v) => n + Number(v), 0) === 3);
                const fields = Object.keys(await admin.hgetall(keys.unconfirmed(fake.serviceId)));
                assert.ok(fields.every((f) => !f.includes(KEY_BASIC)), "sealed, never raw");
            } finally {
                admin.disconnect();
            }
        });

        it("a parameter the store does not hold is named in the log, and no log line carries a token", async () => {
            const s = deployed();
            const env = deployedEnvironment(s, extension);
            store.remove(SECRET_PARAMETER_NAMES.redisAuthToken);
            const handler = createAuthorizerHandler(env, { now: () => clock, log: (m) => logs.push(m) });
            assert.strictEqual(policyEffect(await handler(event(KEY_BASIC))), "Deny");
            assert.ok(logs.some((l) => l.includes(SECRET_PARAMETER_NAMES.redisAuthToken) && l.includes("REDIS_AUTH_TOKEN_PARAMETER")), logs.join("\n"));
            assert.ok(!logs.some((l) => l.includes(s.threescale.serviceToken)));
        });

        it("refuses to start with invalid settings, naming the variable", () => {
            assert.throws(() => createAuthorizerHandler({ ...deployedEnvironment(deployed(), extension), FAILURE_MODE: "sometimes" }), /FAILURE_MODE/);
        });

        it("refuses to start with a token in its environment, naming the variable and where it belongs", () => {
            const env = deployedEnvironment(deployed(), extension);
            for (const [name, instead] of [["THREESCALE_SERVICE_TOKEN", "THREESCALE_SERVICE_TOKEN_PARAMETER"], ["REDIS_AUTH_TOKEN", "REDIS_AUTH_TOKEN_PARAMETER"]]) {
                assert.throws(() => createAuthorizerHandler({ ...env, [name]: "a-token-in-plain-sight" }), (e: Error) =>
                    e.message.includes(`${name}: set, but a secret must not be in the function's configuration`) && e.message.includes(instead) && !e.message.includes("a-token-in-plain-sight"));
            }
        });
    });
});
