// The authorizer with each credential kind (issue 11): user_key in the query string (REQUEST events),
// app_id + app_key on an app_id service, OpenID Connect JWTs verified against a JWKS on loopback and
// asked of an OpenID Connect (oauth) service by the claim's app_id; method ARNs that are not this
// stage's; denial reasons fit for the gateway response. Real redis-server, the development 3scale.
import * as assert from "assert";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import type { Redis } from "ioredis";
import { policyEffect } from "../../handlers/access-policy";
import { createAuthorizer, safeReason } from "../../handlers/authorizer";
import { CredentialSource } from "../../handlers/credentials";
import { AuthorizerSettings } from "../../handlers/settings";
import { createThreescaleClient } from "../../handlers/threescale";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { BackendVersion, FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { Issuer, startIssuer } from "../support/jwks";
import { clientFor, METHOD_ARN, testSettings } from "../support/settings";

const USER_KEY = "query-key-0123456789abcdef";
const APP_ID = "app-0123456789abcdef";
const APP_KEY = "appkey-0123456789abcdef";
const source = (over: Partial<CredentialSource>): CredentialSource => ({ kind: "user_key", location: "header", name: "X-Api-Key", appIdName: "app_id", appKeyName: "app_key", ...over });

function request(headers: Record<string, string>, query: Record<string, string>, methodArn = METHOD_ARN): APIGatewayRequestAuthorizerEvent {
    return {
        type: "REQUEST", methodArn, resource: "/discovery/v1/courses", path: "/discovery/v1/courses", httpMethod: "GET", headers,
        multiValueHeaders: null, pathParameters: null, queryStringParameters: query, multiValueQueryStringParameters: null,
        stageVariables: null, requestContext: {} as APIGatewayRequestAuthorizerEvent["requestContext"],
    };
}

describe("authorizer: who the caller is", function () {
    let redisServer: RedisServer;
    let fake: FakeThreescale;
    let redis: Redis;
    let logs: string[];

    before(async () => {
        redisServer = await startRedis();
    });
    after(async () => redisServer.close());
    afterEach(async () => {
        await fake?.close();
        redis?.disconnect();
    });

    async function setUp(backendVersion: BackendVersion, overrides: Partial<AuthorizerSettings>) {
        fake = await startThreescale({ backendVersion });
        fake.addApp({ id: APP_ID, userKey: USER_KEY, appKeys: [APP_KEY], plan: "Basic" });
        const settings = testSettings(redisServer, fake, overrides);
        redis = clientFor(redisServer, settings);
        await redis.flushall();
        logs = [];
        return createAuthorizer({ settings, redis, threescale: createThreescaleClient(settings.threescale), log: (m) => logs.push(m) });
    }

    it("a user_key in the query string (REQUEST authorizer): allowed, asked of 3scale by user_key, cached", async () => {
        const handler = await setUp("1", { credentials: source({ location: "query", name: "user_key" }) });
        const first = await handler(request({}, { user_key: USER_KEY }));
        assert.deepStrictEqual([policyEffect(first), first.context?.source, first.context?.appId], ["Allow", "3scale", APP_ID]);
        assert.strictEqual(fake.calls[0].params.get("user_key"), USER_KEY);
        assert.strictEqual((await handler(request({}, { user_key: USER_KEY }))).context?.source, "cache");
        await assert.rejects(handler(request({ user_key: USER_KEY }, {})), (e: Error) => e.message === "Unauthorized", "a header is not the query string");
    });

    it("app_id + app_key on an app_id service: asked with both, a wrong key denied with 3scale's reason", async () => {
        const handler = await setUp("2", { credentials: source({ kind: "app_id_app_key", name: "X-Api-Key" }) });
        const ok = await handler(request({ app_id: APP_ID, app_key: APP_KEY }, {}));
        assert.deepStrictEqual([policyEffect(ok), ok.context?.appId], ["Allow", APP_ID]);
        const authorize = fake.calls.find((c) => c.path === "/transactions/authorize.xml");
        assert.deepStrictEqual([authorize?.params.get("app_id"), authorize?.params.get("app_key"), authorize?.params.get("user_key")], [APP_ID, APP_KEY, null]);
        const wrong = await handler(request({ app_id: APP_ID, app_key: "wrong-key-0123456789abcdef" }, {}));
        assert.strictEqual(policyEffect(wrong), "Deny");
        assert.strictEqual(wrong.context?.reason, "application key invalid", "3scale's reason, without echoing the key");
        await assert.rejects(handler(request({ app_id: APP_ID }, {})), (e: Error) => e.message === "Unauthorized");
    });

    describe("OpenID Connect JWTs", () => {
        let issuer: Issuer;
        const CLAIMS = { iss: "https://courses.example.edu/oauth2", aud: "api-ring", preferred_username: APP_ID };
        beforeEach(async () => {
            issuer = await startIssuer();
        });
        afterEach(async () => issuer.close());
        const jwtHandler = () => setUp("oauth", {
            credentials: source({ kind: "jwt", name: "Authorization" }),
            jwt: { jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: CLAIMS.aud, appClaim: "preferred_username", timeoutMs: 1000, refreshCooldownMs: 30_000 },
        });
        const token = (jwt: string) => ({ type: "TOKEN" as const, authorizationToken: `JWT ${jwt}`, methodArn: METHOD_ARN });

        it("verifies the JWT, asks 3scale by the claim's app_id (no key: an OpenID Connect service), and caches by the token", async () => {
            const handler = await jwtHandler();
            const jwt = await issuer.sign(CLAIMS);
            const first = await handler(token(jwt));
            assert.deepStrictEqual([policyEffect(first), first.context?.appId, first.context?.source], ["Allow", APP_ID, "3scale"]);
            const authorize = fake.calls.find((c) => c.path === "/transactions/authorize.xml");
            assert.deepStrictEqual([authorize?.params.get("app_id"), authorize?.params.get("app_key")], [APP_ID, null]);
            assert.strictEqual((await handler(token(jwt))).context?.source, "cache");
            assert.strictEqual(issuer.fetches, 1, "the JWKS is fetched once per container");
            assert.ok(!(await redis.keys("*")).some((k) => k.includes(jwt.split(".")[1])), "no raw token in Redis");
        });

        it("refuses a forged, expired or foreign token as Unauthorized, even after a cached decision for it, and asks 3scale nothing", async () => {
            const handler = await jwtHandler();
            const soon = await issuer.sign(CLAIMS, { expiresIn: "2s" });
            assert.strictEqual(policyEffect(await handler(token(soon))), "Allow");
            const calls = fake.calls.length;
            const forger = await startIssuer();
            try {
                for (const bad of [await forger.sign(CLAIMS, { kid: "key-1" }), await issuer.sign(CLAIMS, { expiresIn: "-1m" }), await issuer.sign({ ...CLAIMS, aud: "other" })]) {
                    await assert.rejects(handler(token(bad)), (e: Error) => e.message === "Unauthorized");
                }
            } finally {
                await forger.close();
            }
            await new Promise((resolve) => setTimeout(resolve, 2100));
            await assert.rejects(handler(token(soon)), (e: Error) => e.message === "Unauthorized", "exp is checked on every request, cache or not");
            assert.strictEqual(fake.calls.length, calls);
            assert.ok(logs.some((l) => l.includes("JWT refused (ERR_JWT_EXPIRED")));
        });

        it("takes an audience list: a token for any of them is verified, one for another refused (issue 17 item 5)", async () => {
            const handler = await setUp("oauth", {
                credentials: source({ kind: "jwt", name: "Authorization" }),
                jwt: { jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: ["lms", "api-ring"], appClaim: "preferred_username", timeoutMs: 1000, refreshCooldownMs: 30_000 },
            });
            assert.strictEqual(policyEffect(await handler(token(await issuer.sign({ ...CLAIMS, aud: "api-ring" })))), "Allow");
            assert.strictEqual(policyEffect(await handler(token(await issuer.sign({ ...CLAIMS, aud: ["lms", "studio"] })))), "Allow");
            await assert.rejects(handler(token(await issuer.sign({ ...CLAIMS, aud: "studio" }))), (e: Error) => e.message === "Unauthorized");
        });

        it("reads the application claim as a string: another type, or a name only an object's machinery answers, is 401 with the reason logged", async () => {
            const handler = await setUp("oauth", {
                credentials: source({ kind: "jwt", name: "Authorization" }),
                jwt: { jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: CLAIMS.aud, appClaim: "client_id", timeoutMs: 1000, refreshCooldownMs: 30_000 },
            });
            for (const value of [42, true, ["app"], { id: "app" }, ""]) {
                await assert.rejects(handler(token(await issuer.sign({ ...CLAIMS, client_id: value }))), (e: Error) => e.message === "Unauthorized");
            }
            await assert.rejects(handler(token(await issuer.sign(CLAIMS))), (e: Error) => e.message === "Unauthorized", "no such claim");
            assert.ok(logs.some((l) => l.includes("JWT refused (claim client_id is a number, not a string naming the application)")), logs.join("\n"));
            const proto = await setUp("oauth", {
                credentials: source({ kind: "jwt", name: "Authorization" }),
                jwt: { jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: CLAIMS.aud, appClaim: "constructor", timeoutMs: 1000, refreshCooldownMs: 30_000 },
            });
            await assert.rejects(proto(token(await issuer.sign(CLAIMS))), (e: Error) => e.message === "Unauthorized");
            assert.ok(logs.some((l) => l.includes("JWT refused (claim constructor is missing")), logs.join("\n"));
            assert.strictEqual(fake.calls.length, 0, "3scale is asked nothing");
        });
    });

    describe("method ARNs", () => {
        for (const [name, methodArn] of [
            ["missing", undefined],
            ["not an ARN", "GET /discovery"],
            ["not execute-api", "arn:aws:lambda:eu-west-1:123456789012:function:x"],
            ["without a stage", "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234"],
            ["of another stage", "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/black/GET/discovery/v1/courses"],
        ] as [string, string | undefined][]) {
            it(`${name}: Unauthorized, never a 500, nothing asked or counted`, async () => {
                const handler = await setUp("1", {});
                await assert.rejects(handler({ type: "TOKEN", authorizationToken: USER_KEY, methodArn: methodArn as string }), (e: Error) => e.message === "Unauthorized");
                assert.strictEqual(fake.calls.length, 0);
                assert.deepStrictEqual(await redis.keys("*"), []);
            });
        }
    });

    it("reasons fit the gateway response's JSON string: no quote, backslash or control character", () => {
        assert.strictEqual(safeReason('application key "k\\1" is invalid\n'), "application key 'k'1' is invalid'");
        assert.strictEqual(safeReason("x".repeat(500)).length, 200);
    });
});
