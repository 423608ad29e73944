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
import { SpecProblem, pointer } from "../openapi";
import { Json, MappingError, MethodRequest, headerValue, isObject, lookup, mappedValue, pickTemplate } from "./mapping";

/** Each gateway response type with its default status ("Gateway response types"); the two fallbacks have none. */
const DEFAULT_STATUS = {
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

/** A type API Gateway answers with (the fallbacks are never answered as such). */
export type GatewayResponseType = Exclude<keyof typeof DEFAULT_STATUS, "DEFAULT_4XX" | "DEFAULT_5XX">;

/** Every template of a default gateway response (GetGatewayResponses). */
const DEFAULT_TEMPLATE = '{"message":$context.error.messageString}';

/** A gateway response's mapping sources: 'static', method request parameters, stage variables, $context. */
const RESPONSE_SOURCE = /^('[^']*'|method\.request\.(header|querystring|path|multivalueheader|multivaluequerystring)\.[^.\s][^\s]*|method\.input\.params\.[^\s]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9._]+)$/;
const RESPONSE_TARGET = /^gatewayresponse\.(header|querystring|path)\.([^\s]+)$/;

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
        if (e instanceof MappingError) return undefined; // refused at start (gatewayResponseProblems)
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
