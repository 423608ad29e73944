// The Parameter Store stand-in answers as the API reference says (links in dev-servers/parameter-store.ts),
// checked through the real AWS SDK client the handlers use, so the SDK parses each answer and each error
// the way it parses Parameter Store's own.
import * as assert from "assert";
import { GetParameterCommand, GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";

describe("development Parameter Store follows the SSM API reference", () => {
    let store: ParameterStore;
    let client: SSMClient;
    beforeEach(async () => {
        store = await startParameterStore({ parameters: [
            { name: "/api-ring/red/service-token", value: "st-secret-value" },
            { name: "/api-ring/red/redis-auth-token", value: "redis-secret-value" },
            { name: "plain", value: "not secret", type: "String" },
        ] });
        client = new SSMClient({ region: store.region, endpoint: store.url, maxAttempts: 1, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
    });
    afterEach(async () => {
        client.destroy();
        await store.close();
    });

    it("GetParameters: found names in alphabetical order, decrypted on request; unknown names in InvalidParameters with 200", async () => {
        const r = await client.send(new GetParametersCommand({ Names: ["/api-ring/red/service-token", "nope", "/api-ring/red/redis-auth-token"], WithDecryption: true }));
        assert.deepStrictEqual(r.Parameters?.map((p) => [p.Name, p.Type, p.Value, p.Version]), [
            ["/api-ring/red/redis-auth-token", "SecureString", "redis-secret-value", 1],
            ["/api-ring/red/service-token", "SecureString", "st-secret-value", 1],
        ]);
        assert.deepStrictEqual(r.InvalidParameters, ["nope"]);
        assert.strictEqual(r.$metadata.httpStatusCode, 200);
        assert.ok(r.Parameters?.[0].LastModifiedDate instanceof Date, "a timestamp the SDK parses");
        assert.strictEqual(r.Parameters?.[0].ARN, "arn:aws:ssm:us-east-1:123456789012:parameter/api-ring/red/redis-auth-token");
        assert.deepStrictEqual(store.calls.map((c) => [c.operation, c.withDecryption]), [["GetParameters", true]]);
    });

    it("a SecureString without WithDecryption is its ciphertext, never the value; a String is plain either way", async () => {
        const r = await client.send(new GetParametersCommand({ Names: ["/api-ring/red/service-token", "plain"] }));
        const [secure, plain] = r.Parameters ?? [];
        assert.strictEqual(plain.Value, "not secret");
        assert.notStrictEqual(secure.Value, "st-secret-value");
        assert.ok(!String(secure.Value).includes("st-secret-value"));
    });

    it("GetParameter: the parameter, or ParameterNotFound (400)", async () => {
        const r = await client.send(new GetParameterCommand({ Name: "/api-ring/red/service-token", WithDecryption: true }));
        assert.strictEqual(r.Parameter?.Value, "st-secret-value");
        await assert.rejects(client.send(new GetParameterCommand({ Name: "/missing" })), (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
            e.name === "ParameterNotFound" && e.$metadata?.httpStatusCode === 400);
    });

    it("refuses more than 10 names, or none, with ValidationException", async () => {
        const names = Array.from({ length: 11 }, (_, i) => `p${i}`);
        await assert.rejects(client.send(new GetParametersCommand({ Names: names })), (e: Error) => e.name === "ValidationException");
        await assert.rejects(client.send(new GetParametersCommand({ Names: [] })), (e: Error) => e.name === "ValidationException");
    });

    it("a put is a new version", async () => {
        store.put("/api-ring/red/service-token", "rotated");
        const r = await client.send(new GetParameterCommand({ Name: "/api-ring/red/service-token", WithDecryption: true }));
        assert.deepStrictEqual([r.Parameter?.Value, r.Parameter?.Version], ["rotated", 2]);
    });

    it("refuses an unsigned request (MissingAuthenticationTokenException) and one signed for another service", async () => {
        const unsigned = await fetch(store.url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.GetParameters" }, body: JSON.stringify({ Names: ["plain"] }) });
        assert.strictEqual(unsigned.status, 400);
        assert.strictEqual(unsigned.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");
        const other = await fetch(store.url, { method: "POST", body: "{}", headers: {
            "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.GetParameters",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00",
        } });
        assert.strictEqual((await other.json() as { __type: string }).__type, "InvalidSignatureException");
    });

    it("an operation it does not serve is UnknownOperationException", async () => {
        const r = await fetch(store.url, { method: "POST", body: "{}", headers: {
            "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.PutParameter",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=00",
        } });
        assert.deepStrictEqual([r.status, (await r.json() as { __type: string }).__type], [400, "UnknownOperationException"]);
    });

    describe("faults", () => {
        for (const [fault, name, status] of [["5xx", "InternalServerError", 500], ["throttle", "ThrottlingException", 400], ["denied", "AccessDeniedException", 400]] as const) {
            it(`${fault}: the SDK raises ${name} (${status})`, async () => {
                await store.setFault(fault);
                await assert.rejects(client.send(new GetParametersCommand({ Names: ["plain"] })), (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
                    e.name === name && e.$metadata?.httpStatusCode === status);
            });
        }

        it("down refuses connections; back up, it answers again on the same endpoint", async () => {
            await store.setFault("down");
            await assert.rejects(client.send(new GetParametersCommand({ Names: ["plain"] })), /ECONNREFUSED/);
            await store.setFault("none");
            assert.strictEqual((await client.send(new GetParametersCommand({ Names: ["plain"] }))).Parameters?.[0].Value, "not secret");
        });

        it("hang takes the request and never answers", async () => {
            await store.setFault("hang");
            const started = Date.now();
            await assert.rejects(client.send(new GetParametersCommand({ Names: ["plain"] }), { abortSignal: AbortSignal.timeout(300) }));
            assert.ok(Date.now() - started < 1000);
            assert.strictEqual(store.calls.length, 1, "the request arrived");
        });
    });
});
