// The shapes every part of the OpenAPI pipeline shares: the document as JSON, its operations, where a
// finding sits in it (a JSON pointer), and the error that lists every finding at once.
import type { ServedAuth } from "./auth-kinds";
import type { LambdaInvocation } from "./lambda-permissions";

/** Operation keys of a path item that API Gateway turns into methods (ANY is its extension). */
export const OPERATION_KEYS = ["get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"];
export const ANY_METHOD = "x-amazon-apigateway-any-method";

export type Json = Record<string, unknown>;

/** One finding, located by a JSON pointer into the bundled document ("#/paths/~1heartbeat/get"). */
export interface SpecProblem {
    pointer: string;
    message: string;
}

export interface BundledSpec {
    /** "2.0" (Swagger) or "3.x" (OpenAPI). */
    version: string;
    /** The single-document API with the authorizer injected; the URI is a placeholder. */
    document: Json;
    /** sha256 of `render(AUTHORIZER_URI_PLACEHOLDER)`: changes exactly when the served API changes. */
    sha256: string;
    /**
     * The stage variables the document uses, in any spelling (`${stageVariables.x}`, `$stageVariables.x`,
     * `stageVariables.x`), each with where it is used.
     */
    stageVariableUses: Record<string, string[]>;
    /** "METHOD /path" of every operation served without any auth. */
    publicOperations: string[];
    /** Why each public operation is public: `security: []`, `x-amazon-apigateway-auth: none`, `gateway:publicRoutes` or `CORS preflight`. */
    publicReasons: Record<string, string>;
    /** "METHOD /path" of every operation behind the ring's authorizer. */
    protectedOperations: string[];
    /** How each operation is served: the ring's authorizer, the document's own auth (IAM, API key, its own authorizer), or none. */
    operationAuth: Record<string, ServedAuth>;
    /** The media types API Gateway passes through as binary: the document's and config's, merged (also in the document). */
    binaryMediaTypes: string[];
    /** The Lambda functions the document has API Gateway invoke without credentials, as it names them (stage variables unresolved). */
    lambdaInvocations: LambdaInvocation[];
    /** What the preview prints besides the operations: the binary media types, how the gateway responses combine. */
    notes: string[];
    /** Upstream quirks API Gateway accepts: printed, never refused. */
    warnings: SpecProblem[];
    /** Method responses added for the status codes integration responses use ("201 added to GET /x"), so the import warns of none. */
    addedMethodResponses: string[];
    /** Property-level `required: true` moved to the object's list, as a draft 4 model takes it ("id at #/definitions/Loan"), so the import warns of none. */
    movedRequired: string[];
    /** The document as JSON with the authorizer's real invocation URI. */
    render(authorizerUri: string): string;
}

export class SpecError extends Error {
    constructor(readonly file: string, reason: string, readonly problems: SpecProblem[] = []) {
        super(`gateway:spec: cannot use ${file}: ${reason}` + problems.map((p) => `\n  - ${formatProblem(p)}`).join(""));
        this.name = "SpecError";
    }
}

/** "#/paths/~1x/get: message", or the message alone for a document-wide problem. */
export function formatProblem(problem: SpecProblem): string {
    return problem.pointer ? `${problem.pointer}: ${problem.message}` : problem.message;
}

/** A JSON pointer (RFC 6901) as a URI fragment. */
export function pointer(...segments: (string | number)[]): string {
    return "#" + segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** "GET /path", "ANY /path": an operation as config and messages name it. */
export function operationLabel(method: string, route: string): string {
    return `${method === ANY_METHOD ? "ANY" : method.toUpperCase()} ${route}`;
}

export function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export interface Operation {
    route: string;
    method: string;
    label: string;
    at: (string | number)[];
    operation: Json;
    item: Json;
}

export function operationsOf(doc: Json): Operation[] {
    const out: Operation[] = [];
    for (const [route, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
        if (!isObject(item)) continue;
        for (const method of OPERATION_KEYS) {
            const operation = item[method];
            if (isObject(operation)) out.push({ route, method, label: operationLabel(method, route), at: ["paths", route, method], operation, item });
        }
    }
    return out;
}
