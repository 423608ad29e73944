// The local run serving a document that keeps its own auth and answers CORS (issue 19,
// test/fixtures/any-document/photos.yaml): preflights are public, the ring's authorizer guards
// what the document leaves open, and an operation the document protects with IAM is never handed
// to the ring's authorizer nor served unchecked: the local run cannot verify a signature, so it
// refuses it as API Gateway refuses a request without one, with the gateway response of that type
// (the document's own, else its DEFAULT_4XX, whose CORS headers a browser needs to read the refusal).
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { Started, startLocal, stopLocal } from "../support/local-run";
import { ANY_DOCUMENT, anyDocumentOverrides } from "../support/any-document";

const ENTERPRISE = "local-enterprise-key-00002"; // local/keys.yaml: plan Enterprise

describe("local run: a document with its own auth and CORS (photos)", function () {
    this.timeout(60_000);
    let backend: http.Server;
    let run: Started;
    const seen: string[] = [];
    before(async () => {
        backend = http.createServer((req, res) => {
            seen.push(`${req.method} ${req.url}`);
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ albums: [] }));
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        const overrides = anyDocumentOverrides("photos", { "authorizer:planRoutes": JSON.stringify({ Enterprise: ["*"] }) });
        run = await startLocal([
            ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
            ...Object.keys(ANY_DOCUMENT.photos.hosts).flatMap((h) => ["--backend", `${h}=${url}`]),
        ]);
    });
    after(async () => {
        if (run) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });

    it("answers a CORS preflight without a key, from the document's mock", async () => {
        const res = await fetch(`${run.url}/albums`, { method: "OPTIONS", headers: { origin: "https://photos.example.org", "access-control-request-method": "GET" } });
        assert.strictEqual(res.status, 200, await res.text());
        assert.strictEqual(res.headers.get("access-control-allow-origin"), "https://photos.example.org");
        assert.strictEqual(res.headers.get("access-control-allow-methods"), "GET,OPTIONS");
    });

    it("keeps the ring's authorizer on what the document leaves open", async () => {
        assert.strictEqual((await fetch(`${run.url}/albums`)).status, 401);
        const allowed = await fetch(`${run.url}/albums`, { headers: { "x-api-key": ENTERPRISE } });
        assert.strictEqual(allowed.status, 200, await allowed.text());
        assert.ok(seen.includes("GET /v2/albums"), seen.join(", "));
    });

    it("refuses the IAM operation as API Gateway refuses an unsigned request, never with the ring's authorizer", async () => {
        const before = seen.length;
        for (const headers of [{}, { "x-api-key": ENTERPRISE }] as Record<string, string>[]) {
            const res = await fetch(`${run.url}/photos/cat.jpg`, { method: "PUT", headers: { ...headers, "content-type": "image/jpeg" }, body: Buffer.from([0xff, 0xd8, 0xff]) });
            assert.strictEqual(res.status, 403);
            assert.deepStrictEqual(await res.json(), { message: "Missing Authentication Token" });
        }
        assert.strictEqual(seen.length, before, "nothing reached a backend");
        assert.match(run.output(), /not checked by the local run, refused: PUT \/photos\/\{name\} \(IAM\)/);
    });

    it("answers the IAM refusal as the document's DEFAULT_4XX says (its CORS headers), a MISSING_AUTHENTICATION_TOKEN response", async () => {
        const res = await fetch(`${run.url}/photos/cat.jpg`, { method: "PUT", headers: { origin: "https://photos.example.org", "content-type": "image/jpeg" }, body: Buffer.from([0xff, 0xd8]) });
        assert.strictEqual(res.status, 403);
        assert.strictEqual(res.headers.get("access-control-allow-origin"), "https://photos.example.org", "DEFAULT_4XX's CORS headers");
        assert.strictEqual(res.headers.get("access-control-allow-headers"), "Content-Type,X-Api-Key,X-Amz-Date,Authorization");
        assert.ok(res.headers.get("x-amzn-requestid"));
        assert.deepStrictEqual(await res.json(), { message: "Missing Authentication Token" });
    });

    it("prints the summary by kind and the preflight warning at start", () => {
        assert.match(run.output(), /gateway:spec: 6 operations: 3 behind the ring's authorizer, 1 IAM, 0 API key, 0 own authorizer, 2 public/);
        assert.match(run.output(), /warning: gateway:spec: #\/paths\/~1\{proxy\+\}\/x-amazon-apigateway-any-method: ANY \/\{proxy\+\} answers OPTIONS too/);
    });
});

describe("local run: a document whose operations keep their own auth (pets)", function () {
    this.timeout(60_000);
    let run: Started;
    before(async () => {
        const overrides = anyDocumentOverrides("pets");
        run = await startLocal(Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${v}`]));
    });
    after(async () => {
        if (run) await stopLocal(run);
    });

    it("serves the public mock, and refuses each kind it cannot check as API Gateway refuses a request without that credential", async () => {
        const status = await fetch(`${run.url}/status`);
        assert.strictEqual(status.status, 200);
        assert.deepStrictEqual(await status.json(), { status: "up" });
        const refused = async (method: string, path: string, headers: Record<string, string> = {}) => {
            const res = await fetch(`${run.url}${path}`, { method, headers });
            const body = (await res.json()) as { message?: string; detail?: string };
            return [res.status, body.message ?? body.detail]; // the document's own UNAUTHORIZED names it "detail"
        };
        assert.deepStrictEqual(await refused("GET", "/pets", { "x-api-key": ENTERPRISE }), [403, "Forbidden"], "an API key of a usage plan");
        assert.deepStrictEqual(await refused("POST", "/pets", { authorization: "Bearer some.cognito.token" }), [401, "Unauthorized"], "the document's Cognito authorizer");
        assert.deepStrictEqual(await refused("POST", "/adoptions"), [403, "Missing Authentication Token"], "IAM");
        assert.strictEqual((await fetch(`${run.url}/pets/7`)).status, 401, "the ring's authorizer, without a key");
        assert.match(run.output(), /not checked by the local run, refused: GET \/pets \(API key\), POST \/pets \(own authorizer\), DELETE \/pets\/\{petId\} \(own authorizer\), POST \/adoptions \(IAM\)/);
    });

    it("answers each refusal with the gateway response of its type: the document's own, else its DEFAULT_4XX", async () => {
        const refusal = async (method: string, path: string, headers: Record<string, string> = {}) => {
            const res = await fetch(`${run.url}${path}`, { method, headers });
            return { status: res.status, cacheControl: res.headers.get("cache-control"), wwwAuthenticate: res.headers.get("www-authenticate"), body: await res.json() as Record<string, unknown> };
        };
        // An API key: no usage plan's key is valid here, so API Gateway's INVALID_API_KEY (403), through DEFAULT_4XX.
        assert.deepStrictEqual(await refusal("GET", "/pets", { "x-api-key": ENTERPRISE }),
            { status: 403, cacheControl: "no-store", wwwAuthenticate: null, body: { message: "Forbidden", type: "INVALID_API_KEY" } });
        assert.deepStrictEqual(await refusal("GET", "/pets"),
            { status: 403, cacheControl: "no-store", wwwAuthenticate: null, body: { message: "Forbidden", type: "INVALID_API_KEY" } });
        // IAM: MISSING_AUTHENTICATION_TOKEN (403), through DEFAULT_4XX.
        assert.deepStrictEqual(await refusal("POST", "/adoptions"),
            { status: 403, cacheControl: "no-store", wwwAuthenticate: null, body: { message: "Missing Authentication Token", type: "MISSING_AUTHENTICATION_TOKEN" } });
        // The document's own authorizers: UNAUTHORIZED (401), the document's own response with the ring's reason.
        for (const [method, path] of [["POST", "/pets"], ["DELETE", "/pets/7"]]) {
            const { status, cacheControl, wwwAuthenticate, body } = await refusal(method, path, { authorization: "Bearer some.cognito.token", "x-partner-token": `pt-${"a".repeat(32)}` });
            assert.deepStrictEqual({ status, cacheControl, wwwAuthenticate, error: body.error, detail: body.detail }, {
                status: 401, cacheControl: null, wwwAuthenticate: 'Bearer realm="pets"', error: "unauthenticated", detail: "Unauthorized",
            }, `${method} ${path}`);
        }
    });
});
