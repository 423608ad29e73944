import * as assert from "assert";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { isAllowed, methodArn } from "../../local/access";
import { integrationUri, runIntegration } from "../../local/integration";
import { compileRoutes, matchRoute } from "../../local/routes";
import { TokenBucket } from "../../local/throttle";
import { bundleSpec } from "../../openapi";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

describe("local gateway: routing by the OpenAPI document", () => {
    let routes: ReturnType<typeof compileRoutes>;
    before(async () => {
        const spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { identityHeader: "Authorization", resultTtlSeconds: 0 });
        routes = compileRoutes(spec.document.paths as Record<string, Record<string, unknown>>);
    });
    const route = (method: string, p: string) => {
        const m = matchRoute(routes, method, p);
        return m && !("methodNotAllowed" in m) ? [m.route.template, m.declaredMethod, m.params] : m;
    };

    it("prefers literal segments, then parameters, then the greedy proxy", () => {
        assert.deepStrictEqual(route("GET", "/discovery/v1/catalogs"), ["/discovery/v1/catalogs", "GET", {}]);
        assert.deepStrictEqual(route("GET", "/discovery/v1/catalogs/7"), ["/discovery/v1/catalogs/{id}", "GET", { id: "7" }]);
        assert.deepStrictEqual(route("GET", "/discovery/v1/catalogs/7/courses?page=2"), ["/discovery/v1/catalogs/{id}/courses", "GET", { id: "7" }]);
        assert.deepStrictEqual(route("POST", "/enterprise/v1/customers/9"), ["/enterprise/v1/{proxy+}", "ANY", { proxy: "customers/9" }]);
        assert.deepStrictEqual(route("GET", "/api/courses/v1/courses"), ["/{proxy+}", "ANY", { proxy: "api/courses/v1/courses" }]);
        assert.deepStrictEqual(route("GET", "/heartbeat"), ["/heartbeat", "GET", {}]);
    });

    it("matches the resource first: a method it lacks is refused, not sent to the greedy route", () => {
        const m = matchRoute(routes, "DELETE", "/heartbeat");
        assert.ok(m && "methodNotAllowed" in m && m.route.template === "/heartbeat");
    });

    it("matches nothing for the bare root (a {proxy+} needs a segment)", () => {
        assert.strictEqual(matchRoute(routes, "GET", "/"), undefined);
    });
});

describe("local gateway: the authorizer's policy against the method ARN", () => {
    const arn = methodArn("us-east-1", "123456789012", "abc123", "red", "GET", "/discovery/v1/catalogs");
    const policy = (statements: { Effect: string; Resource: string | string[] }[]) => ({
        principalId: "p", policyDocument: { Version: "2012-10-17", Statement: statements.map((s) => ({ Action: "execute-api:Invoke", ...s })) },
    }) as APIGatewayAuthorizerResult;

    it("builds API Gateway's method ARN", () => {
        assert.strictEqual(arn, "arn:aws:execute-api:us-east-1:123456789012:abc123/red/GET/discovery/v1/catalogs");
    });

    it("allows on a matching Allow, with * spanning slashes", () => {
        assert.ok(isAllowed(policy([{ Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/red/*/discovery/*" }]), arn));
        assert.ok(isAllowed(policy([{ Effect: "Allow", Resource: ["arn:aws:execute-api:*:*:abc123/red/*"] }]), arn));
    });

    it("denies without a matching Allow, and on any matching Deny", () => {
        assert.ok(!isAllowed(policy([{ Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/red/*/enterprise/v1/*" }]), arn));
        assert.ok(!isAllowed(policy([
            { Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/red/*" },
            { Effect: "Deny", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/red/GET/discovery/*" },
        ]), arn));
        assert.ok(!isAllowed(policy([{ Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/black/*" }]), arn));
    });
});

describe("local gateway: throttling", () => {
    it("admits the burst at once, then the steady rate", () => {
        let now = 0;
        const bucket = new TokenBucket(10, 5, () => now);
        const burst = Array.from({ length: 7 }, () => bucket.take());
        assert.deepStrictEqual(burst, [true, true, true, true, true, false, false]);
        now += 100; // 10 per second: one token per 100 ms
        assert.strictEqual(bucket.take(), true);
        assert.strictEqual(bucket.take(), false);
        now += 10_000;
        assert.strictEqual([...Array(6)].filter(() => bucket.take()).length, 5, "never more than the burst");
    });
});

describe("local gateway: integrations", () => {
    const base = { method: "GET", query: "", headers: {}, body: Buffer.alloc(0), requestId: "r-1", stage: "red", authorizerContext: {} };

    it("answers a mock integration from its template with the stage's release id", async () => {
        const integration = {
            type: "mock", requestTemplates: { "application/json": '{"statusCode": 200}' },
            responses: { default: { statusCode: "200", responseTemplates: { "application/json": "{\"release\": \"${stageVariables['id']}\"}" } } },
        };
        const r = await runIntegration(integration, { ...base, params: {}, stageVariables: { id: "release-7" }, backends: {} });
        assert.strictEqual(r.status, 200);
        assert.deepStrictEqual(JSON.parse(String(r.body)), { release: "release-7" });
    });

    it("fills stage variables, local backends and path parameters into the URI", () => {
        const integration = { uri: "https://${stageVariables.discovery_host}/api/v1/catalogs/{id}/", requestParameters: { "integration.request.path.id": "method.request.path.id" } };
        assert.strictEqual(integrationUri(integration, { stageVariables: { discovery_host: "d.example.edu" }, backends: {}, params: { id: "7" } }), "https://d.example.edu/api/v1/catalogs/7/");
        assert.strictEqual(integrationUri(integration, { stageVariables: { discovery_host: "d.example.edu" }, backends: { discovery_host: "http://127.0.0.1:9000" }, params: { id: "7" } }), "http://127.0.0.1:9000/api/v1/catalogs/7/");
        const proxy = { uri: "https://${stageVariables.edxapp_host}/{proxy}", requestParameters: { "integration.request.path.proxy": "method.request.path.proxy" } };
        assert.strictEqual(integrationUri(proxy, { stageVariables: { edxapp_host: "lms" }, backends: {}, params: { proxy: "a b/c" } }), "https://lms/a%20b/c");
    });

    it("proxies to the backend with the authorizer's context as headers, 502 when it is down, 504 when it is slow", async () => {
        const seen: http.IncomingHttpHeaders[] = [];
        const backend = http.createServer((req, res) => {
            seen.push(req.headers);
            if (req.url?.startsWith("/slow")) { setTimeout(() => res.end("late"), 500); return; }
            res.writeHead(201, { "content-type": "text/plain" });
            res.end(`${req.method} ${req.url}`);
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        const integration = { type: "http_proxy", httpMethod: "ANY", uri: "https://${stageVariables.edxapp_host}/{proxy}", requestParameters: { "integration.request.path.proxy": "method.request.path.proxy" }, timeoutInMillis: 200 };
        const request = { ...base, method: "POST", query: "a=1", params: { proxy: "x/y" }, stageVariables: { edxapp_host: "lms" }, backends: { edxapp_host: url }, authorizerContext: { plan: "Basic", appId: "42" } };
        const ok = await runIntegration(integration, request);
        assert.strictEqual(ok.status, 201);
        assert.strictEqual(String(ok.body), "POST /x/y?a=1");
        assert.strictEqual(seen[0]["x-api-ring-plan"], "Basic");
        assert.strictEqual(seen[0]["x-api-ring-app-id"], "42");
        const slow = await runIntegration(integration, { ...request, params: { proxy: "slow" } });
        assert.strictEqual(slow.status, 504);
        await new Promise((r) => backend.close(r));
        const down = await runIntegration(integration, request);
        assert.strictEqual(down.status, 502);
    });
});
