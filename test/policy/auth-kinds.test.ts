// methods-use-authorizer on a document that keeps its own auth (issue 19): an operation is
// protected by the ring's authorizer, by IAM (x-amazon-apigateway-auth aws_iam, or a scheme whose
// x-amazon-apigateway-authtype is awsSigv4), by an API key (an apiKey scheme named x-api-key in
// the header, as AWS's "Configure a method to use API keys with an OpenAPI definition" writes it)
// or by an authorizer of its own (Lambda or Cognito); public only where the document marks it, and
// an OPTIONS operation is a CORS preflight, by the rule the program serves it with.
import * as assert from "assert";
import { PolicyConfig, Violation, checkStack } from "../../policy/offline";
import { checkStackOffline } from "../../preview/policy-check";
import { anyDocumentOverrides } from "../support/any-document";
import { PROJECT } from "../support/upstream";
import { stack, withChange } from "./fixtures";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- editing a parsed document

const MOCK = { type: "mock", requestTemplates: { "application/json": "{\"statusCode\": 200}" } };

/** The good stack's API with every scheme kind a document may bring, and `paths` as given. */
function withPaths(paths: Json, extra: Json = {}): ReturnType<typeof stack> {
    return withChange("api", (i) => {
        const doc = JSON.parse(i.body);
        doc.securityDefinitions = {
            ...doc.securityDefinitions,
            api_key: { type: "apiKey", name: "x-api-key", in: "header" },
            sigv4: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authtype": "awsSigv4" },
            staff: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": { type: "cognito_user_pools", providerARNs: ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Staff0001"] } },
            oauth: { type: "oauth2", flow: "implicit", authorizationUrl: "https://id.example.org/authorize", scopes: {} },
        };
        Object.assign(doc.paths, paths);
        Object.assign(doc, extra);
        i.body = JSON.stringify(doc);
    });
}

function authorizerViolations(violations: Violation[]): string[] {
    assert.deepStrictEqual(violations.filter((v) => v.policy !== "methods-use-authorizer"), [], "only methods-use-authorizer is violated");
    return violations.map((v) => v.message);
}

describe("policy pack: methods-use-authorizer knows every kind of protection a document may keep", () => {
    it("counts IAM, an API key and an authorizer of the document's own as protection", () => {
        const v = checkStack(withPaths({
            "/photos/{name}": { put: { "x-amazon-apigateway-auth": { type: "aws_iam" } } },
            "/adoptions": { post: { security: [{ sigv4: [] }] } },
            "/pets": { get: { security: [{ api_key: [] }] }, post: { security: [{ staff: [] }] }, delete: { security: [{ staff: [], api_key: [] }] } },
        }));
        assert.deepStrictEqual(authorizerViolations(v), []);
    });

    it("counts an API key required document-wide, and IAM in OpenAPI 3", () => {
        assert.deepStrictEqual(authorizerViolations(checkStack(withPaths({ "/keys": { get: {} } }, { security: [{ api_key: [] }] }))), []);
        const oas3 = withChange("api", (i) => {
            i.body = JSON.stringify({
                openapi: "3.0.1",
                components: { securitySchemes: {
                    threescale: { type: "apiKey", name: "X-Api-Key", in: "header", "x-amazon-apigateway-authorizer": { type: "token" } },
                    sigv4: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authtype": "awsSigv4" },
                } },
                paths: { "/reports": { get: { security: [{ sigv4: [] }] } }, "/orders": { get: { security: [{ threescale: [] }] } } },
            });
        });
        assert.deepStrictEqual(authorizerViolations(checkStack(oas3)), []);
    });

    it("still reports a requirement API Gateway does not enforce (an OAuth scheme without an authorizer), and an apiKey scheme under another name", () => {
        const v = checkStack(withPaths({
            "/profile": { get: { security: [{ oauth: [] }] } },
            "/partners": { get: { security: [{ partnerKey: [] }] } },
        }, { securityDefinitions: {
            threescale: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authorizer": { type: "token" } },
            oauth: { type: "oauth2", flow: "implicit", authorizationUrl: "https://id.example.org/authorize", scopes: {} },
            partnerKey: { type: "apiKey", name: "X-Partner-Key", in: "header" },
        } }));
        assert.deepStrictEqual(authorizerViolations(v), [
            "api: GET /profile has a requirement (oauth) in its own security that names no scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM or an API key); add the authorizer's security requirement, or mark it public with security: [].",
            "api: GET /partners has a requirement (partnerKey) in its own security that names no scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM or an API key); add the authorizer's security requirement, or mark it public with security: [].",
        ]);
    });

    it("with publicRoutes pinned, lets OPTIONS operations stay public as CORS preflights, a mock or one its backend answers, as the program serves them", () => {
        const config: PolicyConfig = { "methods-use-authorizer": { publicRoutes: ["GET /heartbeat"] } };
        const v = checkStack(withPaths({
            "/albums": { options: { security: [], "x-amazon-apigateway-integration": MOCK } },
            "/legacy": { options: { security: [], "x-amazon-apigateway-integration": { type: "http_proxy", httpMethod: "OPTIONS", uri: "https://legacy.example.org/" } } },
            "/uploads": { post: { security: [], "x-amazon-apigateway-integration": MOCK } },
        }), config);
        assert.deepStrictEqual(authorizerViolations(v), [
            "api: POST /uploads is public (security: []) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
        ]);
        const strict = checkStack(withPaths({ "/albums": { options: { security: [], "x-amazon-apigateway-integration": MOCK } } }),
            { "methods-use-authorizer": { publicRoutes: ["GET /heartbeat"], publicPreflights: false } });
        assert.deepStrictEqual(authorizerViolations(strict), [
            "api: OPTIONS /albums is public (security: []) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
        ]);
    });

    it("agrees with the program on the orders document's preflight its backend answers: public in both, or behind the authorizer in both", function () {
        this.timeout(180_000);
        const pinned = (publicPreflights: boolean): PolicyConfig => ({ "methods-use-authorizer": { publicRoutes: [], publicPreflights } });
        const served = checkStackOffline("red", pinned(true), PROJECT, anyDocumentOverrides("orders"));
        assert.deepStrictEqual(served.violations, []);
        const optedOut = checkStackOffline("red", pinned(false), PROJECT, anyDocumentOverrides("orders", { "gateway:publicPreflights": "false" }));
        assert.deepStrictEqual(optedOut.violations, []);
        const stricter = checkStackOffline("red", pinned(false), PROJECT, anyDocumentOverrides("orders"));
        assert.deepStrictEqual(stricter.violations.map((v) => v.message), [
            "red-gateway-api: OPTIONS /orders/{orderId}/invoice is public (security: []) but not in the policy's publicRoutes; add the authorizer's security requirement, or mark it public with security: [] and list it in the policy's publicRoutes.",
        ]);
    });
});
