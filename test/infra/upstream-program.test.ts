// The whole program serving the upstream document (test/fixtures/upstream, the project's stand-in
// for edx/api-manager's) on both stacks, as `npm run preview -- --set ...` and `npm run policy
// -- --set ...` do; CI runs the same against the real document in ../shared.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { OfflineRun, previewStack, renderPreview } from "../../preview/cli";
import { previewFails } from "../support/preview";
import { checkStackOffline } from "../../preview/policy-check";
import { PROJECT, UPSTREAM_HOSTS, UPSTREAM_STAGE_VARIABLES, upstreamOverrides } from "../support/upstream";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting on preview data

function only(run: OfflineRun, type: string): Json {
    const found = run.resources.filter((r) => r.type === type);
    assert.strictEqual(found.length, 1, `one ${type}`);
    return found[0].inputs as Json;
}

describe("program: serving the upstream document on every stack", function () {
    this.timeout(120_000);
    const runs = new Map<string, OfflineRun>();
    before(() => {
        for (const stack of ["red", "black"]) runs.set(stack, previewStack(stack, { overrides: upstreamOverrides() }));
    });

    for (const stack of ["red", "black"]) {
        it(`${stack}: previews with the document unedited, printing its warnings with pointers and its public operations`, () => {
            const run = runs.get(stack) as OfflineRun;
            const warnings = run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message);
            // 2 upstream quirks (shared operationIds), and the 2 ANY proxies behind the authorizer a browser's preflight would meet (openapi/cors.ts).
            assert.strictEqual(warnings.length, 4, warnings.join("\n"));
            assert.strictEqual(warnings.filter((w) => w.includes("answers OPTIONS too")).length, 2, warnings.join("\n"));
            assert.ok(warnings.every((w) => /^gateway:spec: #\/paths\/\S+: /.test(w)), warnings.join("\n"));
            assert.ok(warnings.some((w) => w.includes("operationId get_book is shared by 2 operations")));
            assert.deepStrictEqual(run.diagnostics.filter((d) => d.severity === "info").map((d) => d.message), [
                "gateway:spec: 12 operations: 8 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 4 public",
                "gateway:spec: public: GET / (gateway:publicRoutes), GET /status (gateway:publicRoutes), POST /oauth2/token (x-amazon-apigateway-auth: none), ANY /shelves/login (gateway:publicRoutes)",
                "gateway:spec: binary media types: multipart/form-data (gateway:binaryMediaTypes)",
                "gateway:spec: 1 method response added for status codes integration responses use (PutRestApi would otherwise warn and drop them): " +
                "method response 201 added to POST /catalog/v1/loans",
                "gateway:spec: 2 property-level required: true moved to their object's required list (an API Gateway model is JSON Schema draft 4, " +
                "which takes required: [names]; PutRestApi would otherwise warn that it cannot create the model): " +
                "book_id at #/paths/~1catalog~1v1~1loans/post/parameters/1/schema/items, reader_email at #/paths/~1catalog~1v1~1loans/post/parameters/1/schema/items",
            ]);
            const text = renderPreview(run);
            assert.match(text, /\nDiagnostics:\n {2}pulumi:pulumi:Stack \(api-ring-\w+\):\n {4}warning: gateway:spec: #\/paths\//);
            assert.match(text, /\n {4}info: gateway:spec: 12 operations: 8 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 4 public\n/);
        });

        it(`${stack}: serves the whole document in overwrite mode with multipart as binary, every stage variable from config`, () => {
            const run = runs.get(stack) as OfflineRun;
            const api = only(run, "aws:apigateway/restApi:RestApi");
            assert.strictEqual(api.putRestApiMode, "overwrite");
            assert.deepStrictEqual(api.binaryMediaTypes, ["multipart/form-data"]);
            const body = JSON.parse(api.body) as Json;
            assert.strictEqual(Object.keys(body.paths).length, 12, "every route of the document");
            assert.strictEqual(body.paths["/catalog/v1/books"].get["x-amazon-apigateway-integration"].requestParameters["integration.request.header.x-api-ring-plan"], "context.authorizer.plan");
            const stage = only(run, "aws:apigateway/stage:Stage");
            const release = (yaml.load(fs.readFileSync(path.join(PROJECT, `Pulumi.${stack}.yaml`), "utf8")) as Json).config["gateway:releaseId"];
            assert.deepStrictEqual(stage.variables, { ...UPSTREAM_HOSTS, ...UPSTREAM_STAGE_VARIABLES, id: release });
        });
    }

    it("lists every missing stage variable at once, each under the key that should hold it", () => {
        const hosts: Record<string, string> = { ...UPSTREAM_HOSTS };
        delete hosts.upload_host;
        delete hosts.lms_host;
        const details = previewFails("red", upstreamOverrides({ "gateway:hosts": JSON.stringify(hosts), "gateway:stageVariables": null }));
        assert.match(details, /stack "red" has 3 invalid config values:/);
        assert.match(details, /gateway:hosts\.lms_host: got nothing; expected a value for the stage variable lms_host, which the document uses at #\/paths\/~1oauth2~1token\/post\/x-amazon-apigateway-integration\/uri/);
        assert.match(details, /gateway:stageVariables\.portal_url: got nothing; expected a value for the stage variable portal_url, which the document uses at #\/paths\/~1\/get\/x-amazon-apigateway-integration\/responses\/default\/responseParameters\/method\.response\.header\.Location/);
        assert.match(details, /gateway:hosts\.upload_host: got nothing/);
        assert.doesNotMatch(details, /\n\s+at /, "no stack trace");
    });

    it("refuses the identity header the document passes to its backends, before anything is created", () => {
        const details = previewFails("black", upstreamOverrides({ "authorizer:identityHeader": "Authorization" }));
        assert.match(details, /authorizer:identityHeader is Authorization, and 6 protected operations pass that header to the backend/);
        assert.match(details, /Set authorizer:identityHeader to a header no operation passes on, e\.g\. X-Api-Key/);
    });

    it("drops a route removed from the document from the next body, which replaces the API (overwrite)", () => {
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-upstream-"));
        try {
            fs.cpSync(path.join(PROJECT, "test/fixtures/upstream"), copy, { recursive: true });
            const index = path.join(copy, "api.yaml");
            const document = fs.readFileSync(index, "utf8");
            const without = document.replace(/ {2}"\/uploads\/\{proxy\+\}":\n(( {4}.*)?\n)+/, "");
            assert.notStrictEqual(without, document);
            fs.writeFileSync(index, without);
            const before = JSON.parse(only(runs.get("red") as OfflineRun, "aws:apigateway/restApi:RestApi").body) as Json;
            const next = previewStack("red", { overrides: upstreamOverrides({ "gateway:spec": index, "gateway:specMirrors": JSON.stringify({ "https://specs.example.org/": path.join(copy, "mirror", "specs.example.org") }) }) });
            const api = only(next, "aws:apigateway/restApi:RestApi");
            const body = JSON.parse(api.body) as Json;
            assert.ok("/uploads/{proxy+}" in before.paths);
            assert.ok(!("/uploads/{proxy+}" in body.paths));
            assert.deepStrictEqual(Object.keys(body.paths), Object.keys(before.paths).filter((p) => p !== "/uploads/{proxy+}"));
            assert.strictEqual(api.putRestApiMode, "overwrite", "the body replaces the API, so the route is gone from the slot, not kept as merge would");
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });

    it("passes the policy pack, which reads the public operations the document marks; a pinned publicRoutes list catches the others", () => {
        const report = checkStackOffline("red", {}, PROJECT, upstreamOverrides());
        assert.deepStrictEqual(report.violations, []);
        const pinned = checkStackOffline("red", { "methods-use-authorizer": { publicRoutes: ["GET /", "GET /status", "ANY /shelves/login"] } }, PROJECT, upstreamOverrides());
        assert.deepStrictEqual(pinned.violations.map((v) => v.message), [
            "red-gateway-api: POST /oauth2/token is public (security: []) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
        ]);
    });
});
