// Issue 17, item 3: the JWKS endpoint is remembered when it fails. A container fetches at most once
// per back-off period while the endpoint fails, concurrent requests share one fetch, a hanging
// endpoint costs at most one request's wait per back-off period, and the last good key set is used
// while refreshes fail, up to a configurable maximum age. Item 2 for JWKS: the document is bounded
// in size and in keys. A JWKS server on loopback (test/support/jwks.ts) that fails, hangs, recovers.
import * as assert from "assert";
import { createJwtVerifier, JwtRefused, JwtSettings, JwtVerifier } from "../../handlers/jwt";
import { Issuer, startIssuer } from "../support/jwks";

const CLAIMS = { iss: "https://courses.example.edu/oauth2", aud: "api-ring", preferred_username: "learner-app" };
const MINUTE = 60_000;

describe("JWKS: failures remembered, last good key set, bounded documents (issue 17, item 3)", function () {
    this.timeout(30_000);
    let issuer: Issuer;
    let clock: number;

    beforeEach(async () => {
        issuer = await startIssuer();
        clock = Date.now();
    });
    afterEach(async () => issuer.close());

    /** The verifier with the test's clock for key-set ages and back-off (token expiry stays on real time). */
    const verifierFor = (over: Record<string, unknown> = {}): JwtVerifier => {
        const settings = { jwksUrl: issuer.url, issuer: CLAIMS.iss, audience: CLAIMS.aud, appClaim: "preferred_username", timeoutMs: 300, refreshCooldownMs: 30_000, keySetMaxAgeMs: 60 * MINUTE, ...over } as JwtSettings;
        return (createJwtVerifier as unknown as (s: JwtSettings, o: { now: () => number }) => JwtVerifier)(settings, { now: () => clock });
    };
    const refused = async (p: Promise<unknown>): Promise<void> => {
        await assert.rejects(p, (e: Error) => e instanceof JwtRefused);
    };

    it("an endpoint answering 500 from the container's start: 1,000 tokens cost one fetch in the back-off period", async () => {
        issuer.fault = "500";
        const verify = verifierFor();
        const jwt = await issuer.sign(CLAIMS);
        for (let i = 0; i < 1000; i++) await refused(verify(jwt));
        assert.strictEqual(issuer.fetches, 1);
    });

    it("a hanging endpoint costs one wait per back-off period: concurrent requests share it, later ones are refused at once", async () => {
        issuer.fault = "hang";
        const verify = verifierFor();
        const jwt = await issuer.sign(CLAIMS);
        const started = Date.now();
        await Promise.all(Array.from({ length: 20 }, () => refused(verify(jwt))));
        assert.ok(Date.now() - started < 1500, `the first wait is the fetch's own bound (${Date.now() - started} ms)`);
        assert.strictEqual(issuer.fetches, 1, "concurrent requests share one fetch");
        for (let i = 0; i < 20; i++) {
            const t = Date.now();
            await refused(verify(jwt));
            assert.ok(Date.now() - t < 100, `request ${i} waited ${Date.now() - t} ms within the back-off`);
        }
        assert.strictEqual(issuer.fetches, 1);
    });

    it("concurrent requests at a cold start share one fetch of a slow endpoint", async () => {
        issuer.fault = "slow";
        const verify = verifierFor({ timeoutMs: 2000 });
        const jwt = await issuer.sign(CLAIMS);
        const out = await Promise.all(Array.from({ length: 50 }, () => verify(jwt)));
        assert.ok(out.every((v) => v.appId === "learner-app"));
        assert.strictEqual(issuer.fetches, 1);
    });

    it("the last good key set serves while refreshes fail, up to the maximum age; then tokens are refused", async () => {
        const verify = verifierFor({ keySetMaxAgeMs: 60 * MINUTE });
        const jwt = await issuer.sign(CLAIMS);
        assert.strictEqual((await verify(jwt)).appId, "learner-app");
        issuer.fault = "500";
        clock += 11 * MINUTE; // past the 10-minute refresh: the set is refreshed, and the refresh fails
        for (let i = 0; i < 100; i++) assert.strictEqual((await verify(jwt)).appId, "learner-app", `request ${i} at 11 min`);
        assert.ok(issuer.fetches <= 2, `${issuer.fetches} fetches: at most one refresh in the back-off period`);
        clock += 40 * MINUTE; // 51 minutes old, still inside the maximum age
        assert.strictEqual((await verify(jwt)).appId, "learner-app");
        clock += 10 * MINUTE; // 61 minutes old
        await refused(verify(jwt));
    });

    it("an endpoint that recovers is used again after the back-off", async () => {
        issuer.fault = "500";
        const verify = verifierFor({ refreshCooldownMs: 30_000 });
        const jwt = await issuer.sign(CLAIMS);
        await refused(verify(jwt));
        issuer.fault = "none";
        await refused(verify(jwt));
        assert.strictEqual(issuer.fetches, 1, "inside the back-off, not asked");
        clock += 31_000;
        assert.strictEqual((await verify(jwt)).appId, "learner-app");
        assert.strictEqual(issuer.fetches, 2);
    });

    it("a 50 MB JWKS document is refused, and read no further than its bound", async () => {
        const key = JSON.stringify(issuer.jwks().keys[0]);
        issuer.document = { prefix: `{"keys":[${key}`, fill: `,{"kty":"oct","kid":"pad","k":"${"A".repeat(100)}"}`, repeat: 400_000, suffix: "]}" };
        const verify = verifierFor({ timeoutMs: 10_000 }); // the bound must be the size, not the time
        await refused(verify(await issuer.sign(CLAIMS)));
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(issuer.bytesSent < 16 * 1024 * 1024, `${issuer.bytesSent} bytes served`);
    });

    it("a JWKS document with more keys than an issuer needs is refused", async () => {
        const key = issuer.jwks().keys[0];
        const many = Array.from({ length: 100 }, (_, i) => ({ ...key, kid: `copy-${i}` }));
        issuer.document = { prefix: JSON.stringify({ keys: [key, ...many] }), fill: "", repeat: 0, suffix: "" };
        const verify = verifierFor();
        await refused(verify(await issuer.sign(CLAIMS)));
    });
});
