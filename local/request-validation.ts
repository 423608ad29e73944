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
import Ajv, { ErrorObject, ValidateFunction } from "ajv-draft-04";
import { OPERATION_KEYS, SpecProblem, pointer } from "../openapi";
import { GatewayError } from "./gateway-responses";
import { Json, MethodRequest, headerValue, isObject } from "./mapping";

type Location = "header" | "querystring" | "path";

/** What one operation's validator checks: its required parameters, its body's model by media type. */
export interface RequestValidation {
    /** Present when the validator checks parameters; sorted as API Gateway lists them. */
    required?: { in: Location; name: string; key: string }[];
    /** Present when the validator checks the body: the model for each media type the operation consumes. */
    models?: Map<string, ValidateFunction>;
}

export interface CompiledValidation {
    byOperation: Map<Json, RequestValidation>;
    /** What API Gateway's import refuses: a validator name the API does not define, a model that is no draft 4 schema. */
    problems: SpecProblem[];
}

type At = (string | number)[];

/**
 * A model as a draft 4 validator reads it: `required: true` inside a property (a Swagger quirk API
 * Gateway accepts, which draft 4 has no place for) is dropped; everything else is kept.
 */
function draft4Model(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map(draft4Model);
    if (!isObject(schema)) return schema;
    const out: Json = {};
    for (const [key, value] of Object.entries(schema)) {
        if (key === "required" && typeof value === "boolean") continue;
        if (["properties", "patternProperties", "definitions"].includes(key) && isObject(value)) {
            out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, draft4Model(sub)]));
        } else if (["items", "additionalProperties", "additionalItems", "not", "allOf", "anyOf", "oneOf"].includes(key)) {
            out[key] = draft4Model(value);
        } else {
            out[key] = value;
        }
    }
    return out;
}

/** The operation's body schemas with the media types they are the model for: Swagger 2's body parameter, OpenAPI 3's requestBody. */
function bodySchemas(document: Json, item: Json, operation: Json, at: At): { mediaTypes: string[]; schema: unknown; at: At }[] {
    const out: { mediaTypes: string[]; schema: unknown; at: At }[] = [];
    const parameters = Array.isArray(operation.parameters) ? operation.parameters : [];
    const body = parameters.findIndex((p) => isObject(p) && p.in === "body");
    const itemBody = (Array.isArray(item.parameters) ? item.parameters : []).findIndex((p) => isObject(p) && p.in === "body");
    const consumes = (Array.isArray(operation.consumes) ? operation.consumes : Array.isArray(document.consumes) ? document.consumes : ["application/json"]).map(String);
    if (body >= 0) out.push({ mediaTypes: consumes, schema: (parameters[body] as Json).schema, at: [...at, "parameters", body, "schema"] });
    else if (itemBody >= 0) out.push({ mediaTypes: consumes, schema: ((item.parameters as Json[])[itemBody]).schema, at: [...at.slice(0, -1), "parameters", itemBody, "schema"] });
    const content = isObject(operation.requestBody) && isObject(operation.requestBody.content) ? operation.requestBody.content : {};
    for (const [mediaType, entry] of Object.entries(content)) {
        if (isObject(entry) && entry.schema !== undefined) out.push({ mediaTypes: [mediaType], schema: entry.schema, at: [...at, "requestBody", "content", mediaType, "schema"] });
    }
    return out;
}

/** The operation's required path, query and header parameters (its own replace its path item's of the same name and place). */
function requiredParameters(item: Json, operation: Json): { in: Location; name: string; key: string }[] {
    const byKey = new Map<string, { in: Location; name: string; key: string; required: boolean }>();
    for (const list of [item.parameters, operation.parameters]) {
        for (const p of Array.isArray(list) ? list : []) {
            if (!isObject(p) || typeof p.name !== "string" || !["header", "query", "path"].includes(String(p.in))) continue;
            const where: Location = p.in === "query" ? "querystring" : p.in as Location;
            const key = `method.request.${where}.${p.name}`;
            byKey.set(where === "header" ? key.toLowerCase() : key, { in: where, name: p.name, key, required: p.required === true });
        }
    }
    return [...byKey.values()].filter((p) => p.required).map(({ required: _, ...p }) => p).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Each operation's request validation, from the validator it names (else the API's), compiled once.
 * Problems API Gateway's import would refuse are listed, not thrown: the caller refuses them all at once.
 */
export function compileRequestValidation(document: Json): CompiledValidation {
    const problems: SpecProblem[] = [];
    const validators = isObject(document["x-amazon-apigateway-request-validators"]) ? document["x-amazon-apigateway-request-validators"] : {};
    for (const [name, validator] of Object.entries(validators)) {
        for (const flag of ["validateRequestBody", "validateRequestParameters"]) {
            const value = isObject(validator) ? validator[flag] : undefined;
            if (!isObject(validator) || (value !== undefined && typeof value !== "boolean")) {
                problems.push({ pointer: pointer("x-amazon-apigateway-request-validators", name, flag), message: `${flag} is ${JSON.stringify(value)}; expected true or false` });
            }
        }
    }
    const named = (value: unknown, at: At): Json | undefined => {
        if (value === undefined) return undefined;
        if (typeof value === "string" && isObject(validators[value])) return validators[value] as Json;
        problems.push({ pointer: pointer(...at), message: `names the request validator ${JSON.stringify(value)}, which x-amazon-apigateway-request-validators does not define ` +
            `(it defines: ${Object.keys(validators).join(", ") || "none"})` });
        return undefined;
    };
    const apiValidator = named(document["x-amazon-apigateway-request-validator"], ["x-amazon-apigateway-request-validator"]);

    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: false, validateSchema: false });
    const refusedModel = (schema: unknown, at: At): boolean => {
        if (ajv.validateSchema(draft4Model(schema) as object)) return false;
        const findings = (ajv.errors ?? []).map((e) => `${e.instancePath || "the model"} ${e.message ?? e.keyword}, got ${JSON.stringify(e.data)}`);
        problems.push({ pointer: pointer(...at), message: `not a JSON Schema draft 4 model (API Gateway's models are): ${findings.join("; ")}` });
        return true;
    };
    // API Gateway makes a model of every definition, used or not, and refuses one that is no schema.
    const definitions = isObject(document.definitions) ? document.definitions : {};
    const schemas = isObject(document.components) && isObject(document.components.schemas) ? document.components.schemas : {};
    const refusedModels = [
        ...Object.entries(definitions).map(([name, schema]) => refusedModel(schema, ["definitions", name])),
        ...Object.entries(schemas).map(([name, schema]) => refusedModel(schema, ["components", "schemas", name])),
    ].some((refused) => refused);
    // A body schema's $refs point into the document's models: each body compiles beside them.
    const asModels = (byName: Json) => Object.fromEntries(Object.entries(byName).map(([name, schema]) => [name, draft4Model(schema)]));
    const models = { definitions: asModels(definitions), components: { schemas: asModels(schemas) } };
    const compiled = new Map<string, ValidateFunction>();

    const byOperation = new Map<Json, RequestValidation>();
    for (const [route, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
        if (!isObject(item)) continue;
        for (const method of OPERATION_KEYS) {
            const operation = item[method];
            if (!isObject(operation)) continue;
            const at: At = ["paths", route, method];
            const validator = named(operation["x-amazon-apigateway-request-validator"], [...at, "x-amazon-apigateway-request-validator"]) ?? apiValidator;
            const validation: RequestValidation = {};
            if (validator?.validateRequestParameters === true) validation.required = requiredParameters(item, operation);
            for (const body of bodySchemas(document, item, operation, at)) {
                // A refused model is named once, where it is; nothing is compiled against it.
                if (refusedModel(body.schema, body.at) || refusedModels || validator?.validateRequestBody !== true) continue;
                const key = JSON.stringify(body.schema);
                let validate = compiled.get(key);
                if (!validate) {
                    try {
                        validate = ajv.compile({ ...models, allOf: [draft4Model(body.schema)] });
                    } catch (e) {
                        problems.push({ pointer: pointer(...body.at), message: `not a JSON Schema draft 4 model (API Gateway's models are): ${(e as Error).message}` });
                        continue;
                    }
                    compiled.set(key, validate);
                }
                validation.models ??= new Map();
                for (const mediaType of body.mediaTypes) validation.models.set(mediaType.toLowerCase(), validate);
            }
            if (validation.required || validation.models) byOperation.set(operation, validation);
        }
    }
    return { byOperation, problems };
}

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
