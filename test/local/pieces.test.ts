import { userKeyInHeader } from "../../handlers/credentials";
import * as assert from "assert";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { isAllowed, methodArn } from "../../local/access";
import { GatewayError } from "../../local/gateway-responses";
import { ContextVariables, integrationUri, runIntegration } from "../../local/integration";
import { compileRoutes, matchRoute, resolveDotSegments } from "../../local/routes";
import { TokenBucket } from "../../local/throttle";
import { bundleSpec } from "../../openapi";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

describe("local gateway: routing by the OpenAPI document", () => {
    let routes: ReturnType<typeof compileRoutes>;
    before(async () => {
        const spec = await bundleSpec(path.join(PROJECT, "api/openapi.yaml"), { credentials: userKeyInHeader("Authorization"), resultTtlSeconds: 0 });
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

    it("resolves dot segments, percent-encoded ones too, before routing (RFC 3986 5.2.4)", () => {
        assert.strictEqual(resolveDotSegments("/discovery/../admin"), "/admin");
        assert.strictEqual(resolveDotSegments("/discovery/v1/%2e%2E/%2e/../../enterprise/v1/x"), "/enterprise/v1/x");
        assert.strictEqual(resolveDotSegments("/../../etc"), "/etc", "never above the root");
        assert.strictEqual(resolveDotSegments("/a/b/.."), "/a/");
        assert.strictEqual(resolveDotSegments("/a/..%2Fb/c"), "/a/..%2Fb/c", "an encoded slash makes no segment");
        assert.deepStrictEqual(route("GET", resolveDotSegments("/discovery/v1/catalogs/../../../heartbeat")), ["/heartbeat", "GET", {}]);
        const greedy = matchRoute(routes, "GET", "/api/x/..%2F..%2Fadmin");
        assert.ok(greedy && !("methodNotAllowed" in greedy));
        assert.deepStrictEqual([greedy.params, greedy.rawParams], [{ proxy: "api/x/../../admin" }, { proxy: "api/x/..%2F..%2Fadmin" }]);
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
    const context = (authorizer: Record<string, string> = {}): ContextVariables => ({
        requestId: "r-1", stage: "red", resourcePath: "/{proxy+}", httpMethod: "GET", path: "/red/x", apiId: "localapi00", accountId: "123456789012",
        identity: { sourceIp: "127.0.0.1" }, authorizer, requestTimeEpoch: 0,
    });
    const base = { method: "GET", query: "", headers: {}, body: Buffer.alloc(0), params: {}, rawParams: {}, backends: {}, context: context() };

    it("answers a mock integration from its template with the stage's release id", async () => {
        const integration = {
            type: "mock", requestTemplates: { "application/json": '{"statusCode": 200}' },
            responses: { default: { statusCode: "200", responseTemplates: { "application/json": "{\"release\": \"${stageVariables['id']}\"}" } } },
        };
        const r = await runIntegration(integration, { ...base, stageVariables: { id: "release-7" } });
        assert.strictEqual(r.status, 200);
        assert.deepStrictEqual(JSON.parse(String(r.body)), { release: "release-7" });
    });

    it("fills stage variables, local backends and mapped path parts into the URI", () => {
        const integration = { uri: "https://${stageVariables.discovery_host}/api/v1/catalogs/{id}/" };
        const parts = new Map([["id", "7"]]);
        assert.strictEqual(integrationUri(integration, { stageVariables: { discovery_host: "d.example.edu" }, backends: {} }, parts), "https://d.example.edu/api/v1/catalogs/7/");
        assert.strictEqual(integrationUri(integration, { stageVariables: { discovery_host: "d.example.edu" }, backends: { discovery_host: "http://127.0.0.1:9000" } }, parts), "http://127.0.0.1:9000/api/v1/catalogs/7/");
    });

    it("proxies to the backend with the context headers the document maps; INTEGRATION_FAILURE when it is down, INTEGRATION_TIMEOUT when it is slow", async () => {
        const seen: http.IncomingHttpHeaders[] = [];
        const urls: string[] = [];
        const backend = http.createServer((req, res) => {
            seen.push(req.headers);
            urls.push(req.url ?? "");
            if (req.url?.startsWith("/slow")) { setTimeout(() => res.end("late"), 500); return; }
            res.writeHead(201, { "content-type": "text/plain" });
            res.end(`${req.method} ${req.url}`);
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        const integration = {
            type: "http_proxy", httpMethod: "ANY", uri: "https://${stageVariables.edxapp_host}/{proxy}", timeoutInMillis: 200,
            requestParameters: {
                "integration.request.path.proxy": "method.request.path.proxy",
                "integration.request.header.x-api-ring-plan": "context.authorizer.plan",
                "integration.request.header.x-api-ring-app-id": "context.authorizer.appId",
            },
        };
        const request = {
            ...base, method: "POST", query: "a=1", params: { proxy: "x/y z" }, rawParams: { proxy: "x/y%20z" }, stageVariables: { edxapp_host: "lms" },
            backends: { edxapp_host: url }, headers: { "x-api-ring-plan": "Forged" }, context: context({ plan: "Basic", appId: "42" }),
        };
        const ok = await runIntegration(integration, request);
        assert.strictEqual(ok.status, 201);
        assert.strictEqual(String(ok.body), "POST /x/y%20z?a=1");
        assert.strictEqual(seen[0]["x-api-ring-plan"], "Basic", "the mapping replaces what the client sent");
        assert.strictEqual(seen[0]["x-api-ring-app-id"], "42");
        await assert.rejects(runIntegration(integration, { ...request, rawParams: { proxy: "slow" } }),
            (e: GatewayError) => e.type === "INTEGRATION_TIMEOUT" && e.errorMessage === "Endpoint request timed out");
        await new Promise((r) => backend.close(r));
        await assert.rejects(runIntegration(integration, request), (e: GatewayError) => e.type === "INTEGRATION_FAILURE");
    });

    it("renders Java string and map methods in templates as API Gateway's Velocity does", async () => {
        const integration = {
            type: "mock", requestTemplates: { "application/json": '{"statusCode": 200}' },
            responses: { default: { statusCode: "200", responseTemplates: { "application/json":
                "#set($s = 'a-b-c')$s.replace('-', '+') $s.replaceAll('[a-z]', 'x') $s.replaceFirst('-', '') $s.length() $s.matches('[a-c-]+') $input.params().header.get('x-h')" } } },
        };
        const r = await runIntegration(integration, { ...base, headers: { "x-h": "v" }, stageVariables: {} });
        assert.strictEqual(String(r.body), "a+b+c x-x-x ab-c 5 true v");
    });
});
