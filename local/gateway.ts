// One slot's API on localhost, with API Gateway's request path: refuse a payload over 10 MB, apply
// the stage's web ACL (an x-api-ring-* header in any spelling, components/reservedHeaders.ts),
// resolve dot segments, route, throttle, run the ring's Lambda authorizer (TOKEN or REQUEST, with the
// document's identity sources) for every operation behind it, refuse the operations the document
// protects itself (IAM, API key, its own authorizer: nothing here can check them), match the
// authorizer's policy against the method ARN, validate the request as the operation's request
// validator says (request-validation.ts), then run the integration with the authorizer's context
// (which the document maps into x-api-ring-* headers, see openapi.ts). Every answer the gateway makes
// itself is one of the document's gateway responses, or API Gateway's default (gateway-responses.ts).
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import * as http from "http";
import { reservedHeaderIn } from "../components/reservedHeaders";
import type { AuthorizerEvent } from "../handlers/credentials";
import { AUTHORIZER_SCHEME } from "../openapi";
import { operationAuth, securitySchemes } from "../policy/operation-auth";
import { isAllowed, methodArn } from "./access";
import { GatewayError, RenderedResponse, gatewayResponsesOf, renderGatewayResponse } from "./gateway-responses";
import { ContextVariables, IntegrationResponse, isObject, Json, runIntegration } from "./integration";
import { MethodRequest, headerValue } from "./mapping";
import { compileRequestValidation, validateRequest } from "./request-validation";
import { Route, RouteMatch, compileRoutes, matchRoute, resolveDotSegments } from "./routes";
import { TokenBucket } from "./throttle";

export type Authorize = (event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export interface LocalGatewayOptions {
    /** The bundled OpenAPI document, authorizer injected. */
    document: Record<string, unknown>;
    stage: string;
    stageVariables: Record<string, string>;
    /** Base URLs for `https://${stageVariables.name}` integrations. */
    backends: Record<string, string>;
    rateLimit: number;
    burstLimit: number;
    /** A client must send its whole request within this time, or gets 408 (default 30 s). */
    clientTimeoutMs?: number;
    authorize: Authorize;
    region?: string;
    account?: string;
    apiId?: string;
}

export interface GatewayStats {
    requests: number;
    allowed: number;
    denied: number;
    unauthorized: number;
    throttled: number;
}

function send(res: http.ServerResponse, response: RenderedResponse | IntegrationResponse, requestId: string): void {
    res.writeHead(response.status, { ...response.headers, "x-amzn-requestid": requestId });
    res.end(response.body);
}

/** The Lambda authorizer a protected operation names: its type and where API Gateway reads the identity. */
interface AuthorizerBinding {
    type: "token" | "request";
    sources: { in: "header" | "querystring"; name: string }[];
}

/**
 * An operation the document protects itself: the local run cannot check a signature, an API key of
 * a usage plan or another authorizer, so it refuses every request as API Gateway refuses one
 * without that credential, with the gateway response of that type (developer guide, "Gateway
 * response types"): MISSING_AUTHENTICATION_TOKEN (403) for IAM, as for an unsigned request;
 * INVALID_API_KEY (403, "Forbidden") for an API key, since the local run has no usage plans, so no key
 * it receives is a valid one of this stage; UNAUTHORIZED (401) for an authorizer of the document's.
 */
interface Unchecked {
    refusal: () => GatewayError;
}

const UNCHECKED = {
    iam: { refusal: () => new GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token") },
    apiKey: { refusal: () => new GatewayError("INVALID_API_KEY", "Forbidden") },
    authorizer: { refusal: () => new GatewayError("UNAUTHORIZED", "Unauthorized") },
} satisfies Record<string, Unchecked>;

/** The operation's auth: the ring's authorizer, auth of the document's own the local run refuses, or none. */
function authorizerOf(document: Json, operation: Json): AuthorizerBinding | Unchecked | undefined {
    const auth = operationAuth(document, operation);
    if (auth.iam) return UNCHECKED.iam;
    if (auth.authorizer && auth.authorizer.scheme !== AUTHORIZER_SCHEME) return UNCHECKED.authorizer;
    if (!auth.authorizer) return auth.apiKey ? UNCHECKED.apiKey : undefined;
    const lambda = (securitySchemes(document)[AUTHORIZER_SCHEME] as Json)["x-amazon-apigateway-authorizer"] as Json;
    const sources = String(lambda.identitySource ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
        const [, where, ...rest] = /^method\.request\.(header|querystring)\.(.+)$/.exec(s) ?? [];
        return { in: where as "header" | "querystring", name: rest.join(".") };
    }).filter((s) => s.in !== undefined);
    return { type: String(lambda.type).toLowerCase() === "request" ? "request" : "token", sources };
}

/** API Gateway's payload quota for REST APIs: 10 MB, not adjustable. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** The body, or undefined once it passes `limit` bytes: from then on it is read and dropped, never held. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
            if (size > limit) return;
            size += c.length;
            if (size > limit) {
                chunks.length = 0;
                resolve(undefined);
            } else {
                chunks.push(c);
            }
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

const TOO_LARGE = () => new GatewayError("REQUEST_TOO_LARGE", "Request Too Long");

type AuthorizerContext = ContextVariables["authorizer"];

export function createLocalGateway(options: LocalGatewayOptions): { server: http.Server; stats: GatewayStats } {
    const routes: Route[] = compileRoutes((options.document.paths ?? {}) as Record<string, Record<string, unknown>>);
    // Each operation's authorizer and request validation depend on the document only: found once, not per request.
    const bindings = new Map<Json, AuthorizerBinding | Unchecked | undefined>();
    for (const route of routes) for (const op of route.operations.values()) bindings.set(op, authorizerOf(options.document, op));
    const validations = compileRequestValidation(options.document).byOperation;
    const responses = gatewayResponsesOf(options.document);
    const bucket = new TokenBucket(options.rateLimit, options.burstLimit);
    const stats: GatewayStats = { requests: 0, allowed: 0, denied: 0, unauthorized: 0, throttled: 0 };
    const region = options.region ?? "us-east-1";
    const account = options.account ?? "123456789012";
    const apiId = options.apiId ?? "localapi00";

    /** The Lambda authorizer's verdict: its context, and the refusal when it refuses (a denial keeps the context its response may show). */
    const authorizeRequest = async (binding: AuthorizerBinding, request: MethodRequest, match: RouteMatch, method: string, path: string, requestId: string):
        Promise<{ authorizer: AuthorizerContext; refusal?: GatewayError }> => {
        const searchParams = new URLSearchParams(request.query);
        // API Gateway answers 401 without calling the authorizer when an identity source is missing or empty.
        const identity = (s: AuthorizerBinding["sources"][number]) => (s.in === "header" ? headerValue(request.headers, s.name) : searchParams.get(s.name)) || undefined;
        const unauthorized = () => {
            stats.unauthorized += 1;
            return { authorizer: {}, refusal: new GatewayError("UNAUTHORIZED", "Unauthorized") };
        };
        if (binding.sources.length === 0 || binding.sources.some((s) => identity(s) === undefined)) return unauthorized();
        const arn = methodArn(region, account, apiId, options.stage, method, path);
        const event: AuthorizerEvent = binding.type === "token"
            ? { type: "TOKEN", authorizationToken: identity(binding.sources[0]) ?? "", methodArn: arn }
            : {
                type: "REQUEST", methodArn: arn, resource: match.route.template, path, httpMethod: method, headers: request.headers,
                multiValueHeaders: null, pathParameters: match.params, queryStringParameters: Object.fromEntries(searchParams),
                multiValueQueryStringParameters: null, stageVariables: options.stageVariables,
                requestContext: { requestId, stage: options.stage, apiId, accountId: account, httpMethod: method, resourcePath: match.route.template, path: `/${options.stage}${path}` } as APIGatewayRequestAuthorizerEvent["requestContext"],
            };
        let result: APIGatewayAuthorizerResult;
        try {
            result = await options.authorize(event);
        } catch (e) {
            if ((e as Error).message === "Unauthorized") return unauthorized();
            return { authorizer: {}, refusal: new GatewayError("AUTHORIZER_CONFIGURATION_ERROR", null) }; // its message is null, as API Gateway's
        }
        const authorizer = { principalId: result.principalId, ...(result.context ?? {}) };
        if (!isAllowed(result, arn)) {
            stats.denied += 1;
            return { authorizer, refusal: new GatewayError("ACCESS_DENIED", "User is not authorized to access this resource with an explicit deny") };
        }
        stats.allowed += 1;
        return { authorizer };
    };

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const requestId = randomUUID();
        stats.requests += 1;
        const [rawPath, query = ""] = (req.url ?? "/").split(/\?(.*)/s);
        const path = resolveDotSegments(rawPath);
        const method = (req.method ?? "GET").toUpperCase();
        // The client's headers, as API Gateway hands them to a REQUEST authorizer and to the integration.
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        const base = {
            requestId, stage: options.stage, httpMethod: method, path: `/${options.stage}${path}`, apiId, accountId: account,
            identity: { sourceIp: req.socket.remoteAddress ?? "" }, requestTimeEpoch: Date.now(),
        };
        // The method request as gateway responses see it: it grows as the request goes through.
        const request: MethodRequest = { query, headers, body: Buffer.alloc(0), params: {}, stageVariables: options.stageVariables, context: base };
        const fail = (error: GatewayError) => send(res, renderGatewayResponse(responses, error, request), requestId);
        if (Number(req.headers["content-length"] ?? 0) > MAX_PAYLOAD_BYTES) return fail(TOO_LARGE()); // before reading a byte of it
        // The stage's web ACL runs before API Gateway routes: an x-api-ring-* header in any spelling is blocked.
        if (reservedHeaderIn(req.rawHeaders.filter((_, i) => i % 2 === 0)) !== undefined) return fail(new GatewayError("WAF_FILTERED", "Forbidden"));
        const match = matchRoute(routes, method, path);
        if (!match || "methodNotAllowed" in match) return fail(new GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"));
        request.params = match.params;
        request.context = { ...base, resourcePath: match.route.template };
        if (!bucket.take()) {
            stats.throttled += 1;
            return fail(new GatewayError("THROTTLED", "Too Many Requests"));
        }
        const binding = bindings.get(match.operation);
        if (binding && "refusal" in binding) {
            stats.unauthorized += 1;
            return fail(binding.refusal());
        }
        const { authorizer, refusal } = binding ? await authorizeRequest(binding, request, match, method, path, requestId) : { authorizer: {}, refusal: undefined };
        const context: ContextVariables = { ...base, resourcePath: match.route.template, authorizer };
        request.context = context;
        if (refusal) return fail(refusal);
        const integration = match.operation["x-amazon-apigateway-integration"];
        if (!isObject(integration)) return fail(new GatewayError("API_CONFIGURATION_ERROR", "Internal server error"));
        const body = await readBody(req, MAX_PAYLOAD_BYTES);
        if (!body) return fail(TOO_LARGE());
        request.body = body;
        const validation = validations.get(match.operation);
        const invalid = validation && validateRequest(validation, request);
        if (invalid) return fail(invalid);
        try {
            send(res, await runIntegration(integration, { ...request, method, body, rawParams: match.rawParams, backends: options.backends, context }), requestId);
        } catch (e) {
            if (!(e instanceof GatewayError)) throw e;
            fail(e);
        }
    };

    const clientTimeoutMs = options.clientTimeoutMs ?? 30_000;
    const server = http.createServer({
        requestTimeout: clientTimeoutMs,
        headersTimeout: clientTimeoutMs,
        // How often node checks those timeouts (its default, 30 s, would outlast short ones).
        connectionsCheckingInterval: Math.min(1000, clientTimeoutMs),
    }, (req, res) => {
        handle(req, res).catch((e: Error) => {
            if (!res.headersSent) {
                res.writeHead(500, { "content-type": "application/json" });
                res.end(JSON.stringify({ message: "Internal server error", detail: e.message }));
            } else {
                res.end();
            }
        });
    });
    return { server, stats };
}
