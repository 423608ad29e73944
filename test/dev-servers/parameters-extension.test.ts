// The Parameters and Secrets extension stand-in answers as AWS documents the extension and as its replies
// were captured (sources in dev-servers/parameters-extension.ts), reading the Parameter Store stand-in
// with the real AWS SDK, as the extension reads Parameter Store.
import * as assert from "assert";
import * as http from "http";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";
import { EXTENSION_GET_PATH, ParametersExtension, startParametersExtension } from "../../dev-servers/parameters-extension";

const TOKEN = "session-token-of-this-execution-environment";

/** A raw GET, as any client would send it. */
function get(port: number, path: string, headers: Record<string, string> = { "X-Aws-Parameters-Secrets-Token": TOKEN }, method = "GET"): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", reject);
        req.end();
    });
}
const query = (name: string, withDecryption = true) => `${EXTENSION_GET_PATH}?name=${encodeURIComponent(name)}&withDecryption=${withDecryption}`;

describe("development Parameters and Secrets extension follows AWS's documentation and captured replies", () => {
    let store: ParameterStore;
    let extension: ParametersExtension;
    let clock: number;
    beforeEach(async () => {
        store = await startParameterStore({ parameters: [{ name: "/api-ring/red/service-token", value: "st-secret-value" }] });
        clock = 1_000_000;
        extension = await startParametersExtension({ store, sessionToken: TOKEN, now: () => clock });
    });
    afterEach(async () => Promise.all([extension.close(), store.close()]));

    it("200 with GetParameter's JSON and an empty ResultMetadata, decrypted with withDecryption=true, the name URL-decoded", async () => {
        const r = await get(extension.port, query("/api-ring/red/service-token"));
        assert.strictEqual(r.status, 200);
        const body = JSON.parse(r.body) as { Parameter: Record<string, unknown>; ResultMetadata: unknown };
        assert.deepStrictEqual(Object.keys(body.Parameter).sort(), ["ARN", "DataType", "LastModifiedDate", "Name", "Selector", "SourceResult", "Type", "Value", "Version"]);
        assert.deepStrictEqual([body.Parameter.Name, body.Parameter.Type, body.Parameter.Value, body.Parameter.Version, body.Parameter.Selector], ["/api-ring/red/service-token", "SecureString", "st-secret-value", 1, null]);
        assert.match(String(body.Parameter.LastModifiedDate), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "an ISO string, as captured");
        assert.deepStrictEqual(body.ResultMetadata, {});
        assert.deepStrictEqual(store.calls.map((c) => [c.operation, c.names, c.withDecryption]), [["GetParameter", ["/api-ring/red/service-token"], true]]);
    });

    it("a SecureString without withDecryption is its ciphertext", async () => {
        const body = JSON.parse((await get(extension.port, query("/api-ring/red/service-token", false))).body) as { Parameter: { Value: string } };
        assert.notStrictEqual(body.Parameter.Value, "st-secret-value");
    });

    it("no token, or another one: 403 and no Parameter Store call", async () => {
        assert.strictEqual((await get(extension.port, query("/api-ring/red/service-token"), {})).status, 403);
        assert.strictEqual((await get(extension.port, query("/api-ring/red/service-token"), { "X-Aws-Parameters-Secrets-Token": "other" })).status, 403);
        assert.deepStrictEqual(store.calls, []);
        assert.deepStrictEqual(extension.calls.map((c) => c.token), [false, false]);
    });

    it("a parameter that does not exist, or a Parameter Store that fails, is 400 with the generic line the real one sends", async () => {
        const missing = await get(extension.port, query("/api-ring/red/nope"));
        assert.deepStrictEqual(missing, { status: 400, body: "an unexpected error occurred while executing request" });
        await store.setFault("denied");
        assert.strictEqual((await get(extension.port, query("/api-ring/red/service-token"))).status, 400);
    });

    it("another path is 404, another method 405", async () => {
        assert.strictEqual((await get(extension.port, "/secretsmanager/get?secretId=x")).status, 404);
        assert.strictEqual((await get(extension.port, query("/api-ring/red/service-token"), { "X-Aws-Parameters-Secrets-Token": TOKEN }, "POST")).status, 405);
    });

    it("caches a value for SSM_PARAMETER_STORE_TTL (300 s by default), then reads Parameter Store again", async () => {
        for (let i = 0; i < 3; i++) assert.strictEqual((await get(extension.port, query("/api-ring/red/service-token"))).status, 200);
        assert.strictEqual(store.calls.length, 1);
        assert.deepStrictEqual(extension.calls.map((c) => c.cached), [false, true, true]);
        clock += 300_000;
        await get(extension.port, query("/api-ring/red/service-token"));
        assert.strictEqual(store.calls.length, 2);
    });

    it("not listening before the Init phase ends (ready: false) until ready()", async () => {
        const late = await startParametersExtension({ store, sessionToken: TOKEN, ready: false });
        try {
            await assert.rejects(get(late.port, query("/api-ring/red/service-token")), /ECONNREFUSED/);
            await late.ready();
            assert.strictEqual((await get(late.port, query("/api-ring/red/service-token"))).status, 200);
        } finally {
            await late.close();
        }
    });

    it("functionEnvironment names its port and the execution environment's credentials, whose session token it requires", () => {
        const env = extension.functionEnvironment();
        assert.deepStrictEqual([env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, env.AWS_SESSION_TOKEN, env.AWS_REGION], [String(extension.port), TOKEN, store.region]);
        assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
    });
});
