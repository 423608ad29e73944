// Rule 6: every operation of the REST API that the spec does not mark public uses the Lambda
// authorizer. The RestApi body is the OpenAPI document (Swagger 2.0 or OpenAPI 3) as JSON.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, forTypes, read } from "./support";
import { T } from "./types";

type Doc = Record<string, unknown>;

export const OPERATIONS = ["get", "put", "post", "delete", "options", "head", "patch", "trace", "x-amazon-apigateway-any-method"];

function isObject(v: unknown): v is Doc {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Names of the security schemes that carry x-amazon-apigateway-authorizer. */
export function authorizerSchemes(doc: Doc): string[] {
    const schemes = doc.swagger !== undefined ? doc.securityDefinitions : isObject(doc.components) ? doc.components.securitySchemes : undefined;
    return isObject(schemes) ? Object.keys(schemes).filter((k) => isObject(schemes[k]) && isObject((schemes[k] as Doc)["x-amazon-apigateway-authorizer"])) : [];
}

/** What is wrong with an effective security requirement list; undefined when every alternative uses an authorizer. */
function securityProblem(security: unknown, authorizers: string[], source: string): string | undefined {
    if (security === undefined) return "has no security requirement (neither its own nor a document-level default)";
    if (!Array.isArray(security)) return `has ${source} security that is not a list`;
    if (security.length === 0) return `inherits an empty document-level security list; mark it public with its own security: [] or name the authorizer`;
    for (const alternative of security) {
        const names = isObject(alternative) ? Object.keys(alternative) : [];
        if (names.length === 0) return `has an empty requirement ({}) in ${source} security, which lets callers skip the authorizer`;
        if (!names.some((n) => authorizers.includes(n))) return `has a requirement (${names.join(", ")}) in ${source} security that names no scheme with x-amazon-apigateway-authorizer`;
    }
    return undefined;
}

/**
 * How an operation says it is public: its own `security: []` (OpenAPI's way), or API Gateway's own
 * `x-amazon-apigateway-auth: {type: none}` with no security requirement naming an authorizer.
 * The program also writes `security: []` for the operations listed in gateway:publicRoutes.
 */
function publicMarker(operation: Doc, authorizers: string[]): string | undefined {
    const own = "security" in operation;
    if (own && Array.isArray(operation.security) && operation.security.length === 0) return "security: []";
    const auth = operation["x-amazon-apigateway-auth"];
    const namesAuthorizer = own && Array.isArray(operation.security) &&
        operation.security.some((alternative) => isObject(alternative) && Object.keys(alternative).some((n) => authorizers.includes(n)));
    if (isObject(auth) && String(auth.type).toLowerCase() === "none" && !namesAuthorizer) return "x-amazon-apigateway-auth: none";
    return undefined;
}

/**
 * Every unprotected operation of an OpenAPI document, as "METHOD /path: problem". With
 * `allowedPublic` (policy config publicRoutes), an operation marked public but not listed there
 * is a problem too.
 */
export function unprotectedOperations(doc: Doc, allowedPublic?: string[]): string[] {
    const authorizers = authorizerSchemes(doc);
    const out: string[] = [];
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [route, item] of Object.entries(paths)) {
        if (!isObject(item)) continue;
        for (const method of OPERATIONS.filter((m) => isObject(item[m]))) {
            const operation = item[method] as Doc;
            const label = `${method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase()} ${route}`;
            const marker = publicMarker(operation, authorizers);
            if (marker) {
                if (allowedPublic && !allowedPublic.includes(label)) out.push(`${label} is public (${marker}) but not in the policy's publicRoutes`);
                continue;
            }
            const own = "security" in operation;
            const problem = securityProblem(own ? operation.security : doc.security, authorizers, own ? "its own" : "the document-level");
            if (problem) out.push(`${label} ${problem}`);
        }
    }
    return out;
}

interface AuthorizerPolicyConfig {
    /** The only operations allowed to be public ("METHOD /path"); unset: whatever the document marks public. */
    publicRoutes?: string[];
}

export const methodsUseAuthorizer: ResourceValidationPolicy = {
    name: "methods-use-authorizer",
    description: "Every operation of a REST API's OpenAPI body (Swagger 2.0 or OpenAPI 3) uses a security scheme carrying x-amazon-apigateway-authorizer, unless it is marked public (security: [] or x-amazon-apigateway-auth: {type: none}) and, when the policy lists publicRoutes, listed there.",
    remediationSteps: "Add `security: [{ <authorizer scheme>: [] }]` to the operation (or as the document-level default), or mark a deliberately public operation with `security: []` (gateway:publicRoutes does so) and, if the policy lists publicRoutes, add it there.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            publicRoutes: { type: "array", items: { type: "string" }, description: "The only operations allowed to be public, as METHOD /path (ANY for x-amazon-apigateway-any-method); unset: any the document marks public." },
        },
    },
    validateResource: forTypes([T.restApi], (args, report) => {
        const body = read(args.props, "body");
        if (body === UNKNOWN || body === undefined) return; // no body: the API is built from separate method resources, which this rule does not cover
        let doc: unknown;
        try {
            doc = typeof body === "string" ? JSON.parse(body) : body;
        } catch {
            report(`${args.name}: body is not JSON, so its authorizer coverage cannot be checked; pass the OpenAPI document as JSON (JSON.stringify the bundled spec).`);
            return;
        }
        if (!isObject(doc)) return;
        if (authorizerSchemes(doc).length === 0) {
            report(`${args.name}: the OpenAPI body defines no security scheme with x-amazon-apigateway-authorizer; define the Lambda authorizer (${doc.swagger !== undefined ? "securityDefinitions" : "components.securitySchemes"}).`);
        }
        const allowed = args.getConfig<AuthorizerPolicyConfig>().publicRoutes;
        for (const problem of unprotectedOperations(doc, allowed)) {
            report(`${args.name}: ${problem}; add the authorizer's security requirement, or mark it public with security: []${allowed ? " and list it in the policy's publicRoutes" : ""}.`);
        }
    }),
};
