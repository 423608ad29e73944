// Rule 6: every operation of the REST API that the spec does not mark public is protected: by the
// ring's Lambda authorizer, or by what the document keeps of its own (IAM, an API key, a Lambda or
// Cognito authorizer). The RestApi body is the OpenAPI document (Swagger 2.0 or OpenAPI 3) as JSON.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { IAM_MARKER, isPreflight, operationAuth, schemeAuth, securitySchemes } from "../operation-auth";
import { UNKNOWN, forTypes, read } from "./support";
import { T } from "./types";

type Doc = Record<string, unknown>;

export const OPERATIONS = ["get", "put", "post", "delete", "options", "head", "patch", "trace", "x-amazon-apigateway-any-method"];

function isObject(v: unknown): v is Doc {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Names of the security schemes that carry x-amazon-apigateway-authorizer. */
export function authorizerSchemes(doc: Doc): string[] {
    const schemes = securitySchemes(doc);
    return Object.keys(schemes).filter((k) => schemeAuth(schemes[k]).kind === "authorizer");
}

/**
 * What is wrong with an effective security requirement list; undefined when every alternative names a
 * scheme API Gateway enforces (an authorizer, IAM or an API key), so no caller gets through without one.
 */
function securityProblem(security: unknown, schemes: Doc, source: string): string | undefined {
    if (security === undefined) return "has no security requirement (neither its own nor a document-level default)";
    if (!Array.isArray(security)) return `has ${source} security that is not a list`;
    if (security.length === 0) return `inherits an empty document-level security list; mark it public with its own security: [] or name the authorizer`;
    for (const alternative of security) {
        const names = isObject(alternative) ? Object.keys(alternative) : [];
        if (names.length === 0) return `has an empty requirement ({}) in ${source} security, which lets callers skip the authorizer`;
        if (!names.some((n) => schemeAuth(schemes[n]).kind !== "unenforced")) {
            return `has a requirement (${names.join(", ")}) in ${source} security that names no scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM or an API key)`;
        }
    }
    return undefined;
}

/**
 * Every unprotected operation of an OpenAPI document, as "METHOD /path: problem". Protection is the
 * ring's authorizer or the document's own (IAM, an API key, its own Lambda or Cognito authorizer,
 * policy/operation-auth.ts). With `allowedPublic` (policy config publicRoutes), an operation marked
 * public but not listed there is a problem too, except a CORS preflight (any OPTIONS operation, the
 * program's rule: isPreflight) unless `preflightsPublic` is false.
 */
export function unprotectedOperations(doc: Doc, allowedPublic?: string[], preflightsPublic = true): string[] {
    const schemes = securitySchemes(doc);
    const out: string[] = [];
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [route, item] of Object.entries(paths)) {
        if (!isObject(item)) continue;
        for (const method of OPERATIONS.filter((m) => isObject(item[m]))) {
            const operation = item[method] as Doc;
            const label = `${method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase()} ${route}`;
            const auth = operationAuth(doc, operation);
            if (auth.iam === IAM_MARKER) continue; // the method's authorization type is AWS_IAM, whatever its requirements say
            if (auth.publicMarker) {
                const preflight = preflightsPublic && isPreflight(method);
                if (allowedPublic && !allowedPublic.includes(label) && !preflight) out.push(`${label} is public (${auth.publicMarker}) but not in the policy's publicRoutes`);
                continue;
            }
            const problem = securityProblem(auth.security, schemes, auth.source);
            if (problem) out.push(`${label} ${problem}`);
        }
    }
    return out;
}

interface AuthorizerPolicyConfig {
    /** The only operations allowed to be public ("METHOD /path"); unset: whatever the document marks public. */
    publicRoutes?: string[];
    /** Whether OPTIONS operations (CORS preflights) may be public without being listed in publicRoutes; default true. */
    publicPreflights?: boolean;
}

export const methodsUseAuthorizer: ResourceValidationPolicy = {
    name: "methods-use-authorizer",
    description: "Every operation of a REST API's OpenAPI body (Swagger 2.0 or OpenAPI 3) is protected by a scheme API Gateway enforces (a Lambda or Cognito authorizer, IAM, an API key), unless it is marked public (security: [] or x-amazon-apigateway-auth: {type: none}) and, when the policy lists publicRoutes, listed there (OPTIONS operations, CORS preflights, need not be).",
    remediationSteps: "Add `security: [{ <authorizer scheme>: [] }]` to the operation (or as the document-level default), or mark a deliberately public operation with `security: []` (gateway:publicRoutes does so) and, if the policy lists publicRoutes, add it there.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            publicRoutes: { type: "array", items: { type: "string" }, description: "The only operations allowed to be public, as METHOD /path (ANY for x-amazon-apigateway-any-method); unset: any the document marks public." },
            publicPreflights: { type: "boolean", description: "Whether OPTIONS operations (CORS preflights, which browsers send without credentials) may be public without being listed in publicRoutes, as the program serves them; default true." },
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
        const { publicRoutes: allowed, publicPreflights } = args.getConfig<AuthorizerPolicyConfig>();
        for (const problem of unprotectedOperations(doc, allowed, publicPreflights !== false)) {
            report(`${args.name}: ${problem}; add the authorizer's security requirement, or mark it public with security: []${allowed ? " and list it in the policy's publicRoutes" : ""}.`);
        }
    }),
};
