// API Gateway's mapping expressions and mapping templates, shared by integrations (request and
// response mappings) and gateway responses: a parameter mapping's source (method.request.*,
// 'static', stageVariables.*, context.*, integration.response.*), Velocity templates (velocityjs, as
// API Gateway's are) with API Gateway's $input, $util, $context and $stageVariables and the Java
// String and Map methods templates call on them, and the template a media type selects.
// Docs: "API Gateway mapping template and access logging variable reference", "Parameter mapping
// source reference for REST APIs".
import { JSONPath } from "jsonpath-plus";
import { render } from "velocityjs";

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

/** What a mapping reads of the method request: its parameters, its body, the stage and $context. */
export interface MethodRequest {
    /** Query string without the "?", or "". */
    query: string;
    headers: Record<string, string>;
    body: Buffer;
    /** Path parameters, decoded. */
    params: Record<string, string>;
    stageVariables: Record<string, string>;
    /** $context: ContextVariables once routed; less before (a gateway response to an unrouted request), more after (its error). */
    context: object;
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A mapping or template API Gateway could not evaluate: the client gets a 500. */
export class MappingError extends Error {}

export function headerValue(headers: Record<string, string>, name: string): string | undefined {
    const wanted = name.toLowerCase();
    return Object.entries(headers).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

export function lookup(root: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), root);
}

/** JSONPath over a JSON body: a single match unwrapped (as $input.path gives it), a wildcard's matches as a list. */
function jsonPath(body: unknown, expression: string): unknown {
    if (body === undefined) return undefined;
    const matches = JSONPath({ path: expression, json: body as object, wrap: true }) as unknown[];
    return /\*|\.\.|\[\?|,|:/.test(expression) ? matches : matches[0];
}

export function parseJson(text: string): unknown {
    if (text.trim() === "") return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** A parameter mapping's source value: method.request.*, 'static', stageVariables.*, context.*, integration.response.* (responses). */
export function mappedValue(source: string, request: MethodRequest, response?: { headers: Record<string, string>; body: string }): string | undefined {
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
export function renderTemplate(template: string, request: MethodRequest, payload: string): string {
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
export function pickTemplate(templates: unknown, mediaType: string | undefined): [string, string] | undefined {
    if (!isObject(templates)) return undefined;
    const entries = Object.entries(templates).filter((e): e is [string, string] => typeof e[1] === "string");
    const wanted = mediaType?.split(/[;,]/)[0].trim().toLowerCase();
    return entries.find(([type]) => type.toLowerCase() === wanted) ?? entries.find(([type]) => type === "application/json") ?? entries[0];
}
