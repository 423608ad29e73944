// Issue 17, item 2: a 3scale reply is data from the network, read with bounds. A DOCTYPE, a DTD or an
// entity is a 3scale failure (apisonator never sends one: its replies are an XML declaration and a
// <status> or <error> element, built in lib/3scale/backend/transactor/status.rb Status#to_xml and
// errors.rb / listener.rb; no DTD anywhere); a reply over 64 KiB is cut off as it streams in and is a
// failure; plan names, app ids, reasons, metric names, the number of usage reports and of attributes
// have bounds. A failure is never a decision: the failure mode decides, and nothing of it is cached.
import * as assert from "assert";
import type { Redis } from "ioredis";
import { policyEffect } from "../../handlers/access-policy";
import { createAuthorizer } from "../../handlers/authorizer";
import { createThreescaleClient, parseAuthReply } from "../../handlers/threescale";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { HostileServer, ScriptedReply, startHostileServer } from "../support/hostile-http";
import { HOSTILE_REPLIES, KEY, report, status } from "../support/hostile-replies";
import { clientFor, METHOD_ARN, testSettings } from "../support/settings";

describe("3scale replies from a hostile network (issue 17, item 2)", function () {
    this.timeout(20_000);
    let server: HostileServer;
    let next: ScriptedReply = {};

    before(async () => {
        server = await startHostileServer(() => next);
    });
    after(async () => server.close());

    const client = () => createThreescaleClient({ backendUrl: server.url, serviceId: "1", serviceToken: "token", timeoutMs: 3000 });

    for (const [name, reply] of HOSTILE_REPLIES) {
        it(`${name}: a failure, not a decision, in bounded time and memory`, async () => {
            next = reply;
            const sentBefore = server.bytesSent;
            const heapBefore = process.memoryUsage().heapUsed;
            const started = Date.now();
            const outcome = await client().authorize({ userKey: KEY }, { hits: 1 });
            assert.strictEqual(outcome.kind, "failed", JSON.stringify(outcome).slice(0, 300));
            assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
            if (reply.stream) {
                // The client stopped reading: far less than the 200 MB on offer left the server.
                await new Promise((r) => setTimeout(r, 200));
                assert.ok(server.bytesSent - sentBefore < 32 * 1024 * 1024, `${server.bytesSent - sentBefore} bytes sent`);
                assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, "heap grew by less than 64 MiB");
            }
        });
    }

    it("apisonator's own replies still parse: an XML declaration, escaped text and numeric character references", () => {
        const out = parseAuthReply(200, status(`<plan>Caf&#233; &amp; &lt;Co&gt; &quot;x&quot; &apos;</plan><usage_reports>${report()}</usage_reports><app_keys app="7781" svc="2"></app_keys>`));
        assert.ok(out.kind === "authorized", JSON.stringify(out));
        assert.strictEqual(out.plan, "Café & <Co> \"x\" '");
        assert.strictEqual(out.appId, "7781");
        assert.strictEqual(out.usageReports.length, 1);
    });

    it("a 202 report is accepted whatever its body, read no further than the bound", async () => {
        next = { status: 202, stream: { prefix: "", fill: "x", streamBytes: 50 * 1024 * 1024 } };
        const sentBefore = server.bytesSent;
        const outcome = await client().report([{ identity: { appId: "1" }, usage: { hits: 1 } }]);
        assert.strictEqual(outcome.kind, "accepted");
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(server.bytesSent - sentBefore < 32 * 1024 * 1024);
    });
});

describe("the authorizer on a hostile 3scale reply (issue 17, item 2)", function () {
    this.timeout(20_000);
    let redisServer: RedisServer;
    let fake: FakeThreescale;
    let server: HostileServer;
    let redis: Redis;

    before(async () => {
        redisServer = await startRedis();
        fake = await startThreescale();
        server = await startHostileServer(() => HOSTILE_REPLIES[0][1]);
    });
    after(async () => {
        redis?.disconnect();
        await server.close();
        await fake.close();
        await redisServer.close();
    });

    for (const failureMode of ["strict", "resilient", "allow"] as const) {
        it(`${failureMode}: the DOCTYPE "Unlimited" reply allows nothing beyond what the failure mode gives, and nothing of it is cached`, async () => {
            const settings = testSettings(redisServer, fake, { failureMode });
            settings.threescale = { ...settings.threescale, backendUrl: server.url };
            redis?.disconnect();
            redis = clientFor(redisServer, settings);
            await redis.flushall();
            const handler = createAuthorizer({ settings, redis, threescale: createThreescaleClient(settings.threescale), log: () => undefined });
            const enterprise = METHOD_ARN.replace("GET/discovery/v1/courses", "DELETE/enterprise/v1/customers");
            const r = await handler({ type: "TOKEN", authorizationToken: KEY, methodArn: enterprise });
            assert.notStrictEqual(r.context?.plan, "Unlimited");
            assert.notStrictEqual(r.context?.source, "3scale");
            if (failureMode === "allow") {
                // APIcast's allow mode: exactly the requested method and resource, counted apart, never the plan's.
                assert.deepStrictEqual((r.policyDocument.Statement[0] as { Resource: string[] }).Resource, [enterprise]);
            } else {
                assert.strictEqual(policyEffect(r), "Deny");
            }
            assert.deepStrictEqual((await redis.keys("authz:*")), [], "no decision cached");
        });
    }
});
