// The local run's gateway responses and request validation, piece by piece: the fallbacks and
// defaults of "Gateway response types", gateway response templates as simple substitution, and
// validation of Swagger 2 and OpenAPI 3 operations with API Gateway's findings.
import * as assert from "assert";
import * as path from "path";
import { userKeyInHeader } from "../../handlers/credentials";
import { GatewayError, renderGatewayResponse } from "../../local/gateway-responses";
import { Json, MethodRequest } from "../../local/mapping";
import { compileRequestValidation, validateRequest } from "../../local/request-validation";
import { bundleSpec, gatewayRuleProblems } from "../../openapi";
import { PROJECT } from "../support/upstream";

const request = (over: Partial<MethodRequest> = {}): MethodRequest => ({
    query: "", headers: {}, body: Buffer.alloc(0), params: {}, stageVariables: { tier: "gold" },
    context: { requestId: "req-1", stage: "red", path: "/red/x", authorizer: { reason: "route not in plan" } }, ...over,
});

describe("local gateway: gateway responses", () => {
    const throttled = new GatewayError("THROTTLED", "Too Many Requests");

    it("a type neither the document nor its family fallback defines is API Gateway's default: its status, {\"message\": ...}, no header", () => {
        const r = renderGatewayResponse({ DEFAULT_5XX: { statusCode: 503 } }, throttled, request());
        assert.deepStrictEqual(r, { status: 429, headers: { "content-type": "application/json" }, body: '{"message":"Too Many Requests"}' });
        const configuration = renderGatewayResponse({}, new GatewayError("AUTHORIZER_CONFIGURATION_ERROR", null), request());
        assert.deepStrictEqual([configuration.status, JSON.parse(configuration.body)], [500, { message: null }]);
    });

    it("a status on DEFAULT_4XX becomes the status of every 4XX type the document does not customize; a customized one keeps its own", () => {
        const responses = { DEFAULT_4XX: { statusCode: "400", responseParameters: { "gatewayresponse.header.x-tier": "stageVariables.tier" } }, UNAUTHORIZED: {} };
        const r = renderGatewayResponse(responses, throttled, request());
        assert.deepStrictEqual([r.status, r.headers["x-tier"], r.body], [400, "gold", '{"message":"Too Many Requests"}'], "no template on DEFAULT_4XX: the default one");
        const unauthorized = renderGatewayResponse(responses, new GatewayError("UNAUTHORIZED", "Unauthorized"), request());
        assert.deepStrictEqual([unauthorized.status, unauthorized.headers["x-tier"]], [401, undefined]);
        const failure = renderGatewayResponse(responses, new GatewayError("INTEGRATION_FAILURE", "Internal server error"), request());
        assert.strictEqual(failure.status, 504, "DEFAULT_4XX is not a 5XX type's fallback");
    });

    it("picks the template the Accept header names, else application/json, else the first; the content type follows it", () => {
        const responses = { ACCESS_DENIED: { responseTemplates: { "application/xml": "<denied>$context.error.message</denied>", "text/plain": "no: $context.authorizer.reason" } } };
        const denied = new GatewayError("ACCESS_DENIED", "User is not authorized to access this resource with an explicit deny");
        const plain = renderGatewayResponse(responses, denied, request({ headers: { accept: "text/plain" } }));
        assert.deepStrictEqual([plain.status, plain.headers["content-type"], plain.body], [403, "text/plain", "no: route not in plan"]);
        const first = renderGatewayResponse(responses, denied, request({ headers: { accept: "application/json" } }));
        assert.deepStrictEqual([first.headers["content-type"], first.body], ["application/xml", "<denied>User is not authorized to access this resource with an explicit deny</denied>"]);
    });

    it("renders templates by simple substitution, not Velocity: variables, ${...}, $input.params; an empty one is empty, other text stays", () => {
        const responses = { THROTTLED: { responseTemplates: { "application/json":
            '{"t":"$stageVariables.tier","s":"${context.stage}","who":"$input.params(\'x-who\')","none":"$context.authorizer.missing","#if":"#if($x)$price"}' } } };
        const r = renderGatewayResponse(responses, throttled, request({ headers: { "x-who": "kim" } }));
        assert.deepStrictEqual(JSON.parse(r.body), { t: "gold", s: "red", who: "kim", none: "", "#if": "#if($x)$price" });
    });

    it("maps headers from the method request: header, query string, path, the guide's method.input.params, and context", () => {
        const responses = { DEFAULT_4XX: { responseParameters: {
            "gatewayresponse.header.a": "method.request.header.X-Who", "gatewayresponse.header.b": "method.request.querystring.q",
            "gatewayresponse.header.c": "method.request.path.id", "gatewayresponse.header.d": "method.input.params.q",
            "gatewayresponse.header.e": "context.error.responseType", "gatewayresponse.header.f": "method.request.header.absent",
        } } };
        const r = renderGatewayResponse(responses, throttled, request({ headers: { "x-who": "kim" }, query: "q=1&q=2", params: { id: "7" } }));
        assert.deepStrictEqual(r.headers, { "content-type": "application/json", a: "kim", b: "2", c: "7", d: "2", e: "THROTTLED" });
    });
});

describe("local gateway: request validation", () => {
    const oas3: Json = {
        openapi: "3.0.1",
        "x-amazon-apigateway-request-validators": { all: { validateRequestBody: true, validateRequestParameters: true } },
        "x-amazon-apigateway-request-validator": "all",
        components: { schemas: {
            Order: { type: "object", required: ["sku"], additionalProperties: false, properties: {
                sku: { type: "string", minLength: 3 }, qty: { type: "integer", required: true }, note: { anyOf: [{ type: "string" }, { type: "null" }] },
            } },
        } },
        paths: { "/orders/{id}": {
            parameters: [{ name: "X-Shop", in: "header", required: true }, { name: "id", in: "path", required: true }],
            put: {
                parameters: [{ name: "x-shop", in: "header", required: false }, { name: "mode", in: "query", required: true }],
                requestBody: { content: { "$default": { schema: { $ref: "#/components/schemas/Order" } } } },
            },
        } },
    };
    const put = (doc: Json) => ((doc.paths as Json)["/orders/{id}"] as Json).put as Json;

    it("OpenAPI 3: an operation's parameter replaces its path item's of the same name; the $default model takes any content type", () => {
        const { byOperation, problems } = compileRequestValidation(oas3);
        assert.deepStrictEqual(problems, [], "a property-level required: true is no refusal");
        const validation = byOperation.get(put(oas3));
        assert.ok(validation);
        assert.deepStrictEqual(validation.required?.map((p) => p.key), ["method.request.path.id", "method.request.querystring.mode"]);
        const text = (body: string, headers: Record<string, string> = { "content-type": "text/plain" }) =>
            validateRequest(validation, { headers, query: "mode=fast", params: { id: "9" }, body: Buffer.from(body) });
        assert.strictEqual(text('{"sku":"abc"}'), undefined, "qty's property-level required: true requires nothing");
        const error = text('{"sku":"ab","qty":1.5,"extra":1,"more":2,"note":7}');
        assert.ok(error);
        assert.deepStrictEqual([error.type, error.errorMessage], ["BAD_REQUEST_BODY", "Invalid request body"]);
        assert.strictEqual(error.validationErrorString, '[object instance has properties which are not allowed by the schema: [\\"extra\\",\\"more\\"], ' +
            'string \\"ab\\" is too short (length: 2, required minimum: 3), ' +
            "instance type (number) does not match any allowed primitive type (allowed: [\\\"integer\\\"]), " +
            "instance failed to match at least one required schema among 2]");
    });

    it("names every missing parameter, headers matched in any case", () => {
        const validation = compileRequestValidation(oas3).byOperation.get(put(oas3));
        assert.ok(validation);
        const missing = validateRequest(validation, { headers: { "x-shop": "s" }, query: "", params: { id: "9" }, body: Buffer.from("{}") });
        assert.deepStrictEqual([missing?.type, missing?.errorMessage], ["BAD_REQUEST_PARAMETERS", "Missing required request parameters: [mode]"]);
    });

    it("an operation with no validator, or one that checks nothing, is not validated", () => {
        const doc: Json = { ...oas3, "x-amazon-apigateway-request-validator": undefined };
        assert.strictEqual(compileRequestValidation(doc).byOperation.size, 0);
        const off: Json = { ...oas3, "x-amazon-apigateway-request-validators": { all: { validateRequestBody: false, validateRequestParameters: false } } };
        assert.strictEqual(compileRequestValidation(off).byOperation.size, 0);
    });

    it("refuses a validator that is not true or false, and a definition that is no draft 4 schema even when nothing uses it", () => {
        const doc: Json = {
            swagger: "2.0", "x-amazon-apigateway-request-validators": { loose: { validateRequestBody: "yes" } },
            definitions: { Unused: { type: "object", properties: { n: { type: "whole number" } } } }, paths: {},
        };
        assert.deepStrictEqual(compileRequestValidation(doc).problems.map((p) => `${p.pointer}: ${p.message}`), [
            '#/x-amazon-apigateway-request-validators/loose/validateRequestBody: validateRequestBody is "yes"; expected true or false',
            "#/definitions/Unused: not a JSON Schema draft 4 model (API Gateway's models are): /properties/n/type must be equal to one of the allowed values, got \"whole number\"; " +
            "/properties/n/type must be array, got \"whole number\"; /properties/n/type must match a schema in anyOf, got \"whole number\"",
        ]);
    });
});

describe("gateway responses API Gateway's import refuses", () => {
    it("refuses a statusCode written as a number: the extension takes a string, and PutRestApi warns of a number, which failOnWarnings makes fatal", () => {
        const doc: Json = { swagger: "2.0", paths: {}, "x-amazon-apigateway-gateway-responses": { DEFAULT_5XX: { statusCode: 503 }, THROTTLED: { statusCode: "429" } } };
        assert.deepStrictEqual(gatewayRuleProblems(doc), [{
            pointer: "#/x-amazon-apigateway-gateway-responses/DEFAULT_5XX/statusCode",
            message: 'statusCode 503 is a number; expected a string such as "503" (the extension\'s statusCode is a string; PutRestApi warns of a number, and the slot imports with failOnWarnings)',
        }]);
    });
});

describe("local gateway: the observations fixture as the program serves it", () => {
    it("keeps the document's validators and gateway responses beside the ring's, with nothing the local run or API Gateway would refuse", async () => {
        const spec = await bundleSpec(path.join(PROJECT, "test/fixtures/gateway-rules/observations.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 });
        assert.deepStrictEqual(spec.warnings, []);
        assert.deepStrictEqual([spec.protectedOperations.length, spec.publicOperations], [4, ["GET /census", "GET /archive"]]);
        const served = JSON.parse(spec.render("arn:aws:apigateway:us-east-1:lambda:path/authorizer")) as Json;
        assert.deepStrictEqual(Object.keys(served["x-amazon-apigateway-request-validators"] as Json), ["everything", "params-only", "body-only", "off"]);
        assert.strictEqual(served["x-amazon-apigateway-request-validator"], "params-only");
        assert.deepStrictEqual(Object.keys(served["x-amazon-apigateway-gateway-responses"] as Json).sort(),
            ["ACCESS_DENIED", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED"]);
        assert.deepStrictEqual(gatewayRuleProblems(spec.document), []);
    });
});
