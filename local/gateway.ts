// One slot's API on localhost, with API Gateway's request path: refuse a payload over 10 MB,
// resolve dot segments, route, throttle, run the TOKEN authorizer for every operation that is
// not public, match its policy against the method ARN, then run the integration with the
// authorizer's context (which the document maps into x-api-ring-* headers, see openapi.ts).
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import * as http from "http";
import { isAllowed, methodArn } from "./access";
import { ContextVariables, runIntegration } from "./integration";
import { Route, compileRoutes, matchRoute, resolveDotSegments } from "./routes";
import { TokenBucket } from "./throttle";

export type Authorize = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export interface LocalGatewayOptions {
    /** The bundled OpenAPI document, authorizer injected. */
    document: Record<string, unknown>;
    stage: string;
    stageVariables: Record<string, string>;
    /** Base URLs for `https://${stageVariables.name}` integrations. */
    backends: Record<string, string>;
    rateLimit: number;
    burstLimit: number;
    identityHeader: string;
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
    const bucket = new TokenBucket(options.rateLimit, options.burstLimit);
    const stats: GatewayStats = { requests: 0, allowed: 0, denied: 0, unauthorized: 0, throttled: 0 };
    const region = options.region ?? "us-east-1";
    const account = options.account ?? "123456789012";
    const apiId = options.apiId ?? "localapi00";
    const headerName = options.identityHeader.toLowerCase();

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const requestId = randomUUID();
        stats.requests += 1;
        if (Number(req.headers["content-length"] ?? 0) > MAX_PAYLOAD_BYTES) {
            tooLarge(res, requestId); // before reading a byte of it
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
        let authorizer: Record<string, string | number | boolean> = {};
        const security = match.operation.security;
        const isPublic = Array.isArray(security) && security.length === 0;
        if (!isPublic) {
            const header = req.headers[headerName];
            const token = Array.isArray(header) ? header[0] : header;
            if (!token) {
                stats.unauthorized += 1;
                json(res, 401, { message: "Unauthorized" }, requestId);
                return;
            }
            const arn = methodArn(region, account, apiId, options.stage, method, path);
            let result: APIGatewayAuthorizerResult;
            try {
                result = await options.authorize({ type: "TOKEN", authorizationToken: token, methodArn: arn });
            } catch (e) {
                if ((e as Error).message === "Unauthorized") {
                    stats.unauthorized += 1;
                    json(res, 401, { message: "Unauthorized" }, requestId);
                } else {
                    json(res, 500, { message: null }, requestId); // API Gateway's AuthorizerConfigurationException
                }
                return;
            }
            if (!isAllowed(result, arn)) {
                stats.denied += 1;
                json(res, 403, { Message: "User is not authorized to access this resource with an explicit deny" }, requestId);
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
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
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
