// Gateway responses, the answers API Gateway makes itself (a refusal, a failed validation, a failed
// integration), rendered from the document's x-amazon-apigateway-gateway-responses as API Gateway
// renders them. Sources, AWS's developer guide: "Gateway responses in API Gateway" (a status code,
// headers from parameter mappings, a body from a non-VTL template of simple variable substitutions
// over $context, $stageVariables and method request parameters), "Gateway response types" (each
// type's default status; a type the API does not customize falls back to DEFAULT_4XX or DEFAULT_5XX,
// and a status set on those applies to every type of its family not customized), "Set up gateway
// response customization in OpenAPI", the extension reference (x-amazon-apigateway-gateway-responses,
// .responseParameters, .responseTemplates), and the API reference's GetGatewayResponses example (every
// default response: no headers, the template {"message":$context.error.messageString}).
import { DEFAULT_STATUS, RESPONSE_TARGET, gatewayResponsesOf } from "../openapi/gateway-responses";
import { Json, MappingError, MethodRequest, headerValue, isObject, lookup, mappedValue, pickTemplate } from "./mapping";

/** A type API Gateway answers with (the fallbacks are never answered as such). */
export type GatewayResponseType = Exclude<keyof typeof DEFAULT_STATUS, "DEFAULT_4XX" | "DEFAULT_5XX">;

/** Every template of a default gateway response (GetGatewayResponses). */
const DEFAULT_TEMPLATE = '{"message":$context.error.messageString}';

/**
 * An answer API Gateway makes itself: its type, $context.error.message (null for an authorizer
 * configuration error, as API Gateway's own) and, for a body that fails its model,
 * $context.error.validationErrorString.
 */
export class GatewayError extends Error {
    constructor(readonly type: GatewayResponseType, readonly errorMessage: string | null, readonly validationErrorString = "") {
        super(`${type}: ${errorMessage}`);
        this.name = "GatewayError";
    }
}

export interface RenderedResponse {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** The family fallback of a type: DEFAULT_5XX for a 5XX default status, DEFAULT_4XX otherwise. */
function fallbackOf(type: GatewayResponseType): "DEFAULT_4XX" | "DEFAULT_5XX" {
    return DEFAULT_STATUS[type] >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
}

/**
 * The gateway response for `error`: the document's entry for its type, else its family fallback
 * (DEFAULT_4XX or DEFAULT_5XX) when the document has one, else API Gateway's default. The status is
 * the entry's statusCode, else the type's own; headers come from its responseParameters; the body from
 * the template the request's Accept selects (else application/json, else the first).
 */
export function renderGatewayResponse(responses: Json, error: GatewayError, request: MethodRequest): RenderedResponse {
    const own = responses[error.type];
    const fallback = responses[fallbackOf(error.type)];
    const chosen = isObject(own) ? own : isObject(fallback) ? fallback : {};
    const status = Number(chosen.statusCode ?? DEFAULT_STATUS[error.type]);
    const templates = isObject(chosen.responseTemplates) && Object.keys(chosen.responseTemplates).length > 0 ? chosen.responseTemplates : { "application/json": DEFAULT_TEMPLATE };
    const [mediaType, template] = pickTemplate(templates, headerValue(request.headers, "accept")) ?? ["application/json", DEFAULT_TEMPLATE];
    const context = {
        ...request.context,
        error: {
            message: error.errorMessage,
            messageString: JSON.stringify(error.errorMessage),
            responseType: error.type,
            validationErrorString: error.validationErrorString,
        },
    };
    const headers: Record<string, string> = { "content-type": mediaType };
    for (const [target, source] of Object.entries(isObject(chosen.responseParameters) ? chosen.responseParameters : {})) {
        const header = RESPONSE_TARGET.exec(target);
        if (header?.[1] !== "header") continue; // a response has no path or query string to set
        const value = responseParameter(String(source), { ...request, context });
        if (value !== undefined) headers[header[2].toLowerCase()] = value;
    }
    return { status, headers, body: substitute(template, context, request) };
}

/** A gateway response parameter's value; `method.input.params.<name>` (the guide's spelling) searches path, query string, then headers. */
function responseParameter(source: string, request: MethodRequest): string | undefined {
    const input = /^method\.input\.params\.(.+)$/.exec(source);
    if (input) return inputParam(request, input[1]);
    try {
        return mappedValue(source, request);
    } catch (e) {
        if (e instanceof MappingError) return undefined; // refused with the document (openapi/gateway-responses.ts, gatewayResponseProblems)
        throw e;
    }
}

function inputParam(request: MethodRequest, name: string): string | undefined {
    return request.params[name] ?? new URLSearchParams(request.query).getAll(name).at(-1) ?? headerValue(request.headers, name);
}

/**
 * A gateway response template, rendered as API Gateway renders one: not by Velocity, by simple
 * substitution of $context.x, $stageVariables.x (also as ${...}) and $input.params('x'). A variable
 * without a value becomes empty; text that names no variable stays as written.
 */
function substitute(template: string, context: Json, request: MethodRequest): string {
    const variable = /\$input\.params\(\s*'([^']*)'\s*\)|\$\{([A-Za-z][\w.]*)\}|\$([A-Za-z]\w*(?:\.\w+)*)/g;
    return template.replace(variable, (whole, param: string | undefined, braced: string | undefined, bare: string | undefined) => {
        if (param !== undefined) return inputParam(request, param) ?? "";
        const [root, ...path] = (braced ?? bare ?? "").split(".");
        if (path.length === 0 || (root !== "context" && root !== "stageVariables")) return whole;
        const value = root === "context" ? lookup(context, path.join(".")) : request.stageVariables[path.join(".")];
        if (value === undefined || value === null) return "";
        return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
}

export { gatewayResponsesOf };
