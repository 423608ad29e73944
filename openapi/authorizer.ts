// The ring's Lambda authorizer in the document: which operations it protects, the security scheme and
// gateway responses it brings, and the authorizer's context handed to each HTTP backend as headers.
import { CredentialSource, credentialNames, identitySource } from "../handlers/credentials";
import { Json, Operation, SpecProblem, isObject } from "./document";

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
    // What is left of the application's tightest limit on hits, and seconds until it resets (-1: no limit).
    { header: "x-api-ring-limit-remaining", context: "limitRemaining", publicValue: "-" },
    { header: "x-api-ring-limit-reset", context: "limitReset", publicValue: "-" },
];

export interface AuthorizerSpec {
    /** Where callers send their 3scale credential: decides the authorizer type and identity sources. */
    credentials: CredentialSource;
    /** API Gateway's own authorizer result cache, seconds (0 = off). */
    resultTtlSeconds: number;
}

/** Why each public operation is public, by label: the document says so, or gateway:publicRoutes does. */
export function publicReasonsOf(operations: Operation[], publicRoutes: string[] | undefined): Record<string, string> {
    const publicReasons: Record<string, string> = {};
    for (const op of operations) {
        const auth = op.operation["x-amazon-apigateway-auth"];
        if (Array.isArray(op.operation.security) && op.operation.security.length === 0) publicReasons[op.label] = "security: []";
        else if (isObject(auth) && String(auth.type).toLowerCase() === "none") publicReasons[op.label] = "x-amazon-apigateway-auth: none";
        else if (publicRoutes?.includes(op.label)) publicReasons[op.label] = "gateway:publicRoutes";
    }
    return publicReasons;
}

/** A path that catches every request no other resource matches: a greedy variable, or *, at the root. */
function isRootCatchAll(route: string): boolean {
    return /^\/(\{[^/{}]+\+\}|\*)$/.test(route);
}

/**
 * What would open the API to anyone without a key: a public catch-all at the root, or no operation left
 * behind the authorizer. Refused unless gateway:allowPublicCatchAll says it is meant.
 */
export function openingProblems(operations: Operation[], publicReasons: Record<string, string>): SpecProblem[] {
    const problems: SpecProblem[] = [];
    const optIn = "or set gateway:allowPublicCatchAll to true if the API is meant to be open";
    for (const op of operations.filter((o) => o.label in publicReasons && isRootCatchAll(o.route))) {
        const reason = publicReasons[op.label];
        problems.push({
            pointer: "",
            message: `${reason === "gateway:publicRoutes" ? `gateway:publicRoutes makes ${op.label} public` : `${op.label} is public (${reason})`}, ` +
                `which catches every path no other resource matches and so serves the whole API without a key; expected no public catch-all at the root ` +
                `(make the open routes public one by one), ${optIn}`,
        });
    }
    const open = operations.filter((o) => o.label in publicReasons);
    if (operations.length > 0 && open.length === operations.length) {
        problems.push({
            pointer: "",
            message: `no operation is left behind the authorizer (${open.length} public: ${open.map((o) => `${o.label} (${publicReasons[o.label]})`).join(", ")}); ` +
                `expected at least one operation that needs a key, ${optIn}`,
        });
    }
    return problems;
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
export function credentialClash(operations: Operation[], credentials: CredentialSource): SpecProblem | undefined {
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
export function injectAuthorizer(doc: Json, authorizer: AuthorizerSpec, swagger2: boolean, operations: Operation[], publicReasons: Record<string, string>): void {
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
 * exceeded", "route not in plan") and `retryAfter`, the seconds until a used-up limit resets ("" for
 * any other denial). The body, not a header: a gateway response's headers map only request parameters
 * and static values ("x-amazon-apigateway-gateway-responses.gatewayResponse object"), while its
 * template reads $context (see the README, "What a refused client receives"). The handlers keep
 * reasons free of quotes and backslashes.
 */
export function authorizerResponses(credentials: CredentialSource): Record<string, Json> {
    const where = credentials.location === "header" ? "header" : "query parameter";
    const what = credentials.kind === "jwt" ? "a JWT" : credentials.kind === "app_id_app_key" ? "a 3scale app_id and app_key" : "a 3scale user_key";
    const hint = `send ${what} in the ${credentialNames(credentials).join(" and ")} ${where}${credentialNames(credentials).length > 1 ? "s" : ""}`;
    const json = "application/json";
    return {
        UNAUTHORIZED: {
            // The extension's statusCode is a string ("x-amazon-apigateway-gateway-responses.gatewayResponse object").
            statusCode: "401",
            responseTemplates: { [json]: `{"message":$context.error.messageString,"reason":"missing or malformed credential: ${hint}"}` },
        },
        ACCESS_DENIED: {
            statusCode: "403",
            responseTemplates: { [json]: `{"message":$context.error.messageString,"reason":"$context.authorizer.reason","retryAfter":"$context.authorizer.retryAfter"}` },
        },
    };
}
