// Who the caller is: credential kinds and locations (APIcast's user_key, app_id + app_key, OpenID
// Connect), and JWTs verified against a JWKS served on loopback with keys this test generates.
import * as assert from "assert";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { CredentialSettings, extractCredential, identitySource, MAX_JWT_BYTES, UNAUTHORIZED } from "../../handlers/credentials";
import { createJwtVerifier, JwtRefused } from "../../handlers/jwt";
import { Issuer, startIssuer } from "../support/jwks";

const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/red/GET/discovery/v1/catalogs";
const KEY = "a-user-key-0123456789abcdef";
const USER_KEY: CredentialSettings = { kind: "user_key", location: "header", name: "X-Api-Key", appIdName: "app_id", appKeyName: "app_key", tokenPattern: "[A-Za-z0-9_-]{16,128}" };

const token = (value: string) => ({ type: "TOKEN" as const, authorizationToken: value, methodArn: METHOD_ARN });
function request(headers: Record<string, string> = {}, query: Record<string, string> = {}): APIGatewayRequestAuthorizerEvent {
    return {
        type: "REQUEST", methodArn: METHOD_ARN, resource: "/discovery/v1/catalogs", path: "/discovery/v1/catalogs", httpMethod: "GET",
        headers, multiValueHeaders: null, pathParameters: null, queryStringParameters: query, multiValueQueryStringParameters: null,
        stageVariables: null, requestContext: {} as APIGatewayRequestAuthorizerEvent["requestContext"],
    };
}
const refused = (f: () => unknown) => assert.throws(f, (e: Error) => e.message === UNAUTHORIZED);

describe("credentials: where the caller's credential is read", () => {
    it("a user_key in a header: TOKEN authorizer on that header, `Bearer ` tolerated", () => {
        assert.deepStrictEqual(identitySource(USER_KEY), { type: "token", identitySource: "method.request.header.X-Api-Key" });
        assert.deepStrictEqual(extractCredential(token(KEY), USER_KEY), { kind: "user_key", userKey: KEY });
        assert.deepStrictEqual(extractCredential(token(`Bearer ${KEY}`), USER_KEY), { kind: "user_key", userKey: KEY });
    });

    it("a user_key in the query string: REQUEST authorizer on the parameter (3scale's default user_key)", () => {
        const settings: CredentialSettings = { ...USER_KEY, location: "query", name: "user_key" };
        assert.deepStrictEqual(identitySource(settings), { type: "request", identitySource: "method.request.querystring.user_key" });
        assert.deepStrictEqual(extractCredential(request({}, { user_key: KEY }), settings), { kind: "user_key", userKey: KEY });
        refused(() => extractCredential(request({ user_key: KEY }), settings));
        refused(() => extractCredential(token(KEY), settings));
    });

    it("a header in a REQUEST event is found whatever its case", () => {
        const settings: CredentialSettings = { ...USER_KEY, kind: "app_id_app_key" };
        assert.deepStrictEqual(extractCredential(request({ APP_ID: "app-0123456789abcdef", "App_Key": "key-0123456789abcdef" }), settings),
            { kind: "app_id_app_key", appId: "app-0123456789abcdef", appKey: "key-0123456789abcdef" });
    });

    it("app_id + app_key needs both values and a REQUEST authorizer on both", () => {
        const settings: CredentialSettings = { ...USER_KEY, kind: "app_id_app_key", location: "query" };
        assert.deepStrictEqual(identitySource(settings), { type: "request", identitySource: "method.request.querystring.app_id, method.request.querystring.app_key" });
        assert.deepStrictEqual(identitySource({ ...settings, location: "header" }).type, "request");
        refused(() => extractCredential(request({}, { app_id: "app-0123456789abcdef" }), settings));
        refused(() => extractCredential(token(KEY), settings));
    });

    it("missing, empty, over-long or malformed: Unauthorized before any I/O", () => {
        for (const bad of ["", "   ", "short", "x".repeat(513), "has spaces in the key 0123", "Bearer ", "ключ-0123456789abcdef"]) {
            refused(() => extractCredential(token(bad), USER_KEY));
        }
        refused(() => extractCredential({ type: "TOKEN", methodArn: METHOD_ARN } as unknown as ReturnType<typeof token>, USER_KEY));
        refused(() => extractCredential(undefined as unknown as ReturnType<typeof token>, USER_KEY));
        refused(() => extractCredential(request(), { ...USER_KEY, location: "header" }));
    });

    it("a JWT: `JWT <token>` (Open edX) or `Bearer <token>`, in compact form, at most 8 KB", () => {
        const settings: CredentialSettings = { ...USER_KEY, kind: "jwt", name: "Authorization" };
        const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert.deepStrictEqual(extractCredential(token(`JWT ${jwt}`), settings), { kind: "jwt", token: jwt });
        assert.deepStrictEqual(extractCredential(token(`Bearer ${jwt}`), settings), { kind: "jwt", token: jwt });
        refused(() => extractCredential(token("JWT not.a-jwt"), settings));
        refused(() => extractCredential(token(`JWT ${"a".repeat(MAX_JWT_BYTES)}.b.c`), settings));
    });
});

describe("jwt: verified against the issuer's JWKS", () => {
    let issuer: Issuer;
    const CLAIMS = { iss: "https://courses.example.edu/oauth2", aud: "api-ring", preferred_username: "learner-app", scopes: ["read"] };
    const verifier = (refreshCooldownMs = 30_000) => createJwtVerifier({ jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: CLAIMS.aud, appClaim: "preferred_username", timeoutMs: 1000, refreshCooldownMs });
    const refusedJwt = async (promise: Promise<unknown>, code: RegExp) => {
        await assert.rejects(promise, (e: Error) => e instanceof JwtRefused && code.test(e.reason));
    };

    beforeEach(async () => {
        issuer = await startIssuer();
    });
    afterEach(async () => issuer.close());

    it("names the 3scale application from the configured claim, and fetches the JWKS once per container", async () => {
        const verify = verifier();
        for (let i = 0; i < 5; i++) {
            const verified = await verify(await issuer.sign(CLAIMS));
            assert.strictEqual(verified.appId, "learner-app");
            assert.ok(verified.expiresAt > Date.now() && verified.expiresAt <= Date.now() + 5 * 60_000 + 1000);
        }
        assert.strictEqual(issuer.fetches, 1);
    });

    it("refetches the JWKS for a token signed with a key it has not seen (rotation), once per cooldown", async () => {
        const verify = verifier(200);
        await verify(await issuer.sign(CLAIMS));
        await issuer.rotate();
        await new Promise((resolve) => setTimeout(resolve, 250));
        assert.strictEqual((await verify(await issuer.sign(CLAIMS))).appId, "learner-app");
        assert.strictEqual(issuer.fetches, 2);
        // Forged kids inside the cooldown: refused without asking the issuer again.
        for (let i = 0; i < 5; i++) {
            await refusedJwt(verify(await issuer.sign(CLAIMS, { kid: `forged-${i}` })), /ERR_JWKS_NO_MATCHING_KEY/);
        }
        assert.strictEqual(issuer.fetches, 2);
    });

    it("refuses a wrong issuer, a wrong audience, an expired token, a missing claim", async () => {
        const verify = verifier();
        await refusedJwt(verify(await issuer.sign({ ...CLAIMS, iss: "https://evil.example" })), /ERR_JWT_CLAIM_VALIDATION_FAILED/);
        await refusedJwt(verify(await issuer.sign({ ...CLAIMS, aud: "another-api" })), /ERR_JWT_CLAIM_VALIDATION_FAILED/);
        await refusedJwt(verify(await issuer.sign(CLAIMS, { expiresIn: "-1m" })), /ERR_JWT_EXPIRED/);
        await refusedJwt(verify(await issuer.sign({ ...CLAIMS, preferred_username: undefined })), /claim preferred_username is missing/);
    });

    it("refuses a token signed by another key under a known kid, an unsigned one and an HMAC one", async () => {
        const verify = verifier();
        const forger = await startIssuer();
        try {
            await refusedJwt(verify(await forger.sign(CLAIMS, { kid: "key-1" })), /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
        } finally {
            await forger.close();
        }
        const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const exp = Math.floor(Date.now() / 1000) + 300;
        await refusedJwt(verify(`${b64({ alg: "none" })}.${b64({ ...CLAIMS, exp })}.`), /ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/);
        await refusedJwt(verify(`${b64({ alg: "HS256", kid: "key-1" })}.${b64({ ...CLAIMS, exp })}.c2ln`), /ERR_JOSE_ALG_NOT_ALLOWED/);
    });

    it("refuses every token while the issuer's JWKS cannot be fetched", async () => {
        const verify = verifier();
        const jwt = await issuer.sign(CLAIMS);
        await issuer.close();
        await refusedJwt(verify(jwt), /ERR_JWKS|ECONNREFUSED|fetch failed/);
        issuer = await startIssuer(); // for afterEach
    });
});
