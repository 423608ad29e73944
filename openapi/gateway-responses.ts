// The gateway responses a slot serves: the document's x-amazon-apigateway-gateway-responses with the
// ring's UNAUTHORIZED (401) and ACCESS_DENIED (403) combined into them. API Gateway falls back to
// DEFAULT_4XX only for a type the API does not define (developer guide, "Gateway response types":
// "If the response type is unspecified, this response defaults to the DEFAULT_4XX type"), so a
// type the ring defines would lose the document's DEFAULT_4XX headers (its CORS headers, say):
// - a type the document does not define is the ring's, with the headers of the document's DEFAULT_4XX;
// - a type the document defines stays the document's (status, headers, templates), and the ring's
//   denial reason is added where it fits: its application/json template, when the document has
//   none, or a "reason" field in one that is a plain JSON object.
// What API Gateway's import refuses in the document's own gateway responses (a type it does not have,
// a status that is not one, a parameter that maps nothing) is listed here too, so the program, the
// preview and the local run refuse the same document (openapi/checks.ts); the local run renders the
// responses (local/gateway-responses.ts). Sources: the developer guide's "Gateway response types" and
// the extension reference (x-amazon-apigateway-gateway-responses, .responseParameters).
import { Json, SpecProblem, isObject, pointer } from "./document";

const GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses";

/** Each gateway response type with its default status ("Gateway response types"); the two fallbacks have none. */
export const DEFAULT_STATUS = {
    ACCESS_DENIED: 403,
    API_CONFIGURATION_ERROR: 500,
    AUTHORIZER_CONFIGURATION_ERROR: 500,
    AUTHORIZER_FAILURE: 500,
    BAD_REQUEST_BODY: 400,
    BAD_REQUEST_PARAMETERS: 400,
    DEFAULT_4XX: undefined,
    DEFAULT_5XX: undefined,
    EXPIRED_TOKEN: 403,
    INTEGRATION_FAILURE: 504,
    INTEGRATION_TIMEOUT: 504,
    INVALID_API_KEY: 403,
    INVALID_SIGNATURE: 403,
    MISSING_AUTHENTICATION_TOKEN: 403,
    QUOTA_EXCEEDED: 429,
    REQUEST_TOO_LARGE: 413,
    RESOURCE_NOT_FOUND: 404,
    THROTTLED: 429,
    UNAUTHORIZED: 401,
    UNSUPPORTED_MEDIA_TYPE: 415,
    WAF_FILTERED: 403,
} as const;

/** A gateway response's mapping sources: 'static', method request parameters, stage variables, $context. */
export const RESPONSE_SOURCE = /^('[^']*'|method\.request\.(header|querystring|path|multivalueheader|multivaluequerystring)\.[^.\s][^\s]*|method\.input\.params\.[^\s]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9._]+)$/;
export const RESPONSE_TARGET = /^gatewayresponse\.(header|querystring|path)\.([^\s]+)$/;

/** The document's customized gateway responses, by type. */
export function gatewayResponsesOf(document: Json): Json {
    const responses = document["x-amazon-apigateway-gateway-responses"];
    return isObject(responses) ? responses : {};
}

/**
 * What API Gateway's import refuses in x-amazon-apigateway-gateway-responses: a type it does not
 * have, a status that is not one, a parameter that is no gateway response parameter or maps no source.
 */
export function gatewayResponseProblems(document: Json): SpecProblem[] {
    const problems: SpecProblem[] = [];
    const at = (...segments: string[]) => pointer("x-amazon-apigateway-gateway-responses", ...segments);
    for (const [type, response] of Object.entries(gatewayResponsesOf(document))) {
        if (!(type in DEFAULT_STATUS)) {
            problems.push({ pointer: at(type), message: `${type} is not a gateway response type; expected one of ${Object.keys(DEFAULT_STATUS).join(", ")}` });
            continue;
        }
        if (!isObject(response)) {
            problems.push({ pointer: at(type), message: `expected an object with statusCode, responseParameters and responseTemplates, got ${JSON.stringify(response)}` });
            continue;
        }
        if (response.statusCode !== undefined && !/^[1-5]\d\d$/.test(String(response.statusCode))) {
            const example = DEFAULT_STATUS[type as keyof typeof DEFAULT_STATUS] ?? (type === "DEFAULT_5XX" ? 500 : 400);
            problems.push({ pointer: at(type, "statusCode"), message: `statusCode ${JSON.stringify(response.statusCode)}; expected an HTTP status code such as ${example}` });
        } else if (typeof response.statusCode === "number") {
            // The extension's statusCode is a string ("x-amazon-apigateway-gateway-responses.gatewayResponse object").
            problems.push({ pointer: at(type, "statusCode"), message: `statusCode ${response.statusCode} is a number; expected a string such as "${response.statusCode}" ` +
                "(the extension's statusCode is a string; PutRestApi warns of a number, and the slot imports with failOnWarnings)" });
        }
        for (const [target, source] of Object.entries(isObject(response.responseParameters) ? response.responseParameters : {})) {
            if (!RESPONSE_TARGET.test(target)) {
                problems.push({ pointer: at(type, "responseParameters", target), message: `"${target}" is not a gateway response parameter (gatewayresponse.header.<name>)` });
            } else if (typeof source !== "string" || !RESPONSE_SOURCE.test(source)) {
                problems.push({ pointer: at(type, "responseParameters", target),
                    message: `${JSON.stringify(source)} is not a mapping source ('static', method.request.header|querystring|path.<name>, stageVariables.<name>, context.<name>)` });
            }
        }
        for (const [mediaType, template] of Object.entries(isObject(response.responseTemplates) ? response.responseTemplates : {})) {
            if (typeof template !== "string") problems.push({ pointer: at(type, "responseTemplates", mediaType), message: `expected a template as a string, got ${JSON.stringify(template)}` });
        }
    }
    return problems;
}


const JSON_TYPE = "application/json";

/** A header of a gateway response, as its responseParameters name it: gatewayresponse.header.<name>. */
function headerNames(response: Json): string[] {
    return Object.keys(isObject(response.responseParameters) ? response.responseParameters : {})
        .map((k) => /^gatewayresponse\.header\.(.+)$/.exec(k)?.[1])
        .filter((h): h is string => h !== undefined);
}

/**
 * The template with `"reason":<value>` as its last field, when it is a plain JSON object (no
 * directive, no reason of its own); undefined when the reason does not fit in it.
 */
function withReason(template: string, reason: string): string | undefined {
    const trimmed = template.trim();
    if (!trimmed.startsWith("{") || !trimmed.endsWith("}") || trimmed.includes("#") || /"reason"\s*:/.test(trimmed)) return undefined;
    const inside = trimmed.slice(1, -1).trim();
    return `{${inside}${inside === "" ? "" : ","}"reason":${reason}}`;
}

/**
 * Combines the ring's responses into the document's, in the document; returns one note a type on
 * how each was combined, for the preview.
 */
export function combineGatewayResponses(doc: Json, ring: Record<string, Json>, reasons: Record<string, string>): string[] {
    const own = isObject(doc[GATEWAY_RESPONSES]) ? doc[GATEWAY_RESPONSES] : {};
    const fallback = isObject(own.DEFAULT_4XX) ? own.DEFAULT_4XX : undefined;
    const combined: Json = { ...own };
    const inherited: string[] = [];
    const notes: string[] = [];
    for (const [type, response] of Object.entries(ring)) {
        const documents = own[type];
        if (!isObject(documents)) {
            const headers = fallback && isObject(fallback.responseParameters) ? fallback.responseParameters : undefined;
            combined[type] = headers ? { ...response, responseParameters: { ...headers } } : response;
            if (headers) inherited.push(type);
            continue;
        }
        const templates = isObject(documents.responseTemplates) ? documents.responseTemplates : {};
        const ringTemplate = (response.responseTemplates as Json)[JSON_TYPE] as string;
        const current = templates[JSON_TYPE];
        if (typeof current !== "string") {
            combined[type] = { ...documents, responseTemplates: { ...templates, [JSON_TYPE]: ringTemplate } };
            notes.push(`${type} is the document's, with the ring's ${JSON_TYPE} template added`);
            continue;
        }
        const added = reasons[type] === undefined ? undefined : withReason(current, reasons[type]);
        if (added) combined[type] = { ...documents, responseTemplates: { ...templates, [JSON_TYPE]: added } };
        notes.push(added
            ? `${type} is the document's, with the ring's reason added to its ${JSON_TYPE} template`
            : `${type} is the document's, as written (its ${JSON_TYPE} template is not a plain JSON object, so the ring's reason is not added)`);
    }
    doc[GATEWAY_RESPONSES] = combined;
    if (inherited.length > 0 && fallback) {
        notes.unshift(`${inherited.join(" and ")} ${inherited.length === 1 ? "is" : "are"} the ring's, with the headers of the document's DEFAULT_4XX (${headerNames(fallback).join(", ")})`);
    }
    return notes.length > 0 ? [`gateway responses: ${notes.join("; ")}`] : [];
}
