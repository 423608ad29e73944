// The local run enforcing what API Gateway enforces before and around an integration (issue 19,
// test/fixtures/gateway-rules/observations.yaml): request validators at API and method level,
// with API Gateway's messages and status; the document's gateway responses with their status
// codes, headers and templates, and the DEFAULT_4XX / DEFAULT_5XX fallbacks; and an http (non-proxy)
// backend that receives the headers the document maps and the ones API Gateway itself adds, nothing
// the client or Node's HTTP client would add.
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { Started, send, startLocal, stopLocal } from "../support/local-run";
import { OBSERVATIONS_SCHEMA_VERSION as SCHEMA_VERSION, observationsOverrides } from "../support/observations";

const ENTERPRISE = "local-enterprise-key-00002"; // local/keys.yaml: plan Enterprise, which grants everything here

interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}

const json = (body: string): unknown => JSON.parse(body);

describe("local run: request validators, gateway responses and the headers an http backend gets", function () {
    this.timeout(60_000);
    let backend: http.Server;
    let run: Started;
    const seen: Seen[] = [];
    const last = () => seen.at(-1) as Seen;

    before(async () => {
        backend = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
                res.writeHead(200, { "content-type": "application/json" });
                res.end(JSON.stringify({ ok: true }));
            });
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        const overrides = observationsOverrides({ "authorizer:planRoutes": JSON.stringify({ Enterprise: ["*"] }) });
        run = await startLocal([
            ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
            // The archive's host is down: nothing listens on the discard port.
            "--backend", `observations_host=${url}`, "--backend", "archive_host=http://127.0.0.1:9",
        ]);
    });
    after(async () => {
        if (run) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });

    describe("request validators", () => {
        it("the API-level validator refuses missing or blank required parameters with API Gateway's message, naming them in its order", async () => {
            const before = seen.length;
            const missing = await send(run.url, "GET", "/observations", { "X-Api-Key": ENTERPRISE });
            assert.strictEqual(missing.status, 400, missing.body);
            assert.deepStrictEqual(json(missing.body), {
                error: "Missing required request parameters: [X-Station, region]", type: "BAD_REQUEST_PARAMETERS", request: missing.headers["x-amzn-requestid"],
            });
            const blank = await send(run.url, "GET", "/observations?region=&page=2", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7" });
            assert.strictEqual(blank.status, 400, blank.body);
            assert.strictEqual((json(blank.body) as { error: string }).error, "Missing required request parameters: [region]");
            assert.strictEqual(seen.length, before, "nothing reached the backend");
        });

        it("runs after the authorizer: a caller without a key gets 401, not the validation error", async () => {
            const r = await send(run.url, "GET", "/observations");
            assert.strictEqual(r.status, 401, r.body);
        });

        it("a method-level validator overrides the API's: parameters first, then the body against the operation's model", async () => {
            const before = seen.length;
            const noStation = await send(run.url, "POST", "/observations", { "X-Api-Key": ENTERPRISE, "Content-Type": "application/json" }, '{"species":"crow"}');
            assert.strictEqual(noStation.status, 400, noStation.body);
            assert.strictEqual((json(noStation.body) as { error: string }).error, "Missing required request parameters: [X-Station]");
            const invalid = await send(run.url, "POST", "/observations", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Content-Type": "application/json" },
                JSON.stringify({ species: "crow", count: 501, observer: { ring: "ab-1" } }));
            assert.strictEqual(invalid.status, 422, `BAD_REQUEST_BODY's own status: ${invalid.body}`);
            assert.strictEqual(invalid.headers["x-schema-version"], SCHEMA_VERSION, "a header mapped from a stage variable");
            assert.strictEqual(invalid.headers["access-control-allow-origin"], undefined, "a type the document defines does not take DEFAULT_4XX's headers");
            const body = json(invalid.body) as { error: string; detail: string };
            assert.strictEqual(body.error, "Invalid request body");
            assert.strictEqual(body.detail, '[instance value ("crow") not found in enum (possible values: ["wren","kite","heron"]), ' +
                "numeric instance is greater than the required maximum (maximum: 500, found: 501), " +
                "object has missing required properties ([\"name\"]), " +
                'ECMA 262 regex "^[A-Z]{2}-[0-9]{4}$" does not match input string "ab-1"]');
            assert.strictEqual(seen.length, before, "nothing reached the backend");
        });

        it("refuses an empty body, a body that is not JSON, and a JSON body of the wrong type", async () => {
            const headers = { "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Content-Type": "application/json" };
            const empty = await send(run.url, "POST", "/observations", headers);
            assert.deepStrictEqual([empty.status, (json(empty.body) as { detail: string }).detail], [422, '[object has missing required properties (["count","species"])]']);
            const notJson = await send(run.url, "POST", "/observations", headers, "species=wren");
            assert.strictEqual(notJson.status, 422, notJson.body);
            assert.strictEqual((json(notJson.body) as { error: string }).error, "Invalid request body");
            const list = await send(run.url, "POST", "/observations", headers, "[]");
            assert.strictEqual((json(list.body) as { detail: string }).detail, '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]');
        });

        it("lets a valid body through, and validates a body of a type the operation has no model for not at all", async () => {
            const ok = await send(run.url, "POST", "/observations", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Content-Type": "application/json" },
                JSON.stringify({ species: "wren", count: 3, observer: { name: "Ada", ring: "GB-0042" } }));
            assert.strictEqual(ok.status, 201, ok.body);
            assert.deepStrictEqual(json(last().body), { observation: { species: "wren", count: 3, observer: { name: "Ada", ring: "GB-0042" } }, station: "north-7" });
            const text = await send(run.url, "POST", "/observations", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Content-Type": "text/plain" }, "three wrens");
            assert.strictEqual(text.status, 201, `no model for text/plain: not validated, passed through (${text.body})`);
            assert.strictEqual(last().body, "three wrens");
        });

        it("body-only checks no parameter; off checks nothing", async () => {
            const headers = { "X-Api-Key": ENTERPRISE, "Content-Type": "application/json" };
            const noNotify = await send(run.url, "PUT", "/observations/17", headers, '{"count": 2}');
            assert.strictEqual(noNotify.status, 200, `the required notify is not checked: ${noNotify.body}`);
            assert.deepStrictEqual([last().method, last().url], ["PUT", "/v1/observations/17"]);
            const zero = await send(run.url, "PUT", "/observations/17?notify=yes", headers, '{"count": 0}');
            assert.strictEqual(zero.status, 422, zero.body);
            assert.strictEqual((json(zero.body) as { detail: string }).detail, "[numeric instance is lower than the required minimum (minimum: 1, found: 0)]");
            const off = await send(run.url, "POST", "/notes", headers, '{"species": 7}');
            assert.strictEqual(off.status, 200, `validator off: ${off.body}`);
            assert.strictEqual(last().body, '{"species": 7}');
        });
    });

    describe("gateway responses", () => {
        it("a type the document leaves out falls back to DEFAULT_4XX: its template, its static header, a header mapped from the request", async () => {
            const r = await send(run.url, "GET", "/observations", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7" });
            assert.strictEqual(r.status, 400, "DEFAULT_4XX sets no status: BAD_REQUEST_PARAMETERS keeps its own");
            assert.strictEqual(r.headers["access-control-allow-origin"], "https://birds.example.org");
            assert.strictEqual(r.headers["x-station"], "north-7");
            assert.strictEqual(r.headers["content-type"], "application/json");
        });

        it("a defined type answers with its own status and template (MISSING_AUTHENTICATION_TOKEN as 404)", async () => {
            const r = await send(run.url, "GET", "/nests/4");
            assert.strictEqual(r.status, 404, r.body);
            assert.deepStrictEqual(json(r.body), { error: "no such route", path: "/red/nests/4" });
            const method = await send(run.url, "DELETE", "/census");
            assert.strictEqual(method.status, 404, "a method the resource lacks is the same type");
        });

        it("a 5XX type the document leaves out falls back to DEFAULT_5XX, with its status and header", async () => {
            const census = await send(run.url, "GET", "/census");
            assert.strictEqual(census.status, 503, `no integration response selects the mock's 500: API_CONFIGURATION_ERROR (${census.body})`);
            assert.deepStrictEqual(json(census.body), { error: "the field service is unavailable", type: "API_CONFIGURATION_ERROR" });
            assert.strictEqual(census.headers["retry-after"], "30");
            const archive = await send(run.url, "GET", "/archive");
            assert.strictEqual(archive.status, 503, archive.body);
            assert.deepStrictEqual(json(archive.body), { error: "the field service is unavailable", type: "INTEGRATION_FAILURE" });
        });
    });

    describe("what an http backend receives", () => {
        it("only the mapped headers and query, the context headers, and what API Gateway adds itself", async () => {
            const r = await send(run.url, "GET", "/observations?region=fens&page=2&extra=1", {
                "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Accept": "text/html", "Accept-Language": "fr", "User-Agent": "field-app/3",
                "Accept-Encoding": "gzip", "Cookie": "session=s", "X-Extra": "1",
            });
            assert.strictEqual(r.status, 200, r.body);
            const request = last();
            assert.strictEqual(request.url, "/v1/observations?region=fens");
            assert.deepStrictEqual(Object.keys(request.headers).sort(), [
                "accept", "connection", "host", "user-agent", "x-amzn-apigateway-api-id", "x-amzn-trace-id",
                "x-api-ring-app-id", "x-api-ring-limit-remaining", "x-api-ring-limit-reset", "x-api-ring-plan", "x-api-ring-principal-id", "x-api-ring-source", "x-station",
            ]);
            assert.strictEqual(request.headers.accept, "application/json", "API Gateway asks an http integration for JSON, whatever the client accepts");
            assert.strictEqual(request.headers["user-agent"], "AmazonAPIGateway_localapi00");
            assert.strictEqual(request.headers["x-amzn-apigateway-api-id"], "localapi00");
            assert.match(String(request.headers["x-amzn-trace-id"]), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
            assert.strictEqual(request.headers["x-station"], "north-7");
        });

        it("a body from a template, with its content type and length", async () => {
            await send(run.url, "POST", "/observations", { "X-Api-Key": ENTERPRISE, "X-Station": "north-7", "Content-Type": "application/json", "Accept-Language": "fr" },
                JSON.stringify({ species: "kite", count: 1 }));
            const request = last();
            assert.deepStrictEqual(Object.keys(request.headers).sort(), [
                "accept", "connection", "content-length", "content-type", "host", "user-agent", "x-amzn-apigateway-api-id", "x-amzn-trace-id",
                "x-api-ring-app-id", "x-api-ring-limit-remaining", "x-api-ring-limit-reset", "x-api-ring-plan", "x-api-ring-principal-id", "x-api-ring-source", "x-station",
            ]);
            assert.strictEqual(request.headers["content-type"], "application/json");
            assert.strictEqual(Number(request.headers["content-length"]), Buffer.byteLength(request.body));
        });
    });
});

describe("local run: validators and gateway responses API Gateway would refuse", function () {
    this.timeout(60_000);

    it("refuses them all before serving, each by its JSON pointer, with what it got and what it expected", async () => {
        const started = startLocal(["--set", "gateway:spec=test/fixtures/broken/gateway-rules.yaml", "--set", "gateway:hosts={}", "--set", "gateway:publicRoutes=[]"]);
        const output = await started.then(async (run) => {
            await stopLocal(run);
            assert.fail(`the local run started: ${run.output()}`);
        }, (e: Error) => e.message);
        assert.match(output, /local run exited 1/);
        assert.match(output, /#\/x-amazon-apigateway-request-validator: names the request validator "strict", which x-amazon-apigateway-request-validators does not define \(it defines: basic\)/);
        assert.match(output, /#\/paths\/~1things\/post\/x-amazon-apigateway-request-validator: names the request validator "bodies"/);
        assert.match(output, /#\/x-amazon-apigateway-gateway-responses\/NOT_A_TYPE: NOT_A_TYPE is not a gateway response type; expected one of ACCESS_DENIED, API_CONFIGURATION_ERROR, /);
        assert.match(output, /#\/x-amazon-apigateway-gateway-responses\/THROTTLED\/statusCode: statusCode "4xx"; expected an HTTP status code such as 429/);
        assert.match(output, /#\/paths\/~1things\/post\/parameters\/0\/schema: not a JSON Schema draft 4 model \(API Gateway's models are\): .*minimum/);
        assert.doesNotMatch(output, /listening on/);
    });
});
