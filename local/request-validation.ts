// Request validation as API Gateway runs it, after the authorizer and before the integration.
// Sources, AWS's developer guide: "Request validation for REST APIs in API Gateway" (required
// parameters in the path, query string and headers must be present and not blank, checked for
// existence only; the body must follow the method's model for the request's content type, and with no
// model for it, nothing is validated, "$default" being the model for any type; a failure is a 400 and
// the request goes no further), "Test basic request validation" (the messages: "Missing required
// request parameters: [q1]", "Invalid request body"), the extension reference
// (x-amazon-apigateway-request-validators and .requestValidator, x-amazon-apigateway-request-validator
// at API level, overridden at method level), "Gateway response types" (BAD_REQUEST_PARAMETERS,
// BAD_REQUEST_BODY) and the mapping template reference ($context.error.validationErrorString).
// Models are JSON Schema draft 4, checked with ajv (ajv-draft-04). Where the guide is silent, the
// behaviour follows LocalStack's API Gateway tests recorded against AWS
// (tests/aws/services/apigateway/test_apigateway_common.py, test_api_gateway_request_validator): the
// missing parameters are listed sorted by method.request.<where>.<name>, parameters are checked
// before the body, an empty body is validated as {}, and a missing Content-Type is application/json.
import type { ErrorObject } from "ajv-draft-04";
import type { RequestValidation } from "../openapi/request-validators";
import { GatewayError } from "./gateway-responses";
import { MethodRequest, headerValue } from "./mapping";

export { compileRequestValidation } from "../openapi/request-validators";
export type { RequestValidation } from "../openapi/request-validators";

/** A present parameter has a value that is not blank. */
function blank(value: string | undefined): boolean {
    return value === undefined || value.trim() === "";
}

/**
 * The request against its operation's validation: BAD_REQUEST_PARAMETERS naming every missing
 * parameter, else BAD_REQUEST_BODY with the model's findings, else undefined (it goes on).
 */
export function validateRequest(validation: RequestValidation, request: Pick<MethodRequest, "headers" | "query" | "params" | "body">): GatewayError | undefined {
    if (validation.required) {
        const search = new URLSearchParams(request.query);
        const missing = validation.required.filter((p) =>
            blank(p.in === "header" ? headerValue(request.headers, p.name) : p.in === "querystring" ? search.getAll(p.name).at(-1) : request.params[p.name]));
        if (missing.length > 0) return new GatewayError("BAD_REQUEST_PARAMETERS", `Missing required request parameters: [${missing.map((p) => p.name).join(", ")}]`);
    }
    if (!validation.models) return undefined;
    const mediaType = (headerValue(request.headers, "content-type") ?? "application/json").split(";")[0].trim().toLowerCase();
    const model = validation.models.get(mediaType) ?? validation.models.get("$default");
    if (!model) return undefined;
    const text = request.body.toString("utf8");
    let instance: unknown;
    try {
        instance = text.trim() === "" ? {} : JSON.parse(text);
    } catch (e) {
        return new GatewayError("BAD_REQUEST_BODY", "Invalid request body", validationErrorString([`request body is not JSON: ${(e as Error).message}`]));
    }
    if (model(instance)) return undefined;
    return new GatewayError("BAD_REQUEST_BODY", "Invalid request body", validationErrorString(findings(model.errors ?? [])));
}

/**
 * $context.error.validationErrorString: the findings as a list, each escaped as inside a JSON string,
 * as API Gateway prints it (an AWS workshop's captured answer: `[instance value (\"WOW\") not found in
 * enum (possible values: [\"STOCK\",\"BOND\",\"CASH\"]), numeric instance is greater than ...]`).
 */
function validationErrorString(messages: string[]): string {
    return `[${messages.map((m) => JSON.stringify(m).slice(1, -1)).join(", ")}]`;
}

/** A JSON value's type as the findings name it: integer apart from number. */
function typeName(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

const TYPE_ORDER = ["array", "boolean", "integer", "null", "number", "object", "string"];

/**
 * ajv's errors in the words of API Gateway's validator, java-json-tools' json-schema-validator
 * (src/main/resources/com/github/fge/jsonschema/validator/validation.properties), whose messages
 * API Gateway's validationErrorString carries: one finding per missing-properties or extra-properties
 * list, none for the branches of an anyOf/oneOf/not that reports itself.
 */
function findings(errors: ErrorObject[]): string[] {
    const combinators = errors.filter((e) => ["anyOf", "oneOf", "not"].includes(e.keyword)).map((e) => `${e.schemaPath}/`);
    const kept = errors.filter((e) => !combinators.some((prefix) => e.schemaPath.startsWith(prefix)));
    const grouped = new Map<string, { error: ErrorObject; names: string[] }>();
    const out: (string | { error: ErrorObject; names: string[] })[] = [];
    for (const error of kept) {
        const name = error.keyword === "required" ? String(error.params.missingProperty) : error.keyword === "additionalProperties" ? String(error.params.additionalProperty) : undefined;
        if (name === undefined) {
            out.push(fgeMessage(error));
            continue;
        }
        const key = `${error.keyword} ${error.instancePath}`;
        const group = grouped.get(key);
        if (group) group.names.push(name);
        else {
            const created = { error, names: [name] };
            grouped.set(key, created);
            out.push(created);
        }
    }
    return out.map((entry) => {
        if (typeof entry === "string") return entry;
        const names = JSON.stringify([...entry.names].sort());
        return entry.error.keyword === "required"
            ? `object has missing required properties (${names})`
            : `object instance has properties which are not allowed by the schema: ${names}`;
    });
}

function fgeMessage(error: ErrorObject): string {
    const data: unknown = error.data;
    const schema: unknown = error.schema;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
        case "type": {
            const allowed = (Array.isArray(schema) ? schema : [schema]).map(String).sort((a, b) => TYPE_ORDER.indexOf(a) - TYPE_ORDER.indexOf(b));
            return `instance type (${typeName(data)}) does not match any allowed primitive type (allowed: ${JSON.stringify(allowed)})`;
        }
        case "enum":
            return `instance value (${JSON.stringify(data)}) not found in enum (possible values: ${JSON.stringify(schema)})`;
        case "maximum":
            return params.comparison === "<" ? `numeric instance is not strictly lower than the required maximum ${params.limit}`
                : `numeric instance is greater than the required maximum (maximum: ${params.limit}, found: ${data})`;
        case "minimum":
            return params.comparison === ">" ? `numeric instance is not strictly greater than the required minimum ${params.limit}`
                : `numeric instance is lower than the required minimum (minimum: ${params.limit}, found: ${data})`;
        case "minLength":
            return `string ${JSON.stringify(data)} is too short (length: ${[...String(data)].length}, required minimum: ${params.limit})`;
        case "maxLength":
            return `string ${JSON.stringify(data)} is too long (length: ${[...String(data)].length}, maximum allowed: ${params.limit})`;
        case "pattern":
            return `ECMA 262 regex ${JSON.stringify(schema)} does not match input string ${JSON.stringify(data)}`;
        case "minItems":
            return `array is too short: must have at least ${params.limit} elements but instance has ${(data as unknown[]).length} elements`;
        case "maxItems":
            return `array is too long: must have at most ${params.limit} elements but instance has ${(data as unknown[]).length} elements`;
        case "uniqueItems":
            return "array must not contain duplicate elements";
        case "multipleOf":
            return `remainder of division is not zero (${data} / ${schema})`;
        case "minProperties":
            return `object has too few properties (found ${Object.keys(data as object).length} but schema requires at least ${params.limit})`;
        case "maxProperties":
            return `object has too many properties (found ${Object.keys(data as object).length} but schema requires at most ${params.limit})`;
        case "additionalItems":
            return `schema only allows ${params.limit} elements in array but instance has ${(data as unknown[]).length} elements`;
        case "dependencies":
            return `property ${JSON.stringify(params.property)} of object has missing property dependencies (schema requires ${JSON.stringify(String(params.deps).split(", "))}; missing: ${JSON.stringify([params.missingProperty])})`;
        case "anyOf":
            return `instance failed to match at least one required schema among ${(schema as unknown[]).length}`;
        case "oneOf":
            return `instance failed to match exactly one schema (matched ${Array.isArray(params.passingSchemas) ? params.passingSchemas.length : 0} out of ${(schema as unknown[]).length})`;
        case "not":
            return "instance matched a schema which it should not have";
        default:
            return `${error.instancePath || "instance"} ${error.message ?? error.keyword}`;
    }
}
