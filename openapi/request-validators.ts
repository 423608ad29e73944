// The request validators a document declares, as API Gateway reads them: which validator each
// operation uses (its own x-amazon-apigateway-request-validator, else the API's), which parameters it
// requires, and each body's model compiled as JSON Schema draft 4 (ajv-draft-04). What API Gateway's
// import refuses (a validator name the API does not define, a flag that is not true or false, a model
// that is no draft 4 schema) is listed here, so the program, the preview and the local run refuse the
// same document (openapi/checks.ts); the local run validates requests with what this compiles
// (local/request-validation.ts). Sources: AWS's developer guide, "Request validation for REST APIs in
// API Gateway", the extension reference (x-amazon-apigateway-request-validators,
// .requestValidator, x-amazon-apigateway-request-validator), and LocalStack's API Gateway tests
// recorded against AWS (tests/aws/services/apigateway/test_apigateway_common.py) for the order in
// which missing parameters are listed.
import Ajv, { ValidateFunction } from "ajv-draft-04";
import { Json, OPERATION_KEYS, SpecProblem, isObject, pointer } from "./document";

export type Location = "header" | "querystring" | "path";

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
