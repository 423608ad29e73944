// Any API Gateway document served as AWS would serve it (issue 19): the fixtures under
// test/fixtures/any-document were written for this project from AWS's OpenAPI extension reference
// (photos: binary types, IAM, CORS; pets: API key, Cognito and Lambda authorizers of its own,
// Lambda integrations, its own gateway responses, bare $refs; orders: the same in OpenAPI 3).
// First the bundled document (bundleSpec), then the whole program on a stack (the offline preview).
import { userKeyInHeader } from "../../handlers/credentials";
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OfflineRun, previewStack } from "../../preview/cli";
import { previewFails } from "../support/preview";
import { checkStackOffline } from "../../preview/policy-check";
import { AUTHORIZER_SCHEME, BundledSpec, SpecError, SpecOptions, bundleSpec, formatProblem } from "../../openapi";
import { ANY_DOCUMENT, AnyDocument, anyDocumentOverrides } from "../support/any-document";
import { PROJECT, upstreamOverrides } from "../support/upstream";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed documents

const FIXTURES = path.join(PROJECT, "test", "fixtures");
const KEY = userKeyInHeader("X-Api-Key");

/** Spec options with the routing and binary-type settings config hands the pipeline. */
function options(extra: Partial<SpecOptions> = {}): SpecOptions {
    return { credentials: KEY, resultTtlSeconds: 0, ...extra };
}

function bundle(name: AnyDocument, extra: Partial<SpecOptions> = {}): Promise<BundledSpec> {
    return bundleSpec(path.join(PROJECT, ANY_DOCUMENT[name].spec), options(extra));
}

async function refused(file: string, extra: Partial<SpecOptions> = {}): Promise<SpecError> {
    try {
        await bundleSpec(file, options(extra));
    } catch (e) {
        assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
        return e;
    }
    throw new Error(`${file} was accepted`);
}

/** The served operation "METHOD /path" of a document. */
function op(doc: Json, label: string): Json {
    const [method, route] = label.split(" ");
    return doc.paths[route][method === "ANY" ? "x-amazon-apigateway-any-method" : method.toLowerCase()];
}

/** Each operation's kind, as the spec reports it. */
function kinds(spec: BundledSpec): Record<string, string> {
    return Object.fromEntries(Object.entries(spec.operationAuth).map(([label, a]) => [label, a.kind]));
}

describe("any document: binary media types (the document's and config's, merged)", () => {
    it("keeps the document's types and adds config's, in the body API Gateway imports", async () => {
        const spec = await bundle("photos", { binaryMediaTypes: ["multipart/form-data"] });
        assert.deepStrictEqual(spec.document["x-amazon-apigateway-binary-media-types"], ["image/jpeg", "image/png", "multipart/form-data"]);
        assert.deepStrictEqual(spec.binaryMediaTypes, ["image/jpeg", "image/png", "multipart/form-data"]);
    });

    it("never removes one: config naming a type again, in another case, adds nothing; an empty list keeps the document's", async () => {
        const again = await bundle("photos", { binaryMediaTypes: ["IMAGE/PNG", "application/zip"] });
        assert.deepStrictEqual(again.document["x-amazon-apigateway-binary-media-types"], ["image/jpeg", "image/png", "application/zip"]);
        const none = await bundle("photos", { binaryMediaTypes: [] });
        assert.deepStrictEqual(none.document["x-amazon-apigateway-binary-media-types"], ["image/jpeg", "image/png"]);
        const orders = await bundle("orders", { binaryMediaTypes: ["multipart/form-data"] });
        assert.deepStrictEqual(orders.document["x-amazon-apigateway-binary-media-types"], ["application/pdf", "multipart/form-data"]);
    });

    it("refuses a document whose list holds something that is no media type, with each entry's pointer", async () => {
        const e = await refused(path.join(FIXTURES, "broken/binary-types.yaml"), { binaryMediaTypes: ["multipart/form-data"] });
        assert.deepStrictEqual(e.problems.map(formatProblem), [
            "#/x-amazon-apigateway-binary-media-types/1: \"jpeg\" is not a media type; expected type/subtype such as image/jpeg (wildcards allowed: image/*, */*)",
            "#/x-amazon-apigateway-binary-media-types/2: 42 is not a media type; expected type/subtype such as image/jpeg (wildcards allowed: image/*, */*)",
        ]);
    });
});

describe("any document: the document's own auth is kept", () => {
    it("keeps an API key, IAM, and the document's Cognito and Lambda authorizers, and gives the ring's authorizer only to what says nothing", async () => {
        const spec = await bundle("pets");
        assert.deepStrictEqual(kinds(spec), {
            "GET /pets": "api-key",
            "POST /pets": "own-authorizer",
            "GET /pets/{petId}": "ring-authorizer",
            "DELETE /pets/{petId}": "own-authorizer",
            "POST /adoptions": "iam",
            "GET /status": "public",
        });
        const doc = spec.document as Json;
        assert.deepStrictEqual(op(doc, "GET /pets").security, [{ api_key: [] }]);
        assert.deepStrictEqual(op(doc, "POST /pets").security, [{ "shelter-staff": [] }]);
        assert.deepStrictEqual(op(doc, "GET /pets/{petId}").security, [{ [AUTHORIZER_SCHEME]: [] }]);
        assert.deepStrictEqual(op(doc, "DELETE /pets/{petId}").security, [{ "partner-token": [], api_key: [] }], "its authorizer and its API key");
        assert.deepStrictEqual(op(doc, "POST /adoptions").security, [{ sigv4: [] }]);
        assert.deepStrictEqual(op(doc, "GET /status").security, []);
        assert.strictEqual(doc["x-amazon-apigateway-api-key-source"], "HEADER");
        assert.deepStrictEqual(Object.keys(doc.securityDefinitions).sort(), ["api_key", "partner-token", "shelter-staff", "sigv4", AUTHORIZER_SCHEME].sort());
        assert.strictEqual(doc.securityDefinitions["partner-token"]["x-amazon-apigateway-authorizer"].authorizerUri,
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:partner-token-check/invocations");
        assert.deepStrictEqual(spec.protectedOperations, ["GET /pets/{petId}"], "behind the ring's authorizer");
        assert.deepStrictEqual(spec.publicOperations, ["GET /status"]);
    });

    it("keeps x-amazon-apigateway-auth aws_iam, and IAM through an awsSigv4 scheme in OpenAPI 3", async () => {
        const photos = await bundle("photos");
        assert.strictEqual(kinds(photos)["PUT /photos/{name}"], "iam");
        assert.deepStrictEqual(op(photos.document, "PUT /photos/{name}")["x-amazon-apigateway-auth"], { type: "aws_iam" });
        assert.strictEqual(op(photos.document, "PUT /photos/{name}").security, undefined, "no security requirement beside IAM");
        const orders = await bundle("orders");
        assert.deepStrictEqual(kinds(orders), {
            "GET /orders": "api-key",
            "POST /orders": "own-authorizer",
            "GET /orders/{orderId}/invoice": "ring-authorizer",
            "OPTIONS /orders/{orderId}/invoice": "public",
            "GET /reports": "iam",
            "ANY /files/{proxy+}": "ring-authorizer",
        });
        assert.deepStrictEqual(op(orders.document, "GET /reports").security, [{ sigv4: [] }]);
        assert.deepStrictEqual(Object.keys((orders.document.components as Json).securitySchemes).sort(), ["api_key", "sigv4", "storefront", AUTHORIZER_SCHEME].sort());
    });

    it("puts an operation behind the ring's authorizer instead when config says so, removing the document's auth and saying so", async () => {
        const spec = await bundle("pets", { authorizerRoutes: ["GET /pets", "POST /adoptions", "POST /pets"] });
        const doc = spec.document as Json;
        for (const label of ["GET /pets", "POST /adoptions", "POST /pets"]) {
            assert.strictEqual(kinds(spec)[label], "ring-authorizer", label);
            assert.deepStrictEqual(op(doc, label).security, [{ [AUTHORIZER_SCHEME]: [] }], label);
        }
        const auth = spec.operationAuth;
        assert.strictEqual(auth["GET /pets"].replaced, "API key (api_key)");
        assert.strictEqual(auth["POST /adoptions"].replaced, "IAM (sigv4: awsSigv4)");
        assert.strictEqual(auth["POST /pets"].replaced, "own authorizer (shelter-staff: cognito_user_pools)");
        const photos = await bundle("photos", { authorizerRoutes: ["PUT /photos/{name}"] });
        assert.strictEqual(op(photos.document, "PUT /photos/{name}")["x-amazon-apigateway-auth"], undefined, "aws_iam removed: a method has one authorization type");
        assert.deepStrictEqual(op(photos.document, "PUT /photos/{name}").security, [{ [AUTHORIZER_SCHEME]: [] }]);
    });

    it("refuses config that would open or mis-name operations: a public route the document protects, a route in both lists, a route it lacks", async () => {
        const pets = path.join(PROJECT, ANY_DOCUMENT.pets.spec);
        const open = await refused(pets, { publicRoutes: ["POST /adoptions"] });
        assert.ok(open.problems.some((p) => p.message === "gateway:publicRoutes names POST /adoptions, which the document protects with IAM (sigv4: awsSigv4); " +
            "config does not open what the document protects: remove it from gateway:publicRoutes, or mark the operation public in the document (security: [])"), open.message);
        const both = await refused(pets, { publicRoutes: ["GET /pets/{petId}"], authorizerRoutes: ["GET /pets/{petId}"] });
        assert.match(both.message, /GET \/pets\/\{petId\} is in both gateway:publicRoutes and gateway:authorizerRoutes/);
        const unknown = await refused(pets, { authorizerRoutes: ["GET /kittens"] });
        assert.match(unknown.message, /gateway:authorizerRoutes names GET \/kittens, which the document does not have/);
    });

    it("refuses a document scheme named like the ring's authorizer", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-clash-"));
        try {
            const file = path.join(dir, "api.yaml");
            fs.writeFileSync(file, [
                'swagger: "2.0"', 'info: {title: clash, version: "1"}',
                "securityDefinitions:", "  threescale: {type: apiKey, name: x-api-key, in: header}",
                "paths:", "  /x:", "    get:", "      security: [{threescale: []}]", "      responses: {\"200\": {description: ok}}",
                "      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}}", "",
            ].join("\n"));
            const e = await refused(file);
            assert.ok(e.problems.map(formatProblem).includes("#/securityDefinitions/threescale: the document defines a security scheme named threescale, " +
                "the name the ring gives its own authorizer; rename the document's scheme (and the requirements naming it)"), e.message);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("tells backends how a kept operation was authorized: the context headers carry a fixed source a client cannot set", async () => {
        const orders = await bundle("orders");
        const params = (label: string) => op(orders.document, label)["x-amazon-apigateway-integration"].requestParameters;
        assert.strictEqual(params("GET /reports")["integration.request.header.x-api-ring-source"], "'iam'");
        assert.strictEqual(params("GET /reports")["integration.request.header.x-api-ring-plan"], "'-'");
        assert.strictEqual(params("GET /orders/{orderId}/invoice")["integration.request.header.x-api-ring-source"], "context.authorizer.source");
    });
});

describe("any document: CORS preflights", () => {
    it("serves OPTIONS operations public by default, saying why", async () => {
        const spec = await bundle("photos");
        assert.deepStrictEqual(spec.publicReasons, { "OPTIONS /albums": "CORS preflight", "OPTIONS /photos/{name}": "CORS preflight" });
        assert.deepStrictEqual(op(spec.document, "OPTIONS /albums").security, []);
        assert.deepStrictEqual(kinds(spec), {
            "GET /albums": "ring-authorizer",
            "OPTIONS /albums": "public",
            "PUT /photos/{name}": "iam",
            "GET /photos/{name}": "ring-authorizer",
            "OPTIONS /photos/{name}": "public",
            "ANY /{proxy+}": "ring-authorizer",
        });
    });

    it("puts them behind the authorizer when config opts out, all at once or one by one", async () => {
        const all = await bundle("photos", { publicPreflights: false });
        assert.deepStrictEqual(all.publicOperations, []);
        assert.deepStrictEqual(op(all.document, "OPTIONS /albums").security, [{ [AUTHORIZER_SCHEME]: [] }]);
        const one = await bundle("photos", { authorizerRoutes: ["OPTIONS /albums"] });
        assert.deepStrictEqual(one.publicOperations, ["OPTIONS /photos/{name}"]);
    });

    /** The preflight warning the issue's ANY /{proxy+} proxy gets, for any ANY operation and its resource. */
    const preflightWarning = (label: string, route: string) => `${label} answers OPTIONS too (its resource has no OPTIONS operation), ` +
        `so a browser's CORS preflight, which carries no credentials, meets the ring's authorizer and gets 401; add an options operation to ${route} ` +
        `(a mock answering the Access-Control-Allow-* headers: OPTIONS operations are served public), or list ${label} in gateway:publicRoutes if it is meant to be open`;

    it("warns of every ANY operation behind the ring's authorizer with no OPTIONS beside it, naming the fix", async () => {
        const spec = await bundle("photos");
        const warning = spec.warnings.find((w) => w.pointer === "#/paths/~1{proxy+}/x-amazon-apigateway-any-method");
        assert.ok(warning, spec.warnings.map(formatProblem).join("\n"));
        assert.strictEqual(warning.message, preflightWarning("ANY /{proxy+}", "/{proxy+}"));
        // orders sends no CORS header anywhere, but a browser app may call it, and its backend may answer CORS itself.
        const orders = await bundle("orders");
        assert.deepStrictEqual(orders.warnings.filter((w) => /preflight/.test(w.message)),
            [{ pointer: "#/paths/~1files~1{proxy+}/x-amazon-apigateway-any-method", message: preflightWarning("ANY /files/{proxy+}", "/files/{proxy+}") }]);
    });

    it("does not warn of an ANY operation with an OPTIONS beside it, nor of one not behind the ring's authorizer", async () => {
        const orders = await bundle("orders", { publicRoutes: ["ANY /files/{proxy+}"] });
        assert.deepStrictEqual(orders.warnings.filter((w) => /preflight/.test(w.message)), [], "public");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-preflight-"));
        try {
            const file = path.join(dir, "photos.yaml");
            const mock = "{responses: {'200': {description: preflight}}, x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}, responses: {default: {statusCode: '200'}}}}";
            const text = fs.readFileSync(path.join(PROJECT, ANY_DOCUMENT.photos.spec), "utf8").replace("  /{proxy+}:\n", `  /{proxy+}:\n    options: ${mock}\n`);
            fs.writeFileSync(file, text);
            const spec = await bundleSpec(file, options());
            assert.strictEqual(spec.operationAuth["OPTIONS /{proxy+}"].kind, "public");
            assert.deepStrictEqual(spec.warnings.filter((w) => /preflight/.test(w.message)), [], "an OPTIONS beside it");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("any document: gateway responses", () => {
    it("gives the ring's UNAUTHORIZED and ACCESS_DENIED the headers of the document's DEFAULT_4XX", async () => {
        const responses = (await bundle("photos")).document["x-amazon-apigateway-gateway-responses"] as Json;
        const cors = {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'https://photos.example.org'",
            "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key,X-Amz-Date,Authorization'",
        };
        assert.deepStrictEqual(responses.DEFAULT_4XX.responseParameters, cors, "the document's own stays");
        for (const type of ["UNAUTHORIZED", "ACCESS_DENIED"]) {
            assert.deepStrictEqual(responses[type].responseParameters, cors, type);
        }
        assert.strictEqual(responses.UNAUTHORIZED.statusCode, "401");
        assert.strictEqual(responses.ACCESS_DENIED.responseTemplates["application/json"], '{"message":$context.error.messageString,"reason":"$context.authorizer.reason","retryAfter":"$context.authorizer.retryAfter"}');
    });

    it("keeps the document's own UNAUTHORIZED and ACCESS_DENIED, adding the denial reason where it fits", async () => {
        const responses = (await bundle("pets")).document["x-amazon-apigateway-gateway-responses"] as Json;
        assert.deepStrictEqual(responses.UNAUTHORIZED, {
            statusCode: "401",
            responseParameters: { "gatewayresponse.header.WWW-Authenticate": "'Bearer realm=\"pets\"'" },
            responseTemplates: {
                "application/json": '{"error":"unauthenticated","detail":$context.error.messageString,' +
                    '"reason":"missing or malformed credential; for the 3scale key, send a 3scale user_key in the X-Api-Key header"}',
            },
        });
        assert.deepStrictEqual(responses.ACCESS_DENIED, {
            statusCode: "403",
            responseTemplates: {
                "application/xml": "<error><code>denied</code><detail>$context.error.message</detail></error>",
                "application/json": '{"message":$context.error.messageString,"reason":"$context.authorizer.reason","retryAfter":"$context.authorizer.retryAfter"}',
            },
        });
    });
});

describe("any document: bare $ref names, read as API Gateway's importer read them", () => {
    it("reads `$ref: Pet` as #/definitions/Pet, a bare parameter as #/parameters/<name>, and warns with the spelling to use", async () => {
        const spec = await bundle("pets");
        const doc = spec.document as Json;
        assert.strictEqual(op(doc, "GET /pets").responses["200"].schema.$ref, "#/definitions/Pets");
        assert.strictEqual(doc.definitions.Pets.items.$ref, "#/definitions/Pet");
        assert.strictEqual(op(doc, "POST /pets").parameters[0].schema.$ref, "#/definitions/Pet");
        assert.deepStrictEqual(op(doc, "DELETE /pets/{petId}").parameters[0], { name: "petId", in: "path", required: true, type: "string" });
        assert.ok(spec.warnings.map(formatProblem).includes(
            "#/paths/~1pets/get/responses/200/schema/$ref: the bare name \"Pets\" is read as #/definitions/Pets, as API Gateway's importer (swagger-parser 1.x) reads it; write \"#/definitions/Pets\""),
        spec.warnings.map(formatProblem).join("\n"));
    });

    it("reads a bare name in OpenAPI 3 as #/components/schemas/<name>", async () => {
        const spec = await bundle("orders");
        assert.strictEqual(op(spec.document, "POST /orders").requestBody.content["application/json"].schema.$ref, "#/components/schemas/Order");
    });

    it("refuses a bare name the document does not define, suggesting what API Gateway would read", async () => {
        const e = await refused(path.join(FIXTURES, "broken/bare-ref-unknown.yaml"));
        assert.deepStrictEqual(e.problems.map(formatProblem), [
            "test/fixtures/broken/bare-ref-unknown.yaml#/paths/~1owners/get/responses/200/schema: $ref \"Owner\" is a bare name, which API Gateway's importer " +
            "(swagger-parser 1.x) reads as #/definitions/Owner, and the document defines no #/definitions/Owner (it has Pet); define it there, " +
            "or write the $ref as the path of a file (./Owner.yaml)",
        ]);
    });
});

// The whole program on a stack, as `npm run preview -- --set gateway:spec=...` runs it.

function infos(run: OfflineRun): string[] {
    return run.diagnostics.filter((d) => d.severity === "info").map((d) => d.message);
}

function restApi(run: OfflineRun): Json {
    const found = run.resources.filter((r) => r.type === "aws:apigateway/restApi:RestApi");
    assert.strictEqual(found.length, 1);
    return found[0] as unknown as Json;
}

/** The Lambda permissions the slot gives the document's functions: function, qualifier and source ARN (the API's prefix cut). */
function documentPermissions(run: OfflineRun): string[] {
    const api = restApi(run);
    const gateway = run.resources.find((r) => r.type === "api-ring:ring:GatewayRing");
    assert.ok(gateway);
    const fromApiGateway = run.resources.filter((r) => r.type === "aws:lambda/permission:Permission" && (r.inputs as Json).principal === "apigateway.amazonaws.com");
    return fromApiGateway.filter((r) => !r.name.endsWith("-invokes-authorizer")).map((r) => {
        const inputs = r.inputs as Json;
        assert.strictEqual(r.parent, gateway.urn, `${r.name} is a child of the GatewayRing`);
        assert.strictEqual(inputs.action, "lambda:InvokeFunction");
        assert.ok(String(inputs.sourceArn).startsWith(`${api.state.executionArn}/`), inputs.sourceArn);
        return `${inputs.function}${inputs.qualifier ? ` qualifier ${inputs.qualifier}` : ""} from ${String(inputs.sourceArn).slice(api.state.executionArn.length + 1)}`;
    }).sort();
}

describe("any document: the program serving each fixture", function () {
    this.timeout(180_000);
    const runs = new Map<AnyDocument, OfflineRun>();
    /** Each fixture previewed once, when a test first asks (a fixture the program refuses fails only its own tests). */
    const runOf = (name: AnyDocument): OfflineRun => {
        if (!runs.has(name)) runs.set(name, previewStack("red", { overrides: anyDocumentOverrides(name) }));
        return runs.get(name) as OfflineRun;
    };

    it("photos: merges the binary types into the body and the API, prints them, and counts operations by kind", () => {
        const run = runOf("photos");
        const api = restApi(run).inputs as Json;
        assert.deepStrictEqual(api.binaryMediaTypes, ["image/jpeg", "image/png", "multipart/form-data"]);
        assert.deepStrictEqual(JSON.parse(api.body)["x-amazon-apigateway-binary-media-types"], ["image/jpeg", "image/png", "multipart/form-data"]);
        assert.deepStrictEqual(infos(run), [
            "gateway:spec: 6 operations: 3 behind the ring's authorizer, 1 IAM, 0 API key, 0 own authorizer, 2 public",
            "gateway:spec: IAM: PUT /photos/{name} (x-amazon-apigateway-auth: aws_iam)",
            "gateway:spec: public: OPTIONS /albums (CORS preflight), OPTIONS /photos/{name} (CORS preflight)",
            "gateway:spec: binary media types: image/jpeg, image/png (the document's), multipart/form-data (gateway:binaryMediaTypes)",
            "gateway:spec: gateway responses: UNAUTHORIZED and ACCESS_DENIED are the ring's, with the headers of the document's DEFAULT_4XX (Access-Control-Allow-Origin, Access-Control-Allow-Headers)",
        ]);
        const warnings = run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message);
        assert.ok(warnings.some((w) => w.startsWith("gateway:spec: #/paths/~1{proxy+}/x-amazon-apigateway-any-method: ANY /{proxy+} answers OPTIONS too")), warnings.join("\n"));
        assert.deepStrictEqual(documentPermissions(run), [], "S3 through a role needs no Lambda permission");
    });

    it("pets: counts each kind, and gives each Lambda the document names without credentials an invoke permission scoped to this API", () => {
        const run = runOf("pets");
        assert.deepStrictEqual(infos(run), [
            "gateway:spec: 6 operations: 1 behind the ring's authorizer, 1 IAM, 1 API key, 2 own authorizer, 1 public",
            "gateway:spec: IAM: POST /adoptions (sigv4: awsSigv4)",
            "gateway:spec: API key: GET /pets (api_key)",
            "gateway:spec: own authorizer: POST /pets (shelter-staff: cognito_user_pools), DELETE /pets/{petId} (partner-token: token, and the API key api_key)",
            "gateway:spec: public: GET /status (security: [])",
            "gateway:spec: binary media types: multipart/form-data (gateway:binaryMediaTypes)",
            "gateway:spec: gateway responses: UNAUTHORIZED is the document's, with the ring's reason added to its application/json template; " +
                "ACCESS_DENIED is the document's, with the ring's application/json template added",
            "gateway:spec: Lambda functions the document names without credentials, each given an invoke permission scoped to this API: " +
                "arn:aws:lambda:us-east-1:123456789012:function:list-pets (GET /pets), arn:aws:lambda:us-east-1:123456789012:function:register-pet (POST /pets), " +
                "arn:aws:lambda:us-east-1:123456789012:function:pet-details:live (GET /pets/{petId}), arn:aws:lambda:us-east-1:123456789012:function:adoptions (POST /adoptions), " +
                "arn:aws:lambda:us-east-1:123456789012:function:partner-token-check (authorizer partner-token)",
        ]);
        assert.deepStrictEqual(documentPermissions(run), [
            "arn:aws:lambda:us-east-1:123456789012:function:adoptions from red/POST/adoptions",
            "arn:aws:lambda:us-east-1:123456789012:function:list-pets from red/GET/pets",
            "arn:aws:lambda:us-east-1:123456789012:function:partner-token-check from authorizers/*",
            "arn:aws:lambda:us-east-1:123456789012:function:pet-details qualifier live from red/GET/pets/*",
            "arn:aws:lambda:us-east-1:123456789012:function:register-pet from red/POST/pets",
        ]);
        assert.deepStrictEqual(restApi(run).inputs.binaryMediaTypes, ["multipart/form-data"]);
    });

    it("orders: resolves functions named by stage variables (a whole ARN with an alias, a name in the authorizer's)", () => {
        assert.deepStrictEqual(documentPermissions(runOf("orders")), [
            "arn:aws:lambda:us-east-1:123456789012:function:orders qualifier prod from red/GET/orders",
            "arn:aws:lambda:us-east-1:123456789012:function:orders qualifier prod from red/POST/orders",
            "arn:aws:lambda:us-east-1:123456789012:function:storefront-check from authorizers/*",
        ]);
    });

    it("refuses a Lambda function it cannot name, naming the operation and the stage variable", () => {
        const missing = previewFails("red", anyDocumentOverrides("pets", { "gateway:stageVariables": "{}" }));
        assert.match(missing, /gateway:stageVariables\.register_function: got nothing; expected the Lambda function POST \/pets invokes \(its integration uri names \$\{stageVariables\.register_function\}\)/);
        const wrong = previewFails("red", anyDocumentOverrides("pets", { "gateway:stageVariables": JSON.stringify({ register_function: "arn:aws:s3:::pets-bucket" }) }));
        assert.match(wrong, /gateway:stageVariables\.register_function: got "arn:aws:s3:::pets-bucket"; expected the Lambda function POST \/pets invokes/);
        assert.doesNotMatch(wrong, /\n\s+at /, "no stack trace");
    });

    it("config: adds binary types, puts a document-protected operation behind the ring's authorizer saying so, and opts out of public preflights", () => {
        const run = previewStack("red", { overrides: anyDocumentOverrides("photos", {
            "gateway:binaryMediaTypes": JSON.stringify(["image/png", "application/zip"]),
            "gateway:authorizerRoutes": JSON.stringify(["PUT /photos/{name}"]),
            "gateway:publicPreflights": "false",
        }) });
        const api = restApi(run).inputs as Json;
        assert.deepStrictEqual(api.binaryMediaTypes, ["image/jpeg", "image/png", "application/zip"]);
        const lines = infos(run);
        assert.strictEqual(lines[0], "gateway:spec: 6 operations: 6 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 0 public");
        assert.ok(lines.includes("gateway:spec: PUT /photos/{name}: the document's IAM (x-amazon-apigateway-auth: aws_iam) is replaced by the ring's authorizer (gateway:authorizerRoutes)"), lines.join("\n"));
        const body = JSON.parse(api.body) as Json;
        assert.deepStrictEqual(op(body, "PUT /photos/{name}").security, [{ [AUTHORIZER_SCHEME]: [] }]);
    });

    it("passes the policy pack with the document's own auth kept", () => {
        for (const name of ["pets", "photos"] as AnyDocument[]) {
            assert.deepStrictEqual(checkStackOffline("red", {}, PROJECT, anyDocumentOverrides(name)).violations, [], name);
        }
    });

    it("the upstream document (the stand-in for Open edX's) previews with the same operations, counted by kind, and its warnings plus one per ANY proxy behind the ring's authorizer", () => {
        const run = previewStack("red", { overrides: upstreamOverrides() });
        assert.deepStrictEqual(infos(run).slice(0, 2), [
            "gateway:spec: 12 operations: 8 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 4 public",
            "gateway:spec: public: GET / (gateway:publicRoutes), GET /status (gateway:publicRoutes), POST /oauth2/token (x-amazon-apigateway-auth: none), ANY /shelves/login (gateway:publicRoutes)",
        ]);
        const warnings = run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message);
        // The upstream quirks left after the import's fixes (2 shared operation ids) and the 2 ANY proxies.
        assert.strictEqual(warnings.length, 4, warnings.join("\n"));
        assert.deepStrictEqual(warnings.filter((w) => /preflight/.test(w)).map((w) => w.split(" answers OPTIONS too")[0]), [
            "gateway:spec: #/paths/~1shelves~1v1~1{proxy+}/x-amazon-apigateway-any-method: ANY /shelves/v1/{proxy+}",
            "gateway:spec: #/paths/~1uploads~1{proxy+}/x-amazon-apigateway-any-method: ANY /uploads/{proxy+}",
        ]);
        assert.deepStrictEqual(restApi(run).inputs.binaryMediaTypes, ["multipart/form-data"]);
        assert.deepStrictEqual(documentPermissions(run), []);
    });
});
