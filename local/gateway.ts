// One slot's API on localhost, with API Gateway's request path: the stage's web ACL (an x-api-ring-*
// header in any spelling, components/reservedHeaders.ts), refuse a payload over 10 MB, resolve dot
// segments, route, throttle, run the ring's Lambda authorizer (TOKEN or REQUEST, with the document's
// identity sources) for every operation behind it, refuse the operations the document protects itself
// (IAM, API key, its own authorizer: nothing here can check them), answer a refusal with the
// document's gateway responses, match its policy against the method ARN, then run the integration
// with the authorizer's context (which the document maps into x-api-ring-* headers, see openapi.ts).
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import * as http from "http";
import { render } from "velocityjs";
import { reservedHeaderIn } from "../components/reservedHeaders";
import type { AuthorizerEvent } from "../handlers/credentials";
import { AUTHORIZER_SCHEME } from "../openapi";
import { operationAuth, securitySchemes } from "../policy/operation-auth";
import { isAllowed, methodArn } from "./access";
import { ContextVariables, isObject, Json, runIntegration } from "./integration";
import { Route, compileRoutes, matchRoute, resolveDotSegments } from "./routes";
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

function json(res: http.ServerResponse, status: number, body: unknown, requestId: string): void {
    res.writeHead(status, { "content-type": "application/json", "x-amzn-requestid": requestId });
    res.end(JSON.stringify(body));
}


/** The Lambda authorizer a protected operation names: its type and where API Gateway reads the identity. */
interface AuthorizerBinding {
    type: "token" | "request";
    sources: { in: "header" | "querystring"; name: string }[];
}

/**
 * An operation the document protects itself: the local run cannot check a signature, an API key of
 * a usage plan or another authorizer, so it refuses every request as API Gateway refuses one
 * without that credential (developer guide, "Gateway response types").
 */
interface Unchecked {
    status: number;
    message: string;
}

/** The operation's auth: the ring's authorizer, auth of the document's own the local run refuses, or none. */
function authorizerOf(document: Json, operation: Json): AuthorizerBinding | Unchecked | undefined {
    const auth = operationAuth(document, operation);
    if (auth.iam) return { status: 403, message: "Missing Authentication Token" };
    if (auth.authorizer && auth.authorizer.scheme !== AUTHORIZER_SCHEME) return { status: 401, message: "Unauthorized" };
    if (!auth.authorizer) return auth.apiKey ? { status: 403, message: "Forbidden" } : undefined;
    const lambda = (securitySchemes(document)[AUTHORIZER_SCHEME] as Json)["x-amazon-apigateway-authorizer"] as Json;
    const sources = String(lambda.identitySource ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
        const [, where, ...rest] = /^method\.request\.(header|querystring)\.(.+)$/.exec(s) ?? [];
        return { in: where as "header" | "querystring", name: rest.join(".") };
    }).filter((s) => s.in !== undefined);
    return { type: String(lambda.type).toLowerCase() === "request" ? "request" : "token", sources };
}

/** API Gateway's default messages for the gateway responses the local run answers with. */
const GATEWAY_MESSAGES: Record<string, { status: number; message: string }> = {
    UNAUTHORIZED: { status: 401, message: "Unauthorized" },
    WAF_FILTERED: { status: 403, message: "Forbidden" },
    ACCESS_DENIED: { status: 403, message: "User is not authorized to access this resource with an explicit deny" },
};

/**
 * A gateway response as API Gateway renders it: the document's x-amazon-apigateway-gateway-responses
 * entry for the type (status and JSON template with $context.error.messageString and
 * $context.authorizer.*), else API Gateway's default body.
 */
function gatewayResponse(document: Json, type: keyof typeof GATEWAY_MESSAGES, authorizer: Record<string, unknown>): { status: number; body: string } {
    const fallback = GATEWAY_MESSAGES[type];
    const responses = isObject(document["x-amazon-apigateway-gateway-responses"]) ? document["x-amazon-apigateway-gateway-responses"] : {};
    const configured = isObject(responses[type]) ? responses[type] : {};
    const templates = isObject(configured.responseTemplates) ? configured.responseTemplates : {};
    const template = templates["application/json"];
    const status = Number(configured.statusCode ?? fallback.status);
    if (typeof template !== "string") return { status, body: JSON.stringify({ message: fallback.message }) };
    const context = { error: { message: fallback.message, messageString: JSON.stringify(fallback.message) }, authorizer };
    return { status, body: render(template, { context }) };
}

/** API Gateway's payload quota for REST APIs: 10 MB, not adjustable. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** API Gateway's REQUEST_TOO_LARGE gateway response. */
function tooLarge(res: http.ServerResponse, requestId: string): void {
    json(res, 413, { message: "Request Too Long" }, requestId);
}

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

export function createLocalGateway(options: LocalGatewayOptions): { server: http.Server; stats: GatewayStats } {
    const routes: Route[] = compileRoutes((options.document.paths ?? {}) as Record<string, Record<string, unknown>>);
    // Each operation's authorizer depends on the document only: found once, not per request.
    const bindings = new Map<Json, AuthorizerBinding | Unchecked | undefined>();
    for (const route of routes) for (const op of route.operations.values()) bindings.set(op, authorizerOf(options.document, op));
    const bucket = new TokenBucket(options.rateLimit, options.burstLimit);
    const stats: GatewayStats = { requests: 0, allowed: 0, denied: 0, unauthorized: 0, throttled: 0 };
    const region = options.region ?? "us-east-1";
    const account = options.account ?? "123456789012";
    const apiId = options.apiId ?? "localapi00";
    const refuse = (res: http.ServerResponse, requestId: string, type: keyof typeof GATEWAY_MESSAGES, context: Record<string, unknown> = {}) => {
        const { status, body } = gatewayResponse(options.document, type, context);
        res.writeHead(status, { "content-type": "application/json", "x-amzn-requestid": requestId });
        res.end(body);
    };

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const requestId = randomUUID();
        stats.requests += 1;
        if (Number(req.headers["content-length"] ?? 0) > MAX_PAYLOAD_BYTES) {
            tooLarge(res, requestId); // before reading a byte of it
            return;
        }
        // The stage's web ACL runs before API Gateway routes: an x-api-ring-* header in any spelling is blocked.
        const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
        if (reservedHeaderIn(names) !== undefined) {
            refuse(res, requestId, "WAF_FILTERED");
            return;
        }
        const [rawPath, query = ""] = (req.url ?? "/").split(/\?(.*)/s);
        const path = resolveDotSegments(rawPath);
        const method = (req.method ?? "GET").toUpperCase();
        const match = matchRoute(routes, method, path);
        if (!match || "methodNotAllowed" in match) {
            json(res, 403, { message: "Missing Authentication Token" }, requestId);
            return;
        }
        if (!bucket.take()) {
            stats.throttled += 1;
            json(res, 429, { message: "Too Many Requests" }, requestId);
            return;
        }
        // The client's headers, as API Gateway hands them to a REQUEST authorizer and to the integration.
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        let authorizer: Record<string, string | number | boolean> = {};
        const binding = bindings.get(match.operation);
        if (binding && "status" in binding) {
            stats.unauthorized += 1;
            json(res, binding.status, { message: binding.message }, requestId);
            return;
        }
        if (binding) {
            const searchParams = new URLSearchParams(query);
            const headerValue = (name: string): string | undefined => {
                const value = req.headers[name.toLowerCase()];
                return Array.isArray(value) ? value[0] : value;
            };
            // API Gateway answers 401 without calling the authorizer when an identity source is missing or empty.
            const missing = binding.sources.some((s) => !(s.in === "header" ? headerValue(s.name) : searchParams.get(s.name)));
            if (missing || binding.sources.length === 0) {
                stats.unauthorized += 1;
                refuse(res, requestId, "UNAUTHORIZED");
                return;
            }
            const arn = methodArn(region, account, apiId, options.stage, method, path);
            const event: AuthorizerEvent = binding.type === "token"
                ? { type: "TOKEN", authorizationToken: headerValue(binding.sources[0].name) ?? "", methodArn: arn }
                : {
                    type: "REQUEST", methodArn: arn, resource: match.route.template, path, httpMethod: method, headers,
                    multiValueHeaders: null, pathParameters: match.params, queryStringParameters: Object.fromEntries(searchParams),
                    multiValueQueryStringParameters: null, stageVariables: options.stageVariables,
                    requestContext: { requestId, stage: options.stage, apiId, accountId: account, httpMethod: method, resourcePath: match.route.template, path: `/${options.stage}${path}` } as APIGatewayRequestAuthorizerEvent["requestContext"],
                };
            let result: APIGatewayAuthorizerResult;
            try {
                result = await options.authorize(event);
            } catch (e) {
                if ((e as Error).message === "Unauthorized") {
                    stats.unauthorized += 1;
                    refuse(res, requestId, "UNAUTHORIZED");
                } else {
                    json(res, 500, { message: null }, requestId); // API Gateway's AuthorizerConfigurationException
                }
                return;
            }
            if (!isAllowed(result, arn)) {
                stats.denied += 1;
                refuse(res, requestId, "ACCESS_DENIED", { principalId: result.principalId, ...(result.context ?? {}) });
                return;
            }
            stats.allowed += 1;
            authorizer = { principalId: result.principalId, ...(result.context ?? {}) };
        }
        const integration = match.operation["x-amazon-apigateway-integration"] as Record<string, unknown> | undefined;
        if (!integration) {
            json(res, 500, { message: "Internal server error" }, requestId);
            return;
        }
        const body = await readBody(req, MAX_PAYLOAD_BYTES);
        if (!body) {
            tooLarge(res, requestId);
            return;
        }
        const context: ContextVariables = {
            requestId, stage: options.stage, resourcePath: match.route.template, httpMethod: method, path: `/${options.stage}${path}`,
            apiId, accountId: account, identity: { sourceIp: req.socket.remoteAddress ?? "" }, authorizer, requestTimeEpoch: Date.now(),
        };
        const response = await runIntegration(integration, {
            method, query, headers, body, params: match.params, rawParams: match.rawParams,
            stageVariables: options.stageVariables, backends: options.backends, context,
        });
        res.writeHead(response.status, { ...response.headers, "x-amzn-requestid": requestId });
        res.end(response.body);
    };

    const clientTimeoutMs = options.clientTimeoutMs ?? 30_000;
    const server = http.createServer({
        requestTimeout: clientTimeoutMs,
        headersTimeout: clientTimeoutMs,
        // How often node checks those timeouts (its default, 30 s, would outlast short ones).
        connectionsCheckingInterval: Math.min(1000, clientTimeoutMs),
    }, (req, res) => {
        handle(req, res).catch((e: Error) => {
            if (!res.headersSent) json(res, 500, { message: "Internal server error", detail: e.message }, "");
            else res.end();
        });
    });
    return { server, stats };
}
