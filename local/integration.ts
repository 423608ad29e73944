// The integrations of an API Gateway REST API, run the way API Gateway runs them:
// - http_proxy: the whole request (headers, query, body) goes to the URI; requestParameters add
//   or replace headers, query parameters and path parts; the backend's answer comes back as it is.
// - http: only what requestParameters map reaches the backend, with the body requestTemplates and
//   passthroughBehavior make; the answer is the integration response whose selection pattern
//   matches the backend's status ("default" otherwise), with its statusCode, responseParameters
//   and responseTemplates. Backend headers nobody maps stay behind.
// - mock: the request template's statusCode selects the integration response, rendered as above.
// Mapping templates are Velocity (velocityjs, as API Gateway's are) with API Gateway's $input,
// $util, $context and $stageVariables, and the Java String and Map methods templates call on them.
import { JSONPath } from "jsonpath-plus";
import { render } from "velocityjs";
import { decodeSafely } from "./routes";

/** API Gateway's $context variables the local run knows (docs: "$context Variables for data models, authorizers, mapping templates"). */
export interface ContextVariables {
    requestId: string;
    stage: string;
    /** The route template that matched, e.g. /catalog/v1/books/{id}. */
    resourcePath: string;
    httpMethod: string;
    /** The request path with the stage, e.g. /red/catalog/v1/books/7. */
    path: string;
    apiId: string;
    accountId: string;
    identity: { sourceIp: string };
    /** The authorizer's principalId and context; empty on a public route. */
    authorizer: Record<string, string | number | boolean>;
    requestTimeEpoch: number;
}

export interface IntegrationRequest {
    method: string;
    /** Query string without the "?", or "". */
    query: string;
    headers: Record<string, string>;
    body: Buffer;
    /** Path parameters, decoded. */
    params: Record<string, string>;
    /** Path parameters as the request wrote them (percent-encoded; a greedy one keeps its slashes). */
    rawParams: Record<string, string>;
    stageVariables: Record<string, string>;
    /** Base URLs that replace `https://${stageVariables.name}` (local backends speak plain HTTP). */
    backends: Record<string, string>;
    context: ContextVariables;
}

export interface IntegrationResponse {
    status: number;
    headers: Record<string, string>;
    body: Buffer | string;
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

const JSON_HEADERS = { "content-type": "application/json" };
const answer = (status: number, message: string): IntegrationResponse => ({ status, headers: JSON_HEADERS, body: JSON.stringify({ message }) });
/** What API Gateway answers when a mapping or template fails at run time. */
const INTERNAL_ERROR = (): IntegrationResponse => answer(500, "Internal server error");

export async function runIntegration(integration: Json, request: IntegrationRequest): Promise<IntegrationResponse> {
    const type = String(integration.type ?? "").toLowerCase();
    try {
        if (type === "mock") return runMock(integration, request);
        if (type === "http" || type === "http_proxy") return await runHttp(integration, request, type === "http_proxy");
    } catch (e) {
        if (e instanceof MappingError) return INTERNAL_ERROR();
        throw e;
    }
    return answer(500, `integration type ${type} is not run locally`);
}

/** A mapping or template API Gateway could not evaluate: the client gets a 500. */
class MappingError extends Error {}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
    const wanted = name.toLowerCase();
    return Object.entries(headers).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

function lookup(root: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), root);
}

/** JSONPath over a JSON body: a single match unwrapped (as $input.path gives it), a wildcard's matches as a list. */
function jsonPath(body: unknown, expression: string): unknown {
    if (body === undefined) return undefined;
    const matches = JSONPath({ path: expression, json: body as object, wrap: true }) as unknown[];
    return /\*|\.\.|\[\?|,|:/.test(expression) ? matches : matches[0];
}

function parseJson(text: string): unknown {
    if (text.trim() === "") return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** A parameter mapping's source value: method.request.*, 'static', stageVariables.*, context.*, integration.response.* (responses). */
function mappedValue(source: string, request: IntegrationRequest, response?: { headers: Record<string, string>; body: string }): string | undefined {
    const expression = source.replace(/^\$/, "");
    const fixed = /^'(.*)'$/s.exec(expression);
    if (fixed) return fixed[1];
    const from = /^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.(.+)$/.exec(expression);
    if (from) {
        const [, where, name] = from;
        if (where === "path") return request.params[name];
        if (where === "header" || where === "multivalueheader") return headerValue(request.headers, name);
        const values = new URLSearchParams(request.query).getAll(name);
        if (values.length === 0) return undefined;
        return where === "querystring" ? values[values.length - 1] : values.join(",");
    }
    const body = /^(method\.request|integration\.response)\.body(?:\.(.+))?$/.exec(expression);
    if (body) {
        const text = body[1] === "method.request" ? request.body.toString("utf8") : response?.body ?? "";
        if (!body[2]) return text;
        const value = jsonPath(parseJson(text), `$.${body[2]}`);
        return value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);
    }
    const header = /^integration\.response\.(?:multivalue)?header\.(.+)$/.exec(expression);
    if (header) return response ? headerValue(response.headers, header[1]) : undefined;
    const variable = /^stageVariables\.(.+)$/.exec(expression);
    if (variable) return request.stageVariables[variable[1]];
    const context = /^context\.(.+)$/.exec(expression);
    if (context) {
        const value = lookup(request.context, context[1]);
        return value === undefined || value === null ? undefined : String(value);
    }
    throw new MappingError(`not a mapping expression: ${source}`);
}

// Java's String and Map methods that API Gateway's templates call (velocityjs runs JavaScript
// values, whose own methods differ: JS replace is first-only, replaceAll literal, length a property).
const JAVA_METHODS: { uid: string; match: (p: { property: string; context: unknown; params: unknown[] }) => boolean; resolve: (p: { property: string; context: unknown; params: unknown[] }) => unknown }[] = [
    {
        uid: "java-string",
        match: ({ property, context }) => typeof context === "string" && ["replaceAll", "replaceFirst", "replace", "matches", "length", "equals", "contains", "isEmpty"].includes(property),
        resolve: ({ property, context, params }) => {
            const s = context as string;
            const [a, b] = params.map(String);
            switch (property) {
                case "replaceAll": return s.replace(new RegExp(a, "g"), b);
                case "replaceFirst": return s.replace(new RegExp(a), b);
                case "replace": return s.split(a).join(b);
                case "matches": return new RegExp(`^(?:${a})$`).test(s);
                case "length": return s.length;
                case "equals": return s === a;
                case "contains": return s.includes(a);
                default: return s.length === 0;
            }
        },
    },
    {
        uid: "java-map",
        match: ({ property, context, params }) => isObject(context) && !(property in context) &&
            ((property === "get" && params.length === 1) || ["keySet", "size", "isEmpty", "containsKey"].includes(property)),
        resolve: ({ property, context, params }) => {
            const map = context as Json;
            if (property === "get") return map[String(params[0])];
            if (property === "keySet") return Object.keys(map);
            if (property === "size") return Object.keys(map).length;
            if (property === "containsKey") return String(params[0]) in map;
            return Object.keys(map).length === 0;
        },
    },
];

/** Renders a mapping template over `payload` (the request body, or the backend's answer). */
function renderTemplate(template: string, request: IntegrationRequest, payload: string): string {
    const parsed = parseJson(payload);
    const query = Object.fromEntries(new URLSearchParams(request.query));
    const params = { path: request.params, querystring: query, header: request.headers };
    const input = {
        body: payload,
        path: (expression: string) => jsonPath(parsed, expression),
        json: (expression: string) => JSON.stringify(jsonPath(parsed, expression) ?? null),
        params: (name?: string) => name === undefined ? params : request.params[name] ?? query[name] ?? headerValue(request.headers, name) ?? "",
    };
    const util = {
        escapeJavaScript: (s: unknown) => JSON.stringify(String(s ?? "")).slice(1, -1).replace(/'/g, "\\'"),
        parseJson: (s: unknown) => parseJson(String(s)),
        urlEncode: (s: unknown) => encodeURIComponent(String(s)),
        urlDecode: (s: unknown) => decodeURIComponent(String(s)),
        base64Encode: (s: unknown) => Buffer.from(String(s)).toString("base64"),
        base64Decode: (s: unknown) => Buffer.from(String(s), "base64").toString("utf8"),
    };
    try {
        return render(template, { input, util, context: request.context, stageVariables: request.stageVariables }, undefined, { customMethodHandlers: JAVA_METHODS });
    } catch (e) {
        throw new MappingError(`template: ${(e as Error).message}`);
    }
}

/** The template for a media type: the exact one, else application/json, else the first (API Gateway's fallback). */
function pickTemplate(templates: unknown, mediaType: string | undefined): [string, string] | undefined {
    if (!isObject(templates)) return undefined;
    const entries = Object.entries(templates).filter((e): e is [string, string] => typeof e[1] === "string");
    const wanted = mediaType?.split(/[;,]/)[0].trim().toLowerCase();
    return entries.find(([type]) => type.toLowerCase() === wanted) ?? entries.find(([type]) => type === "application/json") ?? entries[0];
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
    if (!chosen) return INTERNAL_ERROR(); // API Gateway: no match for output mapping and no default
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
    if (!Number.isInteger(status)) return INTERNAL_ERROR();
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

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length", "content-encoding", "proxy-connection"]);

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
    let body: Buffer | string = request.body;
    if (!proxy) {
        const contentType = headerValue(request.headers, "content-type");
        const templates = isObject(integration.requestTemplates) ? integration.requestTemplates : {};
        const wanted = (contentType ?? "application/json").split(";")[0].trim().toLowerCase();
        const template = Object.entries(templates).find(([type]) => type.toLowerCase() === wanted);
        const passthrough = String(integration.passthroughBehavior ?? "when_no_match").toLowerCase();
        if (template) {
            body = renderTemplate(String(template[1]), request, request.body.toString("utf8"));
            headers["content-type"] = template[0];
        } else if (Object.keys(templates).length === 0 ? passthrough === "never" : passthrough !== "when_no_match") {
            return answer(415, "Unsupported Media Type");
        } else if (contentType !== undefined) {
            headers["content-type"] = contentType;
        }
    }

    const timeoutMs = Number(integration.timeoutInMillis ?? 29000);
    let backend: { status: number; headers: Record<string, string>; body: Buffer };
    try {
        const response = await fetch(url, {
            method,
            headers,
            body: ["GET", "HEAD"].includes(method) ? undefined : body,
            signal: AbortSignal.timeout(timeoutMs),
            redirect: "manual",
        });
        const out: Record<string, string> = {};
        response.headers.forEach((v, k) => { if (!HOP_BY_HOP.has(k)) out[k] = v; });
        backend = { status: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()) };
    } catch (e) {
        const timedOut = (e as Error).name === "TimeoutError";
        // API Gateway's answers: 504 when the integration times out, 502 when it cannot be reached.
        return answer(timedOut ? 504 : 502, timedOut ? "Endpoint request timed out" : "Internal server error");
    }
    return proxy ? backend : methodResponse(integration, request, backend);
}
