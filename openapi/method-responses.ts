// What API Gateway's OpenAPI import would warn about, added before the body is put: an integration
// response is created on the method response of its statusCode, so for a status code the
// operation's `responses` lack, PutRestApi cannot create it and reports a warning (API Gateway
// developer guide, "x-amazon-apigateway-integration.responses object": statusCode "is used to map to
// a method response"; API reference, PutRestApi: warnings, failonwarnings). The slot imports with
// failOnWarnings, so each such status code gets an empty method response here, and the preview
// lists what was added. Swagger 2 and OpenAPI 3 both take `{description}` as a minimal response.
import type { Operation } from "./document";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Adds a method response for every status code an operation's integration responses use and its responses lack; returns "<status> added to <METHOD /path>" for each. */
export function addIntegrationMethodResponses(operations: Operation[]): string[] {
    const added: string[] = [];
    for (const op of operations) {
        const integration = op.operation["x-amazon-apigateway-integration"];
        if (!isObject(integration) || !isObject(integration.responses)) continue;
        if (!isObject(op.operation.responses)) op.operation.responses = {};
        const responses = op.operation.responses as Json;
        for (const response of Object.values(integration.responses)) {
            const status = isObject(response) ? String(response.statusCode ?? "") : "";
            if (!/^[1-5]\d\d$/.test(status) || status in responses) continue;
            responses[status] = { description: `status ${status} of the backend's answer (its integration response maps to it; added by api-ring so the import creates that integration response)` };
            added.push(`${status} added to ${op.label}`);
        }
    }
    return added;
}
