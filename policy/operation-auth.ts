// How API Gateway reads an operation's auth from an OpenAPI document (Swagger 2.0 or OpenAPI 3),
// for the pack's methods-use-authorizer rule and for the program, which keeps what a document
// protects itself (openapi/auth-kinds.ts). From AWS's OpenAPI extension reference:
// - x-amazon-apigateway-auth {type: aws_iam | none} on the operation (api-gateway-swagger-extensions-auth);
// - a security requirement naming a scheme with x-amazon-apigateway-authorizer: a Lambda (token,
//   request) or Cognito (cognito_user_pools) authorizer (api-gateway-swagger-extensions-authorizer);
// - a scheme whose x-amazon-apigateway-authtype is awsSigv4: IAM (api-gateway-swagger-extensions-authtype);
// - an apiKey scheme for the x-api-key header: the method requires an API key (apiKeyRequired),
//   as "Configure a method to use API keys with an OpenAPI definition" (api-key-usage-plan-oas) writes it.
// Any other scheme (OAuth, basic, another apiKey) is documentation only: API Gateway enforces nothing for it.

type Doc = Record<string, unknown>;

function isObject(value: unknown): value is Doc {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What one security scheme makes API Gateway enforce. */
export interface SchemeAuth {
    kind: "authorizer" | "iam" | "api-key" | "unenforced";
    /** The authorizer's type (token, request, cognito_user_pools) or the authtype (awsSigv4); "" otherwise. */
    detail: string;
}

/** The document's security schemes: securityDefinitions (Swagger 2.0) or components.securitySchemes (OpenAPI 3). */
export function securitySchemes(doc: Doc): Doc {
    const schemes = doc.swagger !== undefined ? doc.securityDefinitions : isObject(doc.components) ? doc.components.securitySchemes : undefined;
    return isObject(schemes) ? schemes : {};
}

export function schemeAuth(scheme: unknown): SchemeAuth {
    if (!isObject(scheme)) return { kind: "unenforced", detail: "" };
    const authorizer = scheme["x-amazon-apigateway-authorizer"];
    if (isObject(authorizer)) return { kind: "authorizer", detail: String(authorizer.type ?? "").toLowerCase() };
    const authtype = String(scheme["x-amazon-apigateway-authtype"] ?? "");
    if (authtype.toLowerCase() === "awssigv4") return { kind: "iam", detail: authtype };
    if (scheme.type === "apiKey" && scheme.in === "header" && String(scheme.name).toLowerCase() === "x-api-key") return { kind: "api-key", detail: "" };
    return { kind: "unenforced", detail: "" };
}

/** How an operation asks for IAM itself, whatever its security requirements say. */
export const IAM_MARKER = "x-amazon-apigateway-auth: aws_iam";

/** The auth API Gateway applies to one operation, as the document states it. */
export interface OperationAuth {
    /** How the operation says it is public: its own `security: []`, or `x-amazon-apigateway-auth: none` without an authorizer. */
    publicMarker?: string;
    /** How it asks for IAM: "x-amazon-apigateway-auth: aws_iam" or "<scheme>: awsSigv4". */
    iam?: string;
    /** The authorizer of the requirement API Gateway applies. */
    authorizer?: { scheme: string; type: string };
    /** The API key scheme that requirement names. */
    apiKey?: string;
    /** The security requirement list that applies (its own, else the document's), with where it came from. */
    security: unknown;
    source: "its own" | "the document-level";
}

/** Whether the operation's own security or the document-level one applies. */
function effectiveSecurity(doc: Doc, operation: Doc): { security: unknown; source: OperationAuth["source"] } {
    return "security" in operation ? { security: operation.security, source: "its own" } : { security: doc.security, source: "the document-level" };
}

/**
 * The operation's auth. The first requirement that names an enforced scheme is the one API Gateway
 * applies (a method has one authorization type and one authorizer).
 */
export function operationAuth(doc: Doc, operation: Doc): OperationAuth {
    const schemes = securitySchemes(doc);
    const { security, source } = effectiveSecurity(doc, operation);
    const out: OperationAuth = { security, source };
    for (const requirement of Array.isArray(security) ? security : []) {
        const names = isObject(requirement) ? Object.keys(requirement) : [];
        const enforced = names.map((name) => ({ name, auth: schemeAuth(schemes[name]) })).filter((s) => s.auth.kind !== "unenforced");
        if (enforced.length === 0) continue;
        for (const { name, auth } of enforced) {
            if (auth.kind === "authorizer") out.authorizer ??= { scheme: name, type: auth.detail };
            if (auth.kind === "iam") out.iam ??= `${name}: ${auth.detail}`;
            if (auth.kind === "api-key") out.apiKey ??= name;
        }
        break;
    }
    const declared = operation["x-amazon-apigateway-auth"];
    const type = isObject(declared) ? String(declared.type).toLowerCase() : undefined;
    if (type === "aws_iam") out.iam = IAM_MARKER;
    if (Array.isArray(operation.security) && operation.security.length === 0) out.publicMarker = "security: []";
    // API Gateway's own marker counts unless the operation's own security names an authorizer.
    else if (type === "none" && !(source === "its own" && out.authorizer)) out.publicMarker = "x-amazon-apigateway-auth: none";
    return out;
}

/**
 * Whether an operation is a CORS preflight: every OPTIONS operation, whatever answers it (a mock, or
 * a backend that answers CORS itself), since a browser sends the preflight without the call's
 * credentials either way (Fetch standard, "CORS-preflight request"). The one rule for both readers:
 * the program serves the preflights a document leaves open as public (openapi/auth-kinds.ts, unless
 * gateway:publicPreflights is false), and the pack lets a public preflight go unlisted in its
 * publicRoutes (unless its publicPreflights is false).
 */
export function isPreflight(method: string): boolean {
    return method.toLowerCase() === "options";
}
