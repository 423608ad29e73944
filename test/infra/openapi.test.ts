import { userKeyInHeader } from "../../handlers/credentials";
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AUTHORIZER_SCHEME, AUTHORIZER_URI_PLACEHOLDER, SpecError, bundleSpec } from "../../openapi";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const FIXTURES = path.join(PROJECT, "test", "fixtures");
const AUTHORIZER = { credentials: userKeyInHeader("Authorization"), resultTtlSeconds: 0 };
const URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:red-authorizer/invocations";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed documents

async function rejects(file: string, reason: RegExp): Promise<void> {
    await assert.rejects(bundleSpec(file, AUTHORIZER), (e: Error) => {
        assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
        assert.match(e.message, /^gateway:spec: cannot use /);
        assert.ok(e.message.includes(path.basename(file)), `names the file: ${e.message}`);
        assert.match(e.message, reason);
        return true;
    });
}

describe("openapi: the project's document", () => {
    it("bundles every file into one Swagger 2.0 document with no external $ref", async () => {
        const spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), AUTHORIZER);
        assert.strictEqual(spec.version, "2.0");
        const refs = [...spec.render(URI).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
        assert.ok(refs.length > 0);
        assert.ok(refs.every((r) => r.startsWith("#/definitions/")), `only internal refs: ${refs.join(", ")}`);
    });

    it("injects the Lambda TOKEN authorizer into every operation not marked public", async () => {
        const spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 });
        const doc = JSON.parse(spec.render(URI)) as Json;
        const scheme = doc.securityDefinitions[AUTHORIZER_SCHEME];
        assert.deepStrictEqual(scheme["x-amazon-apigateway-authorizer"], {
            type: "token", authorizerUri: URI, authorizerResultTtlInSeconds: 0, identitySource: "method.request.header.X-Api-Key",
        });
        assert.strictEqual(scheme.name, "X-Api-Key");
        const secured: string[] = [];
        for (const [route, item] of Object.entries(doc.paths as Json)) {
            for (const [method, op] of Object.entries(item as Json)) {
                if (op.security?.length === 0) continue;
                assert.deepStrictEqual(op.security, [{ [AUTHORIZER_SCHEME]: [] }], `${method} ${route}`);
                secured.push(`${method} ${route}`);
            }
        }
        assert.deepStrictEqual(spec.publicOperations, ["GET /heartbeat", "POST /oauth2/access_token"]);
        assert.ok(secured.includes("get /discovery/v1/catalogs"));
        assert.ok(secured.includes("x-amazon-apigateway-any-method /{proxy+}"));
        assert.ok(secured.includes("x-amazon-apigateway-any-method /enterprise/v1/{proxy+}"));
    });

    it("uses a REQUEST authorizer with every identity source where a TOKEN authorizer cannot see the credential", async () => {
        const pair = { kind: "app_id_app_key" as const, location: "query" as const, name: "user_key", appIdName: "app_id", appKeyName: "app_key" };
        const doc = JSON.parse((await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: pair, resultTtlSeconds: 0 })).render(URI)) as Json;
        const scheme = doc.securityDefinitions[AUTHORIZER_SCHEME];
        assert.deepStrictEqual(scheme["x-amazon-apigateway-authorizer"], {
            type: "request", authorizerUri: URI, authorizerResultTtlInSeconds: 0,
            identitySource: "method.request.querystring.app_id, method.request.querystring.app_key",
        });
        assert.strictEqual(scheme.in, "query");
        const key = JSON.parse((await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: { ...pair, kind: "user_key" }, resultTtlSeconds: 0 })).render(URI)) as Json;
        assert.strictEqual(key.securityDefinitions[AUTHORIZER_SCHEME]["x-amazon-apigateway-authorizer"].identitySource, "method.request.querystring.user_key");
    });

    it("answers the authorizer's refusals with a JSON body that says why (UNAUTHORIZED, ACCESS_DENIED gateway responses)", async () => {
        const doc = (await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 })).document as Json;
        const responses = doc["x-amazon-apigateway-gateway-responses"];
        assert.strictEqual(responses.UNAUTHORIZED.statusCode, "401");
        assert.strictEqual(responses.UNAUTHORIZED.responseTemplates["application/json"],
            '{"message":$context.error.messageString,"reason":"missing or malformed credential: send a 3scale user_key in the X-Api-Key header"}');
        assert.strictEqual(responses.ACCESS_DENIED.statusCode, "403");
        assert.strictEqual(responses.ACCESS_DENIED.responseTemplates["application/json"], '{"message":$context.error.messageString,"reason":"$context.authorizer.reason","retryAfter":"$context.authorizer.retryAfter"}');
        assert.strictEqual(responses.ACCESS_DENIED.responseParameters, undefined, "no header: a gateway response maps headers only from request parameters and static values");
    });

    it("keeps the heartbeat mock returning the release id and the binary media type", async () => {
        const doc = (await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), AUTHORIZER)).document as Json;
        const integration = doc.paths["/heartbeat"].get["x-amazon-apigateway-integration"];
        assert.strictEqual(integration.type, "mock");
        assert.match(integration.responses.default.responseTemplates["application/json"], /\$\{stageVariables\['id'\]\}/);
        assert.deepStrictEqual(doc["x-amazon-apigateway-binary-media-types"], ["multipart/form-data"]);
        assert.match(doc.paths["/discovery/v1/catalogs"].get["x-amazon-apigateway-integration"].uri, /^https:\/\/\$\{stageVariables\.discovery_host\}\//);
    });

    it("lists the stage variables the integrations use", async () => {
        const spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), AUTHORIZER);
        assert.deepStrictEqual(Object.keys(spec.stageVariableUses).sort(), ["discovery_host", "edxapp_host", "id"]);
    });

    it("hashes what is served: same document same hash, any change a new hash, the function ARN not at all", async () => {
        const a = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), AUTHORIZER);
        const b = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), AUTHORIZER);
        assert.strictEqual(a.sha256, b.sha256);
        assert.match(a.sha256, /^[0-9a-f]{64}$/);
        const ttl = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { ...AUTHORIZER, resultTtlSeconds: 60 });
        assert.notStrictEqual(ttl.sha256, a.sha256);
        assert.ok(!a.render(URI).includes(AUTHORIZER_URI_PLACEHOLDER));

        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-spec-"));
        fs.cpSync(path.join(PROJECT, "api"), copy, { recursive: true });
        const heartbeat = path.join(copy, "paths", "heartbeat.yaml");
        fs.writeFileSync(heartbeat, fs.readFileSync(heartbeat, "utf8").replace("Slot heartbeat", "Heartbeat of the slot"));
        const changed = await bundleSpec(path.join(copy, "openapi.yaml"), AUTHORIZER);
        assert.notStrictEqual(changed.sha256, a.sha256, "a change in a referenced file changes the hash");
        fs.rmSync(copy, { recursive: true, force: true });
    });
});

describe("openapi: OpenAPI 3 input", () => {
    it("bundles a multi-file OpenAPI 3 document and injects the authorizer as a security scheme", async () => {
        const spec = await bundleSpec(path.join(FIXTURES, "oas3/openapi.yaml"), AUTHORIZER);
        assert.match(spec.version, /^3\./);
        const doc = JSON.parse(spec.render(URI)) as Json;
        assert.strictEqual(doc.components.securitySchemes[AUTHORIZER_SCHEME]["x-amazon-apigateway-authorizer"].authorizerUri, URI);
        assert.deepStrictEqual(doc.paths["/discovery/v1/things"].get.security, [{ [AUTHORIZER_SCHEME]: [] }]);
        assert.deepStrictEqual(doc.paths["/status"].get.security, []);
        assert.deepStrictEqual(spec.publicOperations, ["GET /status"]);
        assert.ok(doc.components.schemas.Thing.properties.name);
    });
});

describe("openapi: a document that cannot be used stops the program with the file and the reason", () => {
    it("a missing document", () => rejects(path.join(FIXTURES, "broken/nope.yaml"), /ENOENT|no such file/));
    it("a $ref to a missing file", () => rejects(path.join(FIXTURES, "broken/missing-ref.yaml"), /does-not-exist\.yaml/));
    it("YAML that does not parse", () => rejects(path.join(FIXTURES, "broken/unparseable.yaml"), /unparseable\.yaml|YAML|parse/i));
    it("a document API Gateway cannot deploy, with the JSON pointer of the problem", () =>
        rejects(path.join(FIXTURES, "broken/invalid.yaml"), /\n {2}- #\/paths\/~1x\/get: GET \/x has no x-amazon-apigateway-integration/));
});
