// What API Gateway's OpenAPI import (PutRestApi) reports as warnings for a REST API body, for the
// parts of the document the program writes: an integration response is put on the method response
// of its statusCode, so one whose status code the operation's responses lack cannot be created and
// is reported ("x-amazon-apigateway-integration.responses object": statusCode "is used to map to a
// method response"); gateway responses carry statusCode as a string ("x-amazon-apigateway-gateway-
// responses.gatewayResponse object": statusCode, string). Sources: API Gateway developer guide pages
// named, and the API reference for PutRestApi (warnings, failonwarnings).
//
// A schema the import makes a model of must be JSON Schema draft 4 (developer guide, "Amazon API
// Gateway important notes for REST APIs": "API Gateway models are defined using JSON schema draft 4";
// API reference, Model: schema "should be JSON schema draft 4 model"), where `required` is a non-empty
// list of property names on the object (draft 4 validation, section 5.4.3: "MUST be an array. This
// array MUST have at least one element"), never a boolean on the property. API Gateway checks a model
// against that meta-schema and refuses one that breaks it: aws/aws-cdk#27433, `required: []` refused by
// CreateModel with "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model
// schema specified]". The import reports what it cannot create of the document instead of creating it
// ("Errors and warnings from importing your API into API Gateway": warnings "for minor issues like a
// missing model reference"; the console import's model messages in amazon-archives/aws-apigateway-importer#194,
// e.g. "Reference to model ... not found. Ignoring."): with failOnWarnings such a model fails the update.
//
// Not modelled, for want of a source saying the import warns of it: an operationId shared by several
// operations. OpenAPI wants it unique; API Gateway stores it as the method's operationName (API
// reference, Method: "A human-friendly operation identifier for the method"), with no uniqueness rule.

export interface ImportProblem {
    pointer: string;
    message: string;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pointer(...parts: string[]): string {
    return "#" + parts.map((p) => `/${p.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** A value draft 4 accepts as `required`: a non-empty list of names. */
function isRequiredList(value: unknown): boolean {
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string");
}

/**
 * Every `required` of a model schema that draft 4's meta-schema refuses: on a property (of `properties`)
 * or on an object schema (one with `properties`), anything but a non-empty list of names. A parameter's
 * own `required: true` (Swagger 2, OpenAPI 3) is no schema's and stays out.
 */
function modelSchemaProblems(doc: Json): ImportProblem[] {
    const problems: ImportProblem[] = [];
    const walk = (value: unknown, at: string[], property?: string): void => {
        if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, String(i)]));
        if (!isObject(value)) return;
        if ((property !== undefined || isObject(value.properties)) && "required" in value && !isRequiredList(value.required)) {
            const wanted = Array.isArray(value.required) || property === undefined ? "a non-empty list of property names" : `required: ["${property}"] on its object`;
            problems.push({
                pointer: pointer(...at, "required"),
                message: `${property === undefined ? "an object schema" : `property ${property}`} carries required: ${JSON.stringify(value.required)}; ` +
                    `an API Gateway model is JSON Schema draft 4, which takes ${wanted}, so the import cannot create this model`,
            });
        }
        for (const [key, child] of Object.entries(value)) {
            if (key === "properties" && isObject(child)) {
                for (const [name, schema] of Object.entries(child)) walk(schema, [...at, key, name], name);
            } else {
                walk(child, [...at, key]);
            }
        }
    };
    walk(doc, []);
    return problems;
}

/** Every warning PutRestApi would report for these parts of `body` (a JSON document). */
export function importProblems(body: string): ImportProblem[] {
    let doc: unknown;
    try {
        doc = JSON.parse(body);
    } catch (e) {
        return [{ pointer: "", message: `the body is not JSON: ${(e as Error).message}` }];
    }
    if (!isObject(doc)) return [{ pointer: "", message: "the body is not an OpenAPI document" }];
    const problems: ImportProblem[] = modelSchemaProblems(doc);
    for (const [route, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
        if (!isObject(item)) continue;
        for (const method of METHODS) {
            const operation = item[method];
            if (!isObject(operation)) continue;
            const integration = operation["x-amazon-apigateway-integration"];
            const responses = isObject(integration) && isObject(integration.responses) ? integration.responses : {};
            const declared = isObject(operation.responses) ? operation.responses : {};
            for (const [selection, response] of Object.entries(responses)) {
                const status = isObject(response) ? String(response.statusCode ?? "") : "";
                if (status !== "" && !(status in declared)) {
                    problems.push({
                        pointer: pointer("paths", route, method, "x-amazon-apigateway-integration", "responses", selection),
                        message: `unable to put integration response on '${method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase()}' for resource at path '${route}': ` +
                            `no method response for status code ${status}`,
                    });
                }
            }
        }
    }
    const gatewayResponses = doc["x-amazon-apigateway-gateway-responses"];
    for (const [type, response] of Object.entries(isObject(gatewayResponses) ? gatewayResponses : {})) {
        if (isObject(response) && response.statusCode !== undefined && typeof response.statusCode !== "string") {
            problems.push({
                pointer: pointer("x-amazon-apigateway-gateway-responses", type, "statusCode"),
                message: `gateway response ${type}: statusCode ${JSON.stringify(response.statusCode)} is a ${typeof response.statusCode}; the extension takes a string such as "401"`,
            });
        }
    }
    return problems;
}

/**
 * Why CreateDeployment would refuse a deployment of the REST API imported from `body`, if it would:
 * an API with no method ("The REST API doesn't contain any methods"), or a method with no integration
 * ("No integration defined for method").
 */
export function deploymentProblem(body: string): string | undefined {
    let doc: unknown;
    try {
        doc = JSON.parse(body);
    } catch {
        return undefined; // importProblems reports a body that is not JSON
    }
    const paths = isObject(doc) && isObject(doc.paths) ? doc.paths : {};
    const operations = Object.entries(paths).flatMap(([route, item]) =>
        isObject(item) ? METHODS.filter((m) => isObject(item[m])).map((m) => ({ route, method: m, operation: item[m] as Json })) : []);
    if (operations.length === 0) return "The REST API doesn't contain any methods";
    const bare = operations.find((o) => !isObject(o.operation["x-amazon-apigateway-integration"]));
    return bare ? `No integration defined for method ${bare.method === "x-amazon-apigateway-any-method" ? "ANY" : bare.method.toUpperCase()} ${bare.route}` : undefined;
}
