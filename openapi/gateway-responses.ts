// The gateway responses a slot serves: the document's x-amazon-apigateway-gateway-responses with the
// ring's UNAUTHORIZED (401) and ACCESS_DENIED (403) combined into them. API Gateway falls back to
// DEFAULT_4XX only for a type the API does not define (developer guide, "Gateway response types":
// "If the response type is unspecified, this response defaults to the DEFAULT_4XX type"), so a
// type the ring defines would lose the document's DEFAULT_4XX headers (its CORS headers, say):
// - a type the document does not define is the ring's, with the headers of the document's DEFAULT_4XX;
// - a type the document defines stays the document's (status, headers, templates), and the ring's
//   denial reason is added where it fits: its application/json template, when the document has
//   none, or a "reason" field in one that is a plain JSON object.
import { Json, isObject } from "./document";

const GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses";
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
