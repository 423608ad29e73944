// The OpenAPI document a slot serves: bundled from its files (remote $refs from local mirror
// folders, never from the network), checked for what API Gateway would refuse, given the ring's
// Lambda authorizer on every operation not marked public, and given the authorizer's context as
// backend headers on every HTTP integration.
import SwaggerParser from "@apidevtools/swagger-parser";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CredentialSource, credentialNames, identitySource } from "./handlers/credentials";

/** The security scheme the ring injects; its x-amazon-apigateway-authorizer is the Lambda authorizer. */
export const AUTHORIZER_SCHEME = "threescale";
/** Stands for the authorizer's invocation URI until the function exists; also what specSha256 hashes. */
export const AUTHORIZER_URI_PLACEHOLDER = "${authorizerUri}";

/**
 * The headers every http/http_proxy integration sends its backend: the authorizer's context on a
 * protected operation, a fixed value on a public one. Both are integration request parameters, which
 * replace whatever a client sent under the same name, so a backend can trust them.
 */
export const CONTEXT_HEADERS: readonly { header: string; context: string; publicValue: string }[] = [
    { header: "x-api-ring-principal-id", context: "principalId", publicValue: "-" },
    { header: "x-api-ring-app-id", context: "appId", publicValue: "-" },
    { header: "x-api-ring-plan", context: "plan", publicValue: "-" },
    { header: "x-api-ring-source", context: "source", publicValue: "public" },
];

/** Operation keys of a path item that API Gateway turns into methods (ANY is its extension). */
export const OPERATION_KEYS = ["get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"];
export const ANY_METHOD = "x-amazon-apigateway-any-method";

type Json = Record<string, unknown>;

export interface AuthorizerSpec {
    /** Where callers send their 3scale credential: decides the authorizer type and identity sources. */
    credentials: CredentialSource;
    /** API Gateway's own authorizer result cache, seconds (0 = off). */
    resultTtlSeconds: number;
}

export interface SpecOptions extends AuthorizerSpec {
    /** URL prefix of remote `$ref`s to the folder that mirrors it (gateway:specMirrors). */
    mirrors?: Record<string, string>;
    /** Folder that relative mirror folders are relative to (the project root); default the working directory. */
    baseDir?: string;
    /** Operations served without the authorizer, "METHOD /path" (gateway:publicRoutes). */
    publicRoutes?: string[];
}

/** One finding, located by a JSON pointer into the bundled document ("#/paths/~1heartbeat/get"). */
export interface SpecProblem {
    pointer: string;
    message: string;
}

export interface BundledSpec {
    /** "2.0" (Swagger) or "3.x" (OpenAPI). */
    version: string;
    /** The single-document API with the authorizer injected; the URI is a placeholder. */
    document: Json;
    /** sha256 of `render(AUTHORIZER_URI_PLACEHOLDER)`: changes exactly when the served API changes. */
    sha256: string;
    /**
     * The stage variables the document uses, in any spelling (`${stageVariables.x}`, `$stageVariables.x`,
     * `stageVariables.x`), each with where it is used.
     */
    stageVariableUses: Record<string, string[]>;
    /** "METHOD /path" of every operation served without the authorizer. */
    publicOperations: string[];
    /** Why each public operation is public: `security: []`, `x-amazon-apigateway-auth: none` or `gateway:publicRoutes`. */
    publicReasons: Record<string, string>;
    /** "METHOD /path" of every operation behind the authorizer. */
    protectedOperations: string[];
    /** Upstream quirks API Gateway accepts: printed, never refused. */
    warnings: SpecProblem[];
    /** The document as JSON with the authorizer's real invocation URI. */
    render(authorizerUri: string): string;
}

export class SpecError extends Error {
    constructor(readonly file: string, reason: string, readonly problems: SpecProblem[] = []) {
        super(`gateway:spec: cannot use ${file}: ${reason}` + problems.map((p) => `\n  - ${formatProblem(p)}`).join(""));
        this.name = "SpecError";
    }
}

/** "#/paths/~1x/get: message", or the message alone for a document-wide problem. */
export function formatProblem(problem: SpecProblem): string {
    return problem.pointer ? `${problem.pointer}: ${problem.message}` : problem.message;
}

/** A JSON pointer (RFC 6901) as a URI fragment. */
export function pointer(...segments: (string | number)[]): string {
    return "#" + segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** "GET /path", "ANY /path": an operation as config and messages name it. */
export function operationLabel(method: string, route: string): string {
    return `${method === ANY_METHOD ? "ANY" : method.toUpperCase()} ${route}`;
}

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

interface Operation {
    route: string;
    method: string;
    label: string;
    at: (string | number)[];
    operation: Json;
    item: Json;
}

function operationsOf(doc: Json): Operation[] {
    const out: Operation[] = [];
    for (const [route, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
        if (!isObject(item)) continue;
        for (const method of OPERATION_KEYS) {
            const operation = item[method];
            if (isObject(operation)) out.push({ route, method, label: operationLabel(method, route), at: ["paths", route, method], operation, item });
        }
    }
    return out;
}

/**
 * Bundles the document at `specPath` (multi-file and remote $refs become one document), checks
 * it as API Gateway would, and injects the authorizer. Throws a SpecError listing every problem
 * API Gateway would refuse; quirks it accepts come back as `warnings`.
 */
export async function bundleSpec(specPath: string, options: SpecOptions): Promise<BundledSpec> {
    const file = path.resolve(specPath);
    const shownFile = path.relative(process.cwd(), file) || file;
    let bundled: Json;
    // The parser replaces a resolver's message by a generic one, so the mirror keeps its own, by URL.
    const unreadable = new Map<string, string>();
    const bundle = (continueOnError: boolean) => new SwaggerParser().bundle(file, {
        // Remote $refs come from the mirror folders only: the HTTP resolver is off.
        resolve: { http: false, mirror: mirrorResolver(options.mirrors ?? {}, options.baseDir ?? process.cwd(), unreadable) },
        // Go on past an unreadable $ref, so every one is named at once.
        continueOnError,
    }) as Promise<unknown> as Promise<Json>;
    try {
        bundled = await bundle(true);
    } catch (e) {
        const group = (e as { errors?: { message: string; source?: string; path?: (string | number)[] }[] }).errors;
        if (Array.isArray(group) && group.length > 0) {
            throw new SpecError(shownFile, `${group.length} $ref${group.length === 1 ? "" : "s"} cannot be read:`, group.map((err) => ({
                pointer: `${err.source ? path.relative(process.cwd(), err.source) || err.source : ""}${pointer(...(err.path ?? []))}`,
                message: unreadable.get(/"(https?:\/\/[^"#]+)/.exec(err.message)?.[1] ?? "") ?? err.message,
            })));
        }
        // The document itself cannot be read or parsed: the parser's own first error says why.
        throw new SpecError(shownFile, describeParserError(await bundle(false).then(() => e, (first: unknown) => first)));
    }
    const document = inlineRefs(bundled);
    const swagger2 = typeof document.swagger === "string";
    const version = swagger2 ? String(document.swagger) : String(document.openapi);

    const { errors, warnings } = checkDocument(document);
    const operations = operationsOf(document);
    const publicReasons: Record<string, string> = {};
    for (const op of operations) {
        const auth = op.operation["x-amazon-apigateway-auth"];
        if (Array.isArray(op.operation.security) && op.operation.security.length === 0) publicReasons[op.label] = "security: []";
        else if (isObject(auth) && String(auth.type).toLowerCase() === "none") publicReasons[op.label] = "x-amazon-apigateway-auth: none";
        else if (options.publicRoutes?.includes(op.label)) publicReasons[op.label] = "gateway:publicRoutes";
    }
    const unknownPublic = (options.publicRoutes ?? []).filter((route) => !operations.some((op) => op.label === route));
    if (unknownPublic.length > 0) {
        errors.push({ pointer: "", message: `gateway:publicRoutes names ${unknownPublic.join(", ")}, which the document does not have ` +
            `(its operations are named as the preview lists them, e.g. ${operations.slice(0, 2).map((o) => o.label).join(", ")})` });
    }
    const clash = credentialClash(operations.filter((op) => !(op.label in publicReasons)), options.credentials);
    if (clash) errors.push(clash);
    if (errors.length > 0) {
        throw new SpecError(shownFile, `${errors.length} problem${errors.length === 1 ? "" : "s"} API Gateway would refuse or the ring cannot serve:`, errors);
    }

    injectAuthorizer(document, options, swagger2, operations, publicReasons);
    const uses = stageVariableUses(document, operations);
    const text = JSON.stringify(document);
    const render = (uri: string) => text.split(JSON.stringify(AUTHORIZER_URI_PLACEHOLDER)).join(JSON.stringify(uri));
    return {
        version,
        document,
        sha256: sha256(render(AUTHORIZER_URI_PLACEHOLDER)),
        stageVariableUses: uses,
        publicOperations: operations.filter((op) => op.label in publicReasons).map((op) => op.label),
        publicReasons,
        protectedOperations: operations.filter((op) => !(op.label in publicReasons)).map((op) => op.label),
        warnings,
        render,
    };
}

function describeParserError(e: unknown): string {
    const err = e as { message?: string; source?: string };
    const message = (err.message ?? String(e)).split("\n")[0];
    return err.source && !message.includes(err.source) ? `${message} (in ${err.source})` : message;
}

/**
 * A json-schema-ref-parser resolver for http(s) URLs that reads the mirror folder of the
 * longest matching prefix. It is the only resolver for remote URLs, so nothing is downloaded.
 */
function mirrorResolver(mirrors: Record<string, string>, baseDir: string, unreadable: Map<string, string>) {
    return {
        order: 1,
        canRead: /^https?:\/\//i,
        read(file: { url: string }): Buffer {
            const url = file.url.split("#")[0];
            const fail = (message: string): never => {
                unreadable.set(url, message);
                throw new Error(message);
            };
            const prefix = Object.keys(mirrors).filter((p) => url.startsWith(p)).sort((a, b) => b.length - a.length)[0];
            if (prefix === undefined) {
                fail(`${url} is a remote $ref and gateway:specMirrors has no prefix for it (nothing is fetched from the network); ` +
                    `mirror it and add e.g. {"${new URL(url).origin}/": "<folder>"} to gateway:specMirrors`);
            }
            const root = path.resolve(baseDir, mirrors[prefix]);
            const local = path.resolve(root, ...decodeURIComponent(url.slice(prefix.length)).split("/"));
            const shown = path.relative(process.cwd(), local) || local;
            if (local !== root && !local.startsWith(root + path.sep)) {
                fail(`${url} leaves the mirror folder of ${prefix} (${shown})`);
            }
            try {
                return fs.readFileSync(local);
            } catch (e) {
                return fail(`${url} is not in the mirror: tried ${shown} (gateway:specMirrors maps ${prefix} to ${mirrors[prefix]}; ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
        },
    };
}

/** Where a document keeps its models: $refs there stay refs (API Gateway makes them models). */
function isModelRef(ref: string): boolean {
    return ref.startsWith("#/definitions/") || ref.startsWith("#/components/schemas/");
}

function resolvePointer(doc: Json, ref: string): unknown {
    let current: unknown = doc;
    for (const raw of ref.slice(2).split("/")) {
        const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
        if (!isObject(current) && !Array.isArray(current)) return undefined;
        current = (current as Record<string, unknown>)[key];
    }
    return current;
}

/**
 * Replaces every internal $ref that does not name a model by a copy of its target. Bundling
 * points a second use of the same remote path item (or parameter, or inline schema) at the
 * first one; API Gateway resolves $refs to models only, so the served document inlines the rest.
 */
function inlineRefs(doc: Json): Json {
    const inline = (value: unknown, seen: string[]): unknown => {
        if (Array.isArray(value)) return value.map((v) => inline(v, seen));
        if (!isObject(value)) return value;
        const ref = value.$ref;
        if (typeof ref === "string" && ref.startsWith("#/") && !isModelRef(ref) && !seen.includes(ref)) {
            return inline(resolvePointer(doc, ref), [...seen, ref]);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v, seen)]));
    };
    return inline(doc, []) as Json;
}

const PATH_PART = /^([A-Za-z0-9._-]+|\{[A-Za-z0-9._-]+\+?\})$/;
const INTEGRATION_TYPES = ["http", "http_proxy", "aws", "aws_proxy", "mock"];
const REQUEST_TARGET = /^integration\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.[A-Za-z0-9._$-]+$/;
const REQUEST_SOURCE = /^(method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.[A-Za-z0-9._$-]+|method\.request\.body(\..+)?|'[^']*'|\$?stageVariables\.[A-Za-z0-9_]+|\$?context\.[A-Za-z0-9._]+)$/;
const RESPONSE_TARGET = /^method\.response\.header\.([A-Za-z0-9._$-]+)$/;
const RESPONSE_SOURCE = /^(integration\.response\.(header|multivalueheader)\.[A-Za-z0-9._$-]+|integration\.response\.body(\..+)?|method\.request\.(path|querystring|header)\.[A-Za-z0-9._$-]+|'[^']*'|\$?stageVariables\.[A-Za-z0-9_]+|\$?context\.[A-Za-z0-9._]+)$/;

/** The parameters an operation declares (path-level ones included), as mapping sources name them: "querystring:page", "header:authorization". */
function declaredParameters(op: Operation): Set<string> {
    const out = new Set<string>();
    for (const list of [op.item.parameters, op.operation.parameters]) {
        for (const p of Array.isArray(list) ? list : []) {
            if (isObject(p) && typeof p.in === "string" && typeof p.name === "string") {
                out.add(p.in === "header" ? `header:${p.name.toLowerCase()}` : `${p.in === "query" ? "querystring" : p.in}:${p.name}`);
            }
        }
    }
    return out;
}

/**
 * What API Gateway refuses on import or deployment (errors) and the upstream quirks it accepts
 * (warnings). The strict Swagger/OpenAPI schema is not applied: API Gateway does not apply it,
 * and real documents (edx/api-manager's among them) carry quirks it would refuse.
 */
function checkDocument(doc: Json): { errors: SpecProblem[]; warnings: SpecProblem[] } {
    const errors: SpecProblem[] = [];
    const warnings: SpecProblem[] = [];
    const error = (at: (string | number)[], message: string) => errors.push({ pointer: pointer(...at), message });

    if (!isObject(doc.paths)) error(["paths"], "no paths object: API Gateway imports routes from it");
    // Resource (path prefix) -> its variable child parts -> the first route using each.
    const variableChildren = new Map<string, Map<string, string>>();
    for (const route of Object.keys(isObject(doc.paths) ? doc.paths : {})) {
        if (!route.startsWith("/")) {
            error(["paths", route], "a path must start with /");
            continue;
        }
        const parts = route === "/" ? [] : route.slice(1).replace(/\/$/, "").split("/");
        parts.forEach((part, i) => {
            if (!PATH_PART.test(part)) {
                error(["paths", route], `path part "${part}": API Gateway allows only A-Z a-z 0-9 . _ - in a path part, or a whole {variable} or {variable+}`);
            } else if (part.endsWith("+}") && i !== parts.length - 1) {
                error(["paths", route], `the greedy variable ${part} must be the last path part`);
            }
            if (part.startsWith("{")) {
                const parent = "/" + parts.slice(0, i).join("/");
                const names = variableChildren.get(parent) ?? new Map<string, string>();
                if (!names.has(part)) names.set(part, route);
                variableChildren.set(parent, names);
            }
        });
    }
    for (const [parent, names] of variableChildren) {
        const [first, ...others] = [...names];
        for (const [part, route] of others) {
            error(["paths", route], `${part} is a second variable path part under ${parent} (${first[1]} has ${first[0]}); API Gateway allows one per resource`);
        }
    }

    const operationIds = new Map<string, Operation[]>();
    for (const op of operationsOf(doc)) {
        if (typeof op.operation.operationId === "string") {
            operationIds.set(op.operation.operationId, [...(operationIds.get(op.operation.operationId) ?? []), op]);
        }
        const integration = op.operation["x-amazon-apigateway-integration"];
        const at = [...op.at, "x-amazon-apigateway-integration"];
        if (!isObject(integration)) {
            error(op.at, `${op.label} has no x-amazon-apigateway-integration: API Gateway cannot deploy a method without an integration`);
            continue;
        }
        const type = String(integration.type ?? "").toLowerCase();
        if (!INTEGRATION_TYPES.includes(type)) {
            error([...at, "type"], `integration type ${JSON.stringify(integration.type)}; expected one of ${INTEGRATION_TYPES.join(", ")}`);
            continue;
        }
        if (type !== "mock") {
            if (typeof integration.uri !== "string" || (type.startsWith("http") && !/^https?:\/\//.test(integration.uri))) {
                error([...at, "uri"], `a ${type} integration needs an absolute ${type.startsWith("http") ? "http(s) URL" : "integration URI"}`);
            }
            if (typeof integration.httpMethod !== "string") error([...at, "httpMethod"], `a ${type} integration needs its httpMethod`);
        }
        const declared = declaredParameters(op);
        const pathVariables = [...op.route.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]);
        for (const [target, source] of Object.entries(isObject(integration.requestParameters) ? integration.requestParameters : {})) {
            const where = [...at, "requestParameters", target];
            if (!REQUEST_TARGET.test(target)) error(where, `"${target}" is not an integration request parameter (integration.request.header|querystring|path.<name>)`);
            if (typeof source !== "string" || !REQUEST_SOURCE.test(source)) {
                error(where, `${JSON.stringify(source)} is not a mapping expression (method.request.<where>.<name>, 'static', stageVariables.<name>, context.<name>)`);
                continue;
            }
            const from = /^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.(.+)$/.exec(source);
            if (!from) continue;
            const kind = from[1].replace("multivalue", "");
            const known = kind === "path" ? pathVariables.includes(from[2]) : declared.has(`${kind}:${kind === "header" ? from[2].toLowerCase() : from[2]}`);
            if (!known) {
                error(where, kind === "path"
                    ? `maps ${source}, but ${op.route} has no {${from[2]}}`
                    : `maps ${source}, which the operation does not declare; API Gateway needs method request parameters declared before they are mapped (add {name: ${from[2]}, in: ${kind}} to its parameters)`);
            }
        }
        const responses = isObject(op.operation.responses) ? op.operation.responses : {};
        for (const [pattern, response] of Object.entries(isObject(integration.responses) ? integration.responses : {})) {
            const where = [...at, "responses", pattern];
            if (pattern !== "default") {
                try {
                    new RegExp(pattern);
                } catch {
                    error(where, `"${pattern}" is not a regular expression (the selection pattern matched against the backend's status code)`);
                }
            }
            if (!isObject(response)) continue;
            const status = String(response.statusCode ?? "");
            if (!/^[1-5]\d\d$/.test(status)) {
                error([...where, "statusCode"], `statusCode ${JSON.stringify(response.statusCode)}; expected an HTTP status code such as "200"`);
            } else if (!(status in responses)) {
                // API Gateway's documentation asks for a matching method response, yet its import
                // takes documents without one (edx/api-manager's has 20 such): a quirk, not a refusal.
                warnings.push({ pointer: pointer(...where, "statusCode"), message: `statusCode ${status} has no response ${status} in the operation's responses; API Gateway accepts it` });
            }
            const declaredHeaders = Object.keys(isObject(responses[status]) && isObject((responses[status] as Json).headers) ? (responses[status] as Json).headers as Json : {})
                .map((h) => h.toLowerCase());
            for (const [target, source] of Object.entries(isObject(response.responseParameters) ? response.responseParameters : {})) {
                const header = RESPONSE_TARGET.exec(target)?.[1];
                if (!header) error([...where, "responseParameters", target], `"${target}" is not a method response header (method.response.header.<name>)`);
                else if (!declaredHeaders.includes(header.toLowerCase())) {
                    error([...where, "responseParameters", target], `maps the header ${header}, which response ${status} of the operation does not declare (add it to its headers)`);
                }
                if (typeof source !== "string" || !RESPONSE_SOURCE.test(source)) {
                    error([...where, "responseParameters", target], `${JSON.stringify(source)} is not a mapping expression (integration.response.header.<name>, integration.response.body, 'static', stageVariables.<name>, context.<name>)`);
                }
            }
        }
    }

    for (const [id, ops] of operationIds) {
        if (ops.length < 2) continue;
        warnings.push({
            pointer: pointer(...ops[1].at, "operationId"),
            message: `operationId ${id} is shared by ${ops.length} operations (${ops.map((o) => o.label).join(", ")}); API Gateway accepts it (operation ids are not unique keys there)`,
        });
    }
    const walk = (value: unknown, at: (string | number)[]): void => {
        if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, i]));
        if (!isObject(value)) return;
        if (isObject(value.properties)) {
            for (const [name, property] of Object.entries(value.properties)) {
                if (isObject(property) && property.required === true) {
                    warnings.push({ pointer: pointer(...at, "properties", name, "required"),
                        message: `property-level required: true (the schema wants required: [${name}] on its object); API Gateway accepts it` });
                }
            }
        }
        for (const [key, child] of Object.entries(value)) walk(child, [...at, key]);
    };
    walk(doc, []);
    return { errors, warnings };
}

/** The config key that names each credential source, for messages. */
function credentialKey(c: CredentialSource): string {
    if (c.kind === "app_id_app_key") return "authorizer:appIdName/authorizer:appKeyName";
    return c.location === "header" ? "authorizer:identityHeader" : "authorizer:queryParameter";
}

/**
 * The protected operations that hand the caller's 3scale key (a header or query parameter) to their
 * backend: the key would leak to the backend, and a caller sending the backend's own credential under
 * that name would be refused by the authorizer. A JWT is the backend's credential too (Open edX
 * services verify it themselves), so passing it on is no clash.
 */
function credentialClash(operations: Operation[], credentials: CredentialSource): SpecProblem | undefined {
    if (credentials.kind === "jwt") return undefined;
    const where = credentials.location === "header" ? "header" : "querystring";
    const names = credentialNames(credentials).map((n) => n.toLowerCase());
    const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    const inTemplate = new RegExp(`params\\(\\s*['"](${escaped})['"]\\s*\\)|${where}\\.get\\(\\s*['"](${escaped})['"]\\s*\\)`, "i");
    const source = new RegExp(`^method\\.request\\.(multivalue)?${where}\\.`);
    const passing = operations.filter((op) => {
        const integration = op.operation["x-amazon-apigateway-integration"];
        if (!isObject(integration)) return false;
        const sources = Object.values(isObject(integration.requestParameters) ? integration.requestParameters : {});
        const templates = Object.values(isObject(integration.requestTemplates) ? integration.requestTemplates : {});
        return sources.some((s) => typeof s === "string" && source.test(s) && names.includes(s.split(".").slice(3).join(".").toLowerCase())) ||
            templates.some((t) => typeof t === "string" && inTemplate.test(t));
    });
    if (passing.length === 0) return undefined;
    const key = credentialKey(credentials);
    const shownNames = credentialNames(credentials).join(" and ");
    return {
        pointer: "",
        message: `${key} is ${shownNames}, and ${passing.length} protected operation${passing.length === 1 ? "" : "s"} pass that ${where === "header" ? "header" : "query parameter"} to the backend ` +
            `(${passing.map((op) => op.label).join(", ")}): the backend's callers send their own ${shownNames} (e.g. a JWT), which the authorizer ` +
            `would refuse as a 3scale key, and a caller's key would reach the backend. Set ${key} to a ${where === "header" ? "header" : "query parameter"} no operation passes on, e.g. X-Api-Key`,
    };
}

/**
 * Every protected operation gets the authorizer (an explicit `security: []` or
 * `x-amazon-apigateway-auth: none` in the document, or gateway:publicRoutes, keeps it public); every
 * HTTP integration gets the context headers.
 */
function injectAuthorizer(doc: Json, authorizer: AuthorizerSpec, swagger2: boolean, operations: Operation[], publicReasons: Record<string, string>): void {
    const source = identitySource(authorizer.credentials);
    const scheme = {
        type: "apiKey",
        // Swagger's apiKey names one value; API Gateway reads the identity sources below.
        name: credentialNames(authorizer.credentials)[0],
        in: authorizer.credentials.location,
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            type: source.type,
            authorizerUri: AUTHORIZER_URI_PLACEHOLDER,
            authorizerResultTtlInSeconds: authorizer.resultTtlSeconds,
            identitySource: source.identitySource,
        },
    };
    doc["x-amazon-apigateway-gateway-responses"] = {
        ...(isObject(doc["x-amazon-apigateway-gateway-responses"]) ? doc["x-amazon-apigateway-gateway-responses"] : {}),
        ...authorizerResponses(authorizer.credentials),
    };
    if (swagger2) {
        doc.securityDefinitions = { ...(doc.securityDefinitions as Json | undefined), [AUTHORIZER_SCHEME]: scheme };
    } else {
        const components = (doc.components ?? {}) as Json;
        components.securitySchemes = { ...(components.securitySchemes as Json | undefined), [AUTHORIZER_SCHEME]: scheme };
        doc.components = components;
    }
    for (const op of operations) {
        const isPublic = op.label in publicReasons;
        op.operation.security = isPublic ? [] : [{ [AUTHORIZER_SCHEME]: [] }];
        const integration = op.operation["x-amazon-apigateway-integration"] as Json;
        if (!["http", "http_proxy"].includes(String(integration.type).toLowerCase())) continue;
        const parameters = { ...(isObject(integration.requestParameters) ? integration.requestParameters : {}) };
        for (const h of CONTEXT_HEADERS) {
            parameters[`integration.request.header.${h.header}`] = isPublic ? `'${h.publicValue}'` : `context.authorizer.${h.context}`;
        }
        integration.requestParameters = parameters;
    }
}

/**
 * API Gateway's answers when the authorizer refuses, with a JSON body that says why: a 401 names where
 * the credential goes; a 403 carries the authorizer's `reason` from its context (e.g. "usage limits are
 * exceeded", "route not in plan"). The handlers keep reasons free of quotes and backslashes.
 */
export function authorizerResponses(credentials: CredentialSource): Record<string, Json> {
    const where = credentials.location === "header" ? "header" : "query parameter";
    const what = credentials.kind === "jwt" ? "a JWT" : credentials.kind === "app_id_app_key" ? "a 3scale app_id and app_key" : "a 3scale user_key";
    const hint = `send ${what} in the ${credentialNames(credentials).join(" and ")} ${where}${credentialNames(credentials).length > 1 ? "s" : ""}`;
    const json = "application/json";
    return {
        UNAUTHORIZED: {
            statusCode: 401,
            responseTemplates: { [json]: `{"message":$context.error.messageString,"reason":"missing or malformed credential: ${hint}"}` },
        },
        ACCESS_DENIED: {
            statusCode: 403,
            responseTemplates: { [json]: `{"message":$context.error.messageString,"reason":"$context.authorizer.reason"}` },
        },
    };
}

// ${stageVariables.x}, ${stageVariables['x']}, $stageVariables.x, and a mapping's bare stageVariables.x.
const STAGE_VARIABLE = /(?<![A-Za-z0-9_.])\$?\{?stageVariables(?:\.([A-Za-z0-9_]+)|\[\s*['"]([A-Za-z0-9_]+)['"]\s*\])/g;

/** Each stage variable the integrations and gateway responses use, with where. */
function stageVariableUses(doc: Json, operations: Operation[]): Record<string, string[]> {
    const uses: Record<string, string[]> = {};
    const scan = (value: unknown, at: (string | number)[]): void => {
        if (typeof value === "string") {
            for (const m of value.matchAll(STAGE_VARIABLE)) (uses[m[1] ?? m[2]] ??= []).push(pointer(...at));
        } else if (Array.isArray(value)) {
            value.forEach((v, i) => scan(v, [...at, i]));
        } else if (isObject(value)) {
            for (const [k, v] of Object.entries(value)) {
                scan(k, [...at, k]);
                scan(v, [...at, k]);
            }
        }
    };
    for (const op of operations) scan(op.operation["x-amazon-apigateway-integration"], [...op.at, "x-amazon-apigateway-integration"]);
    scan(doc["x-amazon-apigateway-gateway-responses"], ["x-amazon-apigateway-gateway-responses"]);
    for (const name of Object.keys(uses)) uses[name] = [...new Set(uses[name])];
    return uses;
}

/** One line naming what the authorizer protects and what it does not, with why. */
export function operationsSummary(spec: Pick<BundledSpec, "publicOperations" | "publicReasons" | "protectedOperations">): string {
    const open = spec.publicOperations.map((op) => `${op} (${spec.publicReasons[op]})`).join(", ");
    return `${spec.protectedOperations.length} operation${spec.protectedOperations.length === 1 ? "" : "s"} behind the authorizer, ` +
        `${spec.publicOperations.length} public${spec.publicOperations.length > 0 ? `: ${open}` : ""}`;
}

/** The stage variables the document uses that `defined` lacks, each with where it is used. */
export function missingStageVariables(spec: Pick<BundledSpec, "stageVariableUses">, defined: Record<string, string>): { name: string; usedAt: string[] }[] {
    return Object.entries(spec.stageVariableUses)
        .filter(([name]) => !(name in defined))
        .map(([name, usedAt]) => ({ name, usedAt }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

/** The release id a slot serves (stage variable `id`): the configured one, else one derived from the document's hash. */
export function releaseIdFor(spec: Pick<BundledSpec, "sha256">, configured?: string): string {
    return configured ?? `spec-${spec.sha256.slice(0, 12)}`;
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
