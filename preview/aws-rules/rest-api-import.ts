// What API Gateway's OpenAPI import (PutRestApi) reports as warnings for a REST API body, for the
// parts of the document the program writes: an integration response is put on the method response
// of its statusCode, so one whose status code the operation's responses lack cannot be created and
// is reported ("x-amazon-apigateway-integration.responses object": statusCode "is used to map to a
// method response"); gateway responses carry statusCode as a string ("x-amazon-apigateway-gateway-
// responses.gatewayResponse object": statusCode, string). Sources: API Gateway developer guide pages
// named, and the API reference for PutRestApi (warnings, failonwarnings).

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

/** Every warning PutRestApi would report for these parts of `body` (a JSON document). */
export function importProblems(body: string): ImportProblem[] {
    let doc: unknown;
    try {
        doc = JSON.parse(body);
    } catch (e) {
        return [{ pointer: "", message: `the body is not JSON: ${(e as Error).message}` }];
    }
    if (!isObject(doc)) return [{ pointer: "", message: "the body is not an OpenAPI document" }];
    const problems: ImportProblem[] = [];
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
