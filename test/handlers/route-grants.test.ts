// Issue 17, item 1: a plan route grants exactly the paths it names.
//
// The oracle is a plain segment-by-segment reading of a route ("discovery/*": every path under
// discovery/, one segment or more; "GET enterprise/v1/*": only GET; "*": everything), and API
// Gateway's own evaluation of the policy the authorizer returns: an execute-api resource ARN
// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}` in which `*` stands for any
// run of characters, `/` included, and `?` for one character (AWS, "Control access to an API with IAM
// permissions" / "Statement reference of IAM policies for executing API in API Gateway", the
// resource-path-specifier; and "Output from an API Gateway Lambda authorizer"). The property: the
// policy allows a request if and only if the route, matched segment by segment, grants it; and the
// authorizer's own check (routesGrant, which the Redis scripts get through routeGrant) says the same.
//
// Method ARNs that a policy cannot name literally or that a backend could read as another path (dot
// segments, empty segments, control characters, an encoded slash or backslash, wildcards) are
// Unauthorized before any I/O: nothing asked of 3scale, no command sent to Redis.
import * as assert from "assert";
import fc from "fast-check";
import type { Redis } from "ioredis";
import { buildPolicy, policyEffect, routeGrant, routesGrant } from "../../handlers/access-policy";
import { createAuthorizer } from "../../handlers/authorizer";
import { keys } from "../../handlers/keys";
import { settingsFromEnvironment } from "../../handlers/settings";
import { createThreescaleClient } from "../../handlers/threescale";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { arnFor, gatewayAllows, METHODS, pathOf, PREFIX, requestArb, routeArb, routeText, segmentsGrant } from "../support/route-oracle";
import { clientFor, testSettings } from "../support/settings";

describe("route grants (issue 17, item 1)", () => {
    it("the policy, as API Gateway evaluates it, allows a request iff the route grants it segment by segment; routesGrant agrees", () => {
        fc.assert(fc.property(routeArb, requestArb, (route, request) => {
            const arn = arnFor(request);
            const expected = segmentsGrant(route, request);
            const policy = buildPolicy({ methodArn: arn, principalId: "app", routes: [routeText(route)], context: {} });
            assert.strictEqual(gatewayAllows(policy, arn), expected, `policy for ${routeText(route)} on ${request.method} /${pathOf(request)}`);
            assert.strictEqual(routesGrant([routeText(route)], arn), expected, `routesGrant for ${routeText(route)} on ${request.method} /${pathOf(request)}`);
        }), { seed: 17, numRuns: 3000 });
    });

    it("a plan of several routes allows the union of what each grants, and no more", () => {
        fc.assert(fc.property(fc.array(routeArb, { minLength: 1, maxLength: 4 }), requestArb, (routes, request) => {
            const arn = arnFor(request);
            const expected = routes.some((r) => segmentsGrant(r, request));
            const policy = buildPolicy({ methodArn: arn, principalId: "app", routes: routes.map(routeText), context: {} });
            assert.strictEqual(gatewayAllows(policy, arn), expected);
            assert.strictEqual(routeGrant(arn, { P: routes.map(routeText) }, []).granting.includes("P"), expected);
        }), { seed: 1717, numRuns: 1500 });
    });

    it("the issue's cases: discovery/* allows neither GET /enterprise/v1/discovery/x nor DELETE /courses/discovery/x", () => {
        for (const [method, path] of [["GET", "enterprise/v1/discovery/x"], ["DELETE", "courses/discovery/x"], ["GET", "discovery"]]) {
            const arn = `${PREFIX}${method}/${path}`;
            const policy = buildPolicy({ methodArn: arn, principalId: "app", routes: ["discovery/*"], context: {} });
            assert.strictEqual(gatewayAllows(policy, arn), false, `${method} /${path}`);
            assert.strictEqual(routesGrant(["discovery/*"], arn), false, `${method} /${path}`);
        }
        for (const path of ["DELETE/discovery/v1/x", "GET/discovery/v1/x/", "GET/discovery/"]) {
            const allowed = `${PREFIX}${path}`;
            assert.strictEqual(gatewayAllows(buildPolicy({ methodArn: allowed, principalId: "app", routes: ["discovery/*"], context: {} }), allowed), true, path);
        }
        for (const path of ["GET/heartbeat", "GET/heartbeat/"]) {
            const exact = `${PREFIX}${path}`;
            assert.strictEqual(gatewayAllows(buildPolicy({ methodArn: exact, principalId: "app", routes: ["heartbeat"], context: {} }), exact), true, `heartbeat grants ${path}`);
        }
    });

    it("every resource spells its method out: no resource starts with a wildcard after the stage", () => {
        for (const route of ["*", "discovery/*", "GET enterprise/v1/*", "heartbeat", "PUT a/b"]) {
            const policy = buildPolicy({ methodArn: `${PREFIX}GET/x`, principalId: "app", routes: [route], context: {} });
            const resources = (policy.policyDocument.Statement[0] as { Resource: string[] }).Resource;
            for (const r of resources) assert.match(r.slice(PREFIX.length), /^(DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT)\//, `${route}: ${r}`);
            const perMethod = route.endsWith("*") ? 1 : 2; // an exact path: with and without its trailing /
            assert.strictEqual(resources.length, (route.includes(" ") ? 1 : METHODS.length) * perMethod, route);
        }
    });

    it("a route API Gateway's wildcards cannot express segment by segment is refused with the settings, naming the variable", () => {
        for (const bad of ["a/*/b", "disc*", "discovery/x*", "a?", "*/discovery", "", " ", "discovery//x", "discovery/../admin", "./x", "discovery/", "FETCH x", "a b", "/discovery/*"]) {
            assert.throws(() => settingsFromEnvironment({ THREESCALE_SERVICE_ID: "1", THREESCALE_SERVICE_TOKEN: "t", PLAN_ROUTES: JSON.stringify({ Basic: [bad] }) }),
                (e: Error) => /PLAN_ROUTES/.test(e.message) && e.message.includes(JSON.stringify(bad).slice(1, -1)), JSON.stringify(bad));
            assert.throws(() => settingsFromEnvironment({ THREESCALE_SERVICE_ID: "1", THREESCALE_SERVICE_TOKEN: "t", DEFAULT_ROUTES: JSON.stringify([bad]) }), /DEFAULT_ROUTES/, JSON.stringify(bad));
        }
    });
});

describe("hostile method ARNs: Unauthorized before any I/O (issue 17, item 1)", function () {
    const KEY = "basic-key-0123456789abcdef";
    let redisServer: RedisServer;
    let fake: FakeThreescale;
    let redis: Redis;
    let admin: Redis;

    before(async () => {
        redisServer = await startRedis();
        admin = redisServer.admin();
    });
    after(async () => {
        admin.disconnect();
        await redisServer.close();
    });
    beforeEach(async () => {
        fake = await startThreescale();
        fake.addApp({ id: "app-basic", userKey: KEY, plan: "Basic" });
        await admin.flushall();
    });
    afterEach(async () => {
        redis?.disconnect();
        await fake.close();
    });

    /** Commands Redis has run for clients other than this admin connection's INFO and CONFIG calls. */
    const commandsRun = async (): Promise<number> => {
        const stats = await admin.info("commandstats");
        let total = 0;
        for (const m of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) if (!["info", "config|resetstat", "flushall"].includes(m[1])) total += Number(m[2]);
        return total;
    };
    const handlerFor = () => {
        const settings = testSettings(redisServer, fake);
        redis = clientFor(redisServer, settings);
        return createAuthorizer({ settings, redis, threescale: createThreescaleClient(settings.threescale), log: () => undefined });
    };

    for (const [name, path] of [
        ["a dot-dot segment", "discovery/../admin"],
        ["a dot segment", "discovery/./v1"],
        ["an encoded dot-dot segment", "discovery/%2e%2E/admin"],
        ["an empty segment", "discovery//v1"],
        ["two trailing slashes", "discovery/v1//"],
        ["a newline", "discovery/v1\n/x"],
        ["a tab", "discovery/v\t1"],
        ["an encoded newline", "discovery/v1%0A"],
        ["a NUL", "discovery/\u0000"],
        ["DEL", "discovery/\u007f"],
        ["an encoded slash", "discovery/a%2Fb"],
        ["an encoded slash, lower case", "discovery/a%2fb"],
        ["a backslash", "discovery/a\\..\\b"],
        ["an encoded backslash", "discovery/a%5Cb"],
        ["a wildcard", "discovery/*"],
        ["a question mark", "discovery/a?"],
        ["over API Gateway's 1600-byte method ARN", `discovery/${"a".repeat(1600)}`],
    ] as [string, string][]) {
        it(`${name}: Unauthorized, nothing asked of 3scale, no Redis command`, async () => {
            const handler = handlerFor();
            await redis.ping();
            const before = await commandsRun();
            await assert.rejects(handler({ type: "TOKEN", authorizationToken: KEY, methodArn: `${PREFIX}GET/${path}` }), (e: Error) => e.message === "Unauthorized");
            assert.strictEqual(fake.calls.length, 0);
            assert.strictEqual(await commandsRun(), before);
        });
    }

    it("an unknown method: Unauthorized before any I/O", async () => {
        const handler = handlerFor();
        await redis.ping();
        const before = await commandsRun();
        await assert.rejects(handler({ type: "TOKEN", authorizationToken: KEY, methodArn: `${PREFIX}FETCH/discovery/v1` }), (e: Error) => e.message === "Unauthorized");
        assert.strictEqual(fake.calls.length, 0);
        assert.strictEqual(await commandsRun(), before);
    });

    it("a Basic key (discovery/*) is denied GET /enterprise/v1/discovery/x and DELETE /courses/discovery/x, uncounted, from 3scale and from the cache", async () => {
        const handler = handlerFor();
        for (let round = 0; round < 2; round++) {
            for (const path of ["GET/enterprise/v1/discovery/x", "DELETE/courses/discovery/x"]) {
                const r = await handler({ type: "TOKEN", authorizationToken: KEY, methodArn: `${PREFIX}${path}` });
                assert.strictEqual(policyEffect(r), "Deny", `${path} round ${round}`);
                assert.strictEqual(r.context?.reason, "route not in plan");
            }
        }
        assert.deepStrictEqual(await redis.hgetall(keys.pending(fake.serviceId)), {});
        const ok = await handler({ type: "TOKEN", authorizationToken: KEY, methodArn: `${PREFIX}DELETE/discovery/x` });
        assert.strictEqual(policyEffect(ok), "Allow");
    });
});
