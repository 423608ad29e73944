// The integrations of an API Gateway REST API, run the way API Gateway runs them:
// - http_proxy: the whole request (headers, query, body) goes to the URI; requestParameters add
//   or replace headers, query parameters and path parts; the backend's answer comes back as it is.
// - http: only what requestParameters map reaches the backend, with the body requestTemplates and
//   passthroughBehavior make; the answer is the integration response whose selection pattern
//   matches the backend's status ("default" otherwise), with its statusCode, responseParameters
//   and responseTemplates. Backend headers nobody maps stay behind.
// - mock: the request template's statusCode selects the integration response, rendered as above.
// Both HTTP types also send the headers API Gateway adds itself (apiGatewayHeaders), through
// node:http(s), which adds only Host, Connection and the body's length. A failure is a GatewayError
// of the type API Gateway answers with ("Gateway response types"). Mappings and templates: mapping.ts.
import { randomBytes } from "crypto";
import * as http from "http";
import * as https from "https";
import { GatewayError } from "./gateway-responses";
import { ContextVariables, Json, MappingError, MethodRequest, headerValue, isObject, mappedValue, parseJson, pickTemplate, renderTemplate } from "./mapping";
import { decodeSafely } from "./routes";

export type { ContextVariables, Json } from "./mapping";
export { isObject } from "./mapping";

export interface IntegrationRequest extends MethodRequest {
    method: string;
    /** Path parameters as the request wrote them (percent-encoded; a greedy one keeps its slashes). */
    rawParams: Record<string, string>;
    /** Base URLs that replace `https://${stageVariables.name}` (local backends speak plain HTTP). */
    backends: Record<string, string>;
    context: ContextVariables;
}

export interface IntegrationResponse {
    status: number;
    headers: Record<string, string>;
    body: Buffer | string;
}

const JSON_HEADERS = { "content-type": "application/json" };
/**
 * API Gateway's answer to an integration it cannot finish: a mapping or template it cannot evaluate,
 * a status no integration response selects with no default ("Gateway response types").
 */
const CONFIGURATION_ERROR = () => new GatewayError("API_CONFIGURATION_ERROR", "Internal server error");

/** The integration's answer; a GatewayError when API Gateway would answer itself instead. */
export async function runIntegration(integration: Json, request: IntegrationRequest): Promise<IntegrationResponse> {
    const type = String(integration.type ?? "").toLowerCase();
    try {
        if (type === "mock") return runMock(integration, request);
        if (type === "http" || type === "http_proxy") return await runHttp(integration, request, type === "http_proxy");
    } catch (e) {
        if (e instanceof MappingError) throw CONFIGURATION_ERROR();
        throw e;
    }
    throw new GatewayError("API_CONFIGURATION_ERROR", `integration type ${type} is not run locally`);
}

/** The integration response whose selection pattern matches the whole status, else "default". */
function selectResponse(responses: unknown, status: string): Json | undefined {
    if (!isObject(responses)) return undefined;
    const entries = Object.entries(responses).filter((e): e is [string, Json] => isObject(e[1]));
    return entries.find(([pattern]) => pattern !== "default" && new RegExp(`^(?:${pattern})$`).test(status))?.[1] ??
        entries.find(([pattern]) => pattern === "default")?.[1];
}

/** The method response: status, mapped headers, and the body after the response template. */
function methodResponse(integration: Json, request: IntegrationRequest, backend: { status: number; headers: Record<string, string>; body: Buffer }): IntegrationResponse {
    const chosen = selectResponse(integration.responses, String(backend.status));
    if (!chosen) throw CONFIGURATION_ERROR(); // no match for output mapping and no default
    const text = backend.body.toString("utf8");
    const headers: Record<string, string> = { ...JSON_HEADERS };
    const template = pickTemplate(chosen.responseTemplates, headerValue(request.headers, "accept"));
    let body: Buffer | string = backend.body;
    if (template) {
        body = renderTemplate(template[1], request, text);
        headers["content-type"] = template[0];
    }
    for (const [target, source] of Object.entries(isObject(chosen.responseParameters) ? chosen.responseParameters : {})) {
        const name = /^method\.response\.header\.(.+)$/.exec(target)?.[1];
        const value = mappedValue(String(source), request, { headers: backend.headers, body: text });
        if (name && value !== undefined) headers[name.toLowerCase()] = value;
    }
    const status = Number(chosen.statusCode ?? backend.status);
    return { status: Number.isInteger(status) ? status : 500, headers, body };
}

function runMock(integration: Json, request: IntegrationRequest): IntegrationResponse {
    const template = pickTemplate(integration.requestTemplates, headerValue(request.headers, "content-type")) ?? ["application/json", '{"statusCode": 200}'];
    const rendered = parseJson(renderTemplate(template[1], request, request.body.toString("utf8")));
    const status = isObject(rendered) ? Number(rendered.statusCode ?? 200) : NaN;
    if (!Number.isInteger(status)) throw CONFIGURATION_ERROR();
    return methodResponse(integration, request, { status, headers: {}, body: Buffer.alloc(0) });
}

/** Where request parameters go: integration.request.<header|querystring|path>.<name>. */
function mappedRequest(integration: Json, request: IntegrationRequest): { header: Map<string, string | undefined>; querystring: Map<string, string | undefined>; path: Map<string, string> } {
    const out = { header: new Map<string, string | undefined>(), querystring: new Map<string, string | undefined>(), path: new Map<string, string>() };
    for (const [target, source] of Object.entries(isObject(integration.requestParameters) ? integration.requestParameters : {})) {
        const to = /^integration\.request\.(header|querystring|path|multivaluequerystring|multivalueheader)\.(.+)$/.exec(target);
        if (!to) continue;
        const where = to[1].replace("multivalue", "") as "header" | "querystring" | "path";
        const path = /^method\.request\.path\.(.+)$/.exec(String(source));
        if (where === "path" && path) {
            // Each part of the request's own path, re-encoded: an encoded slash stays encoded.
            const raw = request.rawParams[path[1]];
            if (raw !== undefined) out.path.set(to[2], raw.split("/").map((part) => encodeURIComponent(decodeSafely(part))).join("/"));
            continue;
        }
        const value = mappedValue(String(source), request);
        if (where === "path") {
            if (value !== undefined) out.path.set(to[2], encodeURIComponent(value));
        } else {
            out[where].set(to[2], value);
        }
    }
    return out;
}

/** The integration URI with local backends, stage variables and mapped path parts filled in. */
export function integrationUri(integration: Json, request: Pick<IntegrationRequest, "stageVariables" | "backends">, pathParts: Map<string, string>): string {
    let uri = String(integration.uri);
    for (const [name, base] of Object.entries(request.backends)) {
        uri = uri.split(`https://\${stageVariables.${name}}`).join(base.replace(/\/$/, ""));
    }
    uri = uri.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_, name: string) => request.stageVariables[name] ?? "");
    for (const [name, value] of pathParts) uri = uri.split(`{${name}}`).join(value);
    return uri;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length", "proxy-connection"]);

/**
 * What API Gateway adds to every HTTP integration request, as recorded against AWS in LocalStack's
 * API Gateway tests (tests/aws/services/apigateway/test_apigateway_integrations.snapshot.json,
 * TestApiGatewayHeaderRemapping, the http integration with no parameter mapped: Accept
 * application/json, User-Agent AmazonAPIGateway_<api id>, X-Amzn-Apigateway-Api-Id, X-Amzn-Trace-Id;
 * test_apigateway_http.snapshot.json: an http integration asks for JSON whatever the client accepts).
 * Accept and User-Agent are defaults (a mapping, or on http_proxy the client's own, wins); the API id
 * and the X-Ray trace id (the caller's own, else a new one) are always set.
 */
function apiGatewayHeaders(headers: Record<string, string>, request: IntegrationRequest): void {
    headers["accept"] ??= "application/json";
    headers["user-agent"] ??= `AmazonAPIGateway_${request.context.apiId}`;
    headers["x-amzn-apigateway-api-id"] = request.context.apiId;
    headers["x-amzn-trace-id"] = headerValue(request.headers, "x-amzn-trace-id") ??
        `Root=1-${Math.floor(request.context.requestTimeEpoch / 1000).toString(16).padStart(8, "0")}-${randomBytes(12).toString("hex")}`;
}

/** The request body and its type an http (non-proxy) integration sends: the template's, else the client's as passthroughBehavior allows. */
function integrationBody(integration: Json, request: IntegrationRequest, headers: Record<string, string>): Buffer | string {
    const contentType = headerValue(request.headers, "content-type");
    const templates = isObject(integration.requestTemplates) ? integration.requestTemplates : {};
    const wanted = (contentType ?? "application/json").split(";")[0].trim().toLowerCase();
    const template = Object.entries(templates).find(([type]) => type.toLowerCase() === wanted);
    const passthrough = String(integration.passthroughBehavior ?? "when_no_match").toLowerCase();
    if (template) {
        headers["content-type"] = template[0];
        return renderTemplate(String(template[1]), request, request.body.toString("utf8"));
    }
    if (Object.keys(templates).length === 0 ? passthrough === "never" : passthrough !== "when_no_match") {
        throw new GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type");
    }
    // A passed-through body keeps the client's type; a method without a body sends none (AWS's recording above).
    if (contentType !== undefined && !["GET", "HEAD", "OPTIONS"].includes(request.method)) headers["content-type"] = contentType;
    return request.body;
}

interface BackendResponse {
    status: number;
    headers: Record<string, string>;
    body: Buffer;
}

/**
 * One exchange with the backend, with exactly `headers` (node:http adds Host, Connection and the
 * body's Content-Length, nothing else), no redirect followed, within `timeoutMs` from start to end.
 */
function exchange(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<BackendResponse> {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    const controller = new AbortController();
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            const timeout = new Error(`no answer within ${timeoutMs} ms`);
            timeout.name = "TimeoutError";
            reject(timeout);
            controller.abort();
        }, timeoutMs);
        const fail = (e: Error) => {
            clearTimeout(timer);
            reject(e);
        };
        const options = { method, headers: body ? { ...headers, "content-length": String(body.length) } : headers, signal: controller.signal };
        try {
            const req = client.request(target, options, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("error", fail);
                res.on("end", () => {
                    clearTimeout(timer);
                    const out: Record<string, string> = {};
                    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(", ") : v;
                    resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
                });
            });
            req.on("error", fail);
            req.end(body);
        } catch (e) {
            fail(e as Error); // a header value node refuses to send
        }
    });
}

async function runHttp(integration: Json, request: IntegrationRequest, proxy: boolean): Promise<IntegrationResponse> {
    const mapped = mappedRequest(integration, request);
    const uri = integrationUri(integration, request, mapped.path);
    let query = proxy ? request.query : "";
    if (mapped.querystring.size > 0) {
        const search = new URLSearchParams(query);
        for (const [name, value] of mapped.querystring) {
            if (value === undefined) search.delete(name);
            else search.set(name, value);
        }
        query = search.toString();
    }
    const url = query ? `${uri}${uri.includes("?") ? "&" : "?"}${query}` : uri;
    const declared = String(integration.httpMethod ?? "ANY").toUpperCase();
    const method = declared === "ANY" ? request.method : declared;

    const headers: Record<string, string> = {};
    if (proxy) for (const [k, v] of Object.entries(request.headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
    // A mapped header replaces the client's under the same name, even when its source is empty.
    for (const [name, value] of mapped.header) {
        delete headers[name.toLowerCase()];
        if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    const body = proxy ? request.body : integrationBody(integration, request, headers);
    apiGatewayHeaders(headers, request);

    let backend: BackendResponse;
    try {
        backend = await exchange(url, method, headers, ["GET", "HEAD"].includes(method) ? undefined : Buffer.from(body), Number(integration.timeoutInMillis ?? 29000));
    } catch (e) {
        // API Gateway's gateway responses: INTEGRATION_TIMEOUT when the backend is too slow, INTEGRATION_FAILURE when it cannot be reached.
        throw (e as Error).name === "TimeoutError"
            ? new GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out")
            : new GatewayError("INTEGRATION_FAILURE", "Internal server error");
    }
    return proxy ? backend : methodResponse(integration, request, backend);
}
