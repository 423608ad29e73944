// What PutRestApi's import reports for a REST API body (preview/aws-rules/rest-api-import.ts), each
// warning pinned with a body that has it and one that does not. With failOnWarnings, any of them
// fails `pulumi up`; the mock cloud refuses them as it would.
import * as assert from "assert";
import { importProblems } from "../../preview/aws-rules/rest-api-import";

const integration = { type: "http", httpMethod: "POST", uri: "https://example.org/x", responses: { default: { statusCode: "200" } } };

/** A Swagger 2 body whose POST /x takes `schema` as its body parameter. */
function bodyWithModel(schema: Record<string, unknown>): string {
    return JSON.stringify({
        swagger: "2.0",
        paths: { "/x": { post: { parameters: [{ in: "body", name: "body", required: true, schema }], responses: { 200: { description: "ok" } }, "x-amazon-apigateway-integration": integration } } },
    });
}

describe("PutRestApi's import warnings (the mock cloud's apigateway.import-warnings)", () => {
    it("warns of a model whose property carries required: true, which JSON Schema draft 4 does not allow, naming the pointer", () => {
        const problems = importProblems(bodyWithModel({ type: "array", items: { type: "object", properties: { a: { type: "string", required: true }, b: { type: "string", required: false } } } }));
        assert.deepStrictEqual(problems.map((p) => p.pointer), [
            "#/paths/~1x/post/parameters/0/schema/items/properties/a/required",
            "#/paths/~1x/post/parameters/0/schema/items/properties/b/required",
        ]);
        assert.strictEqual(problems[0].message, 'property a carries required: true; an API Gateway model is JSON Schema draft 4, which takes required: ["a"] on its object, so the import cannot create this model');
    });

    it("warns of an empty required list too (draft 4: at least one name), in definitions and OpenAPI 3 components alike", () => {
        const oas3 = JSON.stringify({ openapi: "3.0.1", paths: {}, components: { schemas: { Loan: { type: "object", required: [], properties: { id: { type: "string" } } } } } });
        assert.deepStrictEqual(importProblems(oas3).map((p) => p.pointer), ["#/components/schemas/Loan/required"]);
        const swagger = JSON.stringify({ swagger: "2.0", paths: {}, definitions: { Loan: { type: "object", properties: { id: { type: "string", required: true } } } } });
        assert.deepStrictEqual(importProblems(swagger).map((p) => p.pointer), ["#/definitions/Loan/properties/id/required"]);
    });

    it("accepts required as a list of names on the object, and a parameter's own required: true", () => {
        const nested = { type: "object", required: ["street"], properties: { street: { type: "string" } } };
        assert.deepStrictEqual(importProblems(bodyWithModel({ type: "array", items: { type: "object", required: ["a"], properties: { a: { type: "string" }, required: { type: "boolean" }, address: nested } } })), []);
    });
});
