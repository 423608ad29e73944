// An upstream document served unedited: test/fixtures/upstream reproduces, in the project's own
// words, each shape of edx/api-manager's document (remote $refs pinned to commits, a token route
// marked x-amazon-apigateway-auth none, the caller's Authorization passed through, stage
// variables written three ways, a fragment served twice, property-level required: true).
import { userKeyInHeader } from "../../handlers/credentials";
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { AUTHORIZER_SCHEME, AUTHORIZER_URI_PLACEHOLDER, BundledSpec, CONTEXT_HEADERS, SpecError, SpecOptions, bundleSpec, formatProblem, missingStageVariables, operationsSummary } from "../../openapi";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed documents

import { PROJECT, UPSTREAM_MIRRORS, UPSTREAM_PUBLIC } from "../support/upstream";

const UPSTREAM = path.join(PROJECT, "test", "fixtures", "upstream");
const OPTIONS: SpecOptions = { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0, mirrors: UPSTREAM_MIRRORS, baseDir: PROJECT, publicRoutes: UPSTREAM_PUBLIC };

async function refused(file: string, options: SpecOptions): Promise<SpecError> {
    try {
        await bundleSpec(file, options);
    } catch (e) {
        assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
        return e;
    }
    throw new Error(`${file} was accepted`);
}

describe("upstream document: bundled from its mirror, unedited", () => {
    let spec: BundledSpec;
    before(async () => {
        spec = await bundleSpec(path.join(UPSTREAM, "api.yaml"), OPTIONS);
    });
    const op = (route: string, method: string) => (spec.document.paths as Json)[route][method] as Json;

    it("resolves the remote $refs from the mirror folder, and serves no $ref but models", () => {
        assert.strictEqual(spec.version, "2.0");
        assert.strictEqual(op("/catalog/v1/books", "get")["x-amazon-apigateway-integration"].uri, "https://${stageVariables.catalog_host}/api/books/");
        assert.deepStrictEqual([...JSON.stringify(spec.document).matchAll(/"\$ref":"([^"]+)"/g)].filter((m) => !m[1].startsWith("#/definitions/")), []);
        // Bundling points the second use of a remote path item at the first; the served copy is whole.
        assert.deepStrictEqual(op("/catalog/v2/books/{id}", "get"), op("/catalog/v1/books/{id}", "get"));
        assert.deepStrictEqual(op("/reports/v3/readers/{reader_id}/summary", "get").parameters[1],
            { in: "path", name: "reader_id", required: true, type: "string" }, "a $ref inside the remote file, resolved there");
    });

    it("adds the method response an integration response's status code needs, so the import warns of none", () => {
        assert.deepStrictEqual(spec.addedMethodResponses, ["201 added to POST /catalog/v1/loans"]);
        const post = (spec.document.paths as Record<string, Record<string, Record<string, Record<string, unknown>>>>)["/catalog/v1/loans"].post;
        assert.ok("201" in post.responses);
    });

    it("prints the quirks API Gateway accepts as warnings, each with its JSON pointer, and goes on", () => {
        assert.deepStrictEqual(spec.warnings.map(formatProblem), [
            "#/paths/~1catalog~1v2~1books~1{id}/get/operationId: operationId get_book is shared by 2 operations (GET /catalog/v1/books/{id}, GET /catalog/v2/books/{id}); API Gateway accepts it (operation ids are not unique keys there)",
            "#/paths/~1reports~1v3~1readers~1{reader_id}~1summary/get/operationId: operationId get_reader_summary is shared by 2 operations (GET /reports/v1/readers/{reader_id}/summary, GET /reports/v3/readers/{reader_id}/summary); API Gateway accepts it (operation ids are not unique keys there)",
            "#/paths/~1catalog~1v1~1loans/post/parameters/1/schema/items/properties/book_id/required: property-level required: true (the schema wants required: [book_id] on its object); API Gateway accepts it",
            "#/paths/~1catalog~1v1~1loans/post/parameters/1/schema/items/properties/reader_email/required: property-level required: true (the schema wants required: [reader_email] on its object); API Gateway accepts it",
        ]);
    });

    it("keeps public what the document or config marks public, says why, and protects the rest", () => {
        assert.deepStrictEqual(spec.publicReasons, {
            "GET /": "gateway:publicRoutes",
            "GET /status": "gateway:publicRoutes",
            "POST /oauth2/token": "x-amazon-apigateway-auth: none",
            "ANY /shelves/login": "gateway:publicRoutes",
        });
        assert.deepStrictEqual(spec.protectedOperations, [
            "GET /catalog/v1/books", "GET /catalog/v1/books/{id}", "POST /catalog/v1/loans", "GET /catalog/v2/books/{id}",
            "GET /reports/v1/readers/{reader_id}/summary", "GET /reports/v3/readers/{reader_id}/summary", "ANY /shelves/v1/{proxy+}", "ANY /uploads/{proxy+}",
        ]);
        assert.strictEqual(operationsSummary(spec), "8 operations behind the authorizer, 4 public: GET / (gateway:publicRoutes), GET /status (gateway:publicRoutes), " +
            "POST /oauth2/token (x-amazon-apigateway-auth: none), ANY /shelves/login (gateway:publicRoutes)");
        for (const label of spec.protectedOperations) {
            const [method, route] = label.split(" ");
            assert.deepStrictEqual(op(route, method === "ANY" ? "x-amazon-apigateway-any-method" : method.toLowerCase()).security, [{ [AUTHORIZER_SCHEME]: [] }], label);
        }
        for (const label of spec.publicOperations) {
            const [method, route] = label.split(" ");
            assert.deepStrictEqual(op(route, method === "ANY" ? "x-amazon-apigateway-any-method" : method.toLowerCase()).security, [], label);
        }
        assert.deepStrictEqual(op("/oauth2/token", "post")["x-amazon-apigateway-auth"], { type: "none" }, "the document's own marker stays");
    });

    it("finds every stage variable however it is written, with where", () => {
        assert.deepStrictEqual(Object.keys(spec.stageVariableUses).sort(), ["catalog_host", "id", "lms_host", "portal_url", "public_host", "reports_host", "shelves_host", "upload_host"]);
        assert.deepStrictEqual(spec.stageVariableUses.portal_url, ["#/paths/~1/get/x-amazon-apigateway-integration/responses/default/responseParameters/method.response.header.Location"], "bare stageVariables.x");
        assert.deepStrictEqual(spec.stageVariableUses.id, ["#/paths/~1status/get/x-amazon-apigateway-integration/responses/default/responseTemplates/application~1json"], "${stageVariables['x']}");
        assert.ok(spec.stageVariableUses.public_host.includes("#/paths/~1catalog~1v1~1books/get/x-amazon-apigateway-integration/responses/200/responseTemplates/application~1json"), "$stageVariables.x");
        assert.deepStrictEqual(missingStageVariables(spec, { catalog_host: "c", id: "r1", lms_host: "l", public_host: "p", reports_host: "r", shelves_host: "s" }).map((m) => m.name),
            ["portal_url", "upload_host"], "all missing ones at once");
    });

    it("maps the authorizer's context into backend headers on protected HTTP routes and overwrites them on public ones", () => {
        const parameters = (route: string, method: string) => op(route, method)["x-amazon-apigateway-integration"].requestParameters as Json;
        assert.deepStrictEqual(CONTEXT_HEADERS.map((h) => h.header), ["x-api-ring-principal-id", "x-api-ring-app-id", "x-api-ring-plan", "x-api-ring-source", "x-api-ring-limit-remaining", "x-api-ring-limit-reset"]);
        const books = parameters("/catalog/v1/books", "get");
        assert.strictEqual(books["integration.request.header.Authorization"], "method.request.header.Authorization", "the document's own mapping stays");
        for (const h of CONTEXT_HEADERS) {
            assert.strictEqual(books[`integration.request.header.${h.header}`], `context.authorizer.${h.context}`);
            assert.strictEqual(parameters("/shelves/v1/{proxy+}", "x-amazon-apigateway-any-method")[`integration.request.header.${h.header}`], `context.authorizer.${h.context}`);
            assert.strictEqual(parameters("/oauth2/token", "post")[`integration.request.header.${h.header}`], `'${h.publicValue}'`);
            assert.strictEqual(parameters("/shelves/login", "x-amazon-apigateway-any-method")[`integration.request.header.${h.header}`], `'${h.publicValue}'`);
        }
        assert.strictEqual(op("/", "get")["x-amazon-apigateway-integration"].requestParameters, undefined, "a mock has no backend");
    });

    it("refuses the identity header the document passes to its backends, naming the header, the operations and the fix", async () => {
        const e = await refused(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, credentials: userKeyInHeader("authorization") });
        assert.strictEqual(e.problems.length, 1);
        assert.match(e.message, /authorizer:identityHeader is authorization, and 6 protected operations pass that header to the backend \(GET \/catalog\/v1\/books, GET \/catalog\/v1\/books\/\{id\}, POST \/catalog\/v1\/loans, GET \/catalog\/v2\/books\/\{id\}, GET \/reports\/v1\/readers\/\{reader_id\}\/summary, GET \/reports\/v3\/readers\/\{reader_id\}\/summary\)/);
        assert.match(e.message, /Set authorizer:identityHeader to a header no operation passes on, e\.g\. X-Api-Key$/);
        await bundleSpec(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, credentials: userKeyInHeader("X-Library-Key") });
    });

    it("lets a JWT in Authorization reach the backends that verify it themselves (Open edX), through a TOKEN authorizer", async () => {
        const jwt = { kind: "jwt" as const, location: "header" as const, name: "Authorization", appIdName: "app_id", appKeyName: "app_key" };
        const spec = await bundleSpec(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, credentials: jwt });
        const scheme = (spec.document.securityDefinitions as Record<string, Record<string, unknown>>)[AUTHORIZER_SCHEME];
        assert.deepStrictEqual(scheme["x-amazon-apigateway-authorizer"], {
            type: "token", authorizerUri: AUTHORIZER_URI_PLACEHOLDER, authorizerResultTtlInSeconds: 0, identitySource: "method.request.header.Authorization",
        });
    });

    it("refuses a key in a query parameter the document maps to a backend, naming the query key", async () => {
        const e = await refused(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, credentials: { ...userKeyInHeader("page"), location: "query" } });
        assert.match(e.message, /authorizer:queryParameter is page, and \d+ protected operations? pass that query parameter to the backend/);
    });

    it("refuses public routes the document does not have", async () => {
        const e = await refused(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, publicRoutes: ["GET /status", "POST /status", "GET /shelves/login"] });
        assert.match(e.message, /gateway:publicRoutes names POST \/status, GET \/shelves\/login, which the document does not have/);
    });
});

describe("upstream document: remote $refs never touch the network", () => {
    let server: http.Server;
    let base: string;
    let requests = 0;
    let dir: string;
    before(async () => {
        server = http.createServer((req, res) => {
            requests += 1;
            res.end("paths: {}");
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-remote-"));
        fs.writeFileSync(path.join(dir, "api.yaml"), [
            'swagger: "2.0"', "info: {title: t, version: \"1\"}", "paths:", "  /books:", `    $ref: "${base}books/v1/api.yaml#/books"`, "",
        ].join("\n"));
        fs.mkdirSync(path.join(dir, "mirror", "books", "v1"), { recursive: true });
        fs.writeFileSync(path.join(dir, "mirror", "books", "v1", "api.yaml"),
            "books:\n  get:\n    responses: {\"200\": {description: ok}}\n    x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}}\n");
    });
    after(async () => {
        await new Promise((r) => server.close(r));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reads a mirrored URL from the mirror folder, and the server hears nothing", async () => {
        const spec = await bundleSpec(path.join(dir, "api.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0, mirrors: { [base]: "mirror/" }, baseDir: dir });
        assert.ok(((spec.document.paths as Json)["/books"] as Json).get);
        assert.strictEqual(requests, 0);
    });

    it("refuses a URL no mirror covers, naming it, without fetching it", async () => {
        const e = await refused(path.join(dir, "api.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 });
        assert.ok(e.message.includes(`${base}books/v1/api.yaml is a remote $ref and gateway:specMirrors has no prefix for it`), e.message);
        assert.strictEqual(requests, 0);
    });

    it("names the URL and the mirror path tried when the mirror lacks the file", async () => {
        // A mirror folder of the project (one outside it and outside the document's tree is refused as such).
        const empty = path.join(UPSTREAM, "mirror", "nothing-here");
        const e = await refused(path.join(UPSTREAM, "api.yaml"), { ...OPTIONS, mirrors: { "https://specs.example.org/": empty } });
        assert.ok(e.message.includes("https://specs.example.org/catalog-service/a1b2c3d/api.yaml is not in the mirror: tried " +
            path.relative(process.cwd(), path.join(empty, "catalog-service", "a1b2c3d", "api.yaml"))), e.message);
        assert.deepStrictEqual(e.problems.map((p) => p.pointer), ["test/fixtures/upstream/api.yaml#/paths/~1catalog~1v1~1books",
            "test/fixtures/upstream/api.yaml#/paths/~1reports~1v1~1readers~1{reader_id}~1summary"], "every unreadable file at once, with the $ref that names it");
        assert.strictEqual(requests, 0);
    });
});

describe("openapi: validation refuses only what API Gateway refuses, listing every problem with its pointer", () => {
    it("lists each problem of a document API Gateway would refuse", async () => {
        const e = await refused(path.join(PROJECT, "test/fixtures/broken/gateway-refuses.yaml"), { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 });
        assert.deepStrictEqual(e.problems.map(formatProblem), [
            "#/paths/~1files~1{path+}~1meta: the greedy variable {path+} must be the last path part",
            "#/paths/~1weird path: path part \"weird path\": API Gateway allows only A-Z a-z 0-9 . _ - in a path part, or a whole {variable} or {variable+}",
            "#/paths/~1books~1{isbn}~1covers: {isbn} is a second variable path part under /books (/books/{id} has {id}); API Gateway allows one per resource",
            "#/paths/~1books~1{id}/get: GET /books/{id} has no x-amazon-apigateway-integration: API Gateway cannot deploy a method without an integration",
            "#/paths/~1books~1{isbn}~1covers/get/x-amazon-apigateway-integration/type: integration type \"lambda\"; expected one of http, http_proxy, aws, aws_proxy, mock",
            "#/paths/~1files~1{path+}~1meta/get/x-amazon-apigateway-integration/requestParameters/integration.request.header.X-Reader: maps method.request.header.X-Reader, which the operation does not declare; API Gateway needs method request parameters declared before they are mapped (add {name: X-Reader, in: header} to its parameters)",
            "#/paths/~1files~1{path+}~1meta/get/x-amazon-apigateway-integration/requestParameters/integration.request.path.path: maps method.request.path.file, but /files/{path+}/meta has no {file}",
            "#/paths/~1redirect/get/x-amazon-apigateway-integration/responses/default/responseParameters/method.response.header.Location: maps the header Location, which response 302 of the operation does not declare (add it to its headers)",
            "#/paths/~1weird path/get/x-amazon-apigateway-integration/uri: a http_proxy integration needs an absolute http(s) URL",
            "#/paths/~1weird path/get/x-amazon-apigateway-integration/httpMethod: a http_proxy integration needs its httpMethod",
        ]);
        assert.match(e.message, /^gateway:spec: cannot use test\/fixtures\/broken\/gateway-refuses\.yaml: 10 problems API Gateway would refuse/);
        assert.strictEqual(e.message.split("\n").length, 11, "one line per problem");
    });
});
