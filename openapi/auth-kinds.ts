// Which auth each operation is served with. The document's own is kept (IAM, an API key, its own
// Lambda or Cognito authorizer: policy/operation-auth.ts reads them as API Gateway does); an
// operation that says nothing gets the ring's authorizer, except an OPTIONS operation, a CORS
// preflight that browsers send without credentials, which is public. Config may put any operation
// behind the ring's authorizer instead (gateway:authorizerRoutes: the document's auth is removed,
// since a method has one authorization type) and may open operations the document leaves open
// (gateway:publicRoutes), never one it protects.
import { isPreflight, operationAuth } from "../policy/operation-auth";
import { Json, Operation, SpecProblem, isObject, pointer } from "./document";

export type AuthKind = "ring-authorizer" | "iam" | "api-key" | "own-authorizer" | "public";

/** The kinds in the order the preview counts them, with the words it uses. */
export const AUTH_KINDS: readonly { kind: AuthKind; name: string }[] = [
    { kind: "ring-authorizer", name: "behind the ring's authorizer" },
    { kind: "iam", name: "IAM" },
    { kind: "api-key", name: "API key" },
    { kind: "own-authorizer", name: "own authorizer" },
    { kind: "public", name: "public" },
];

export interface ServedAuth {
    kind: AuthKind;
    /** Why: the document's marker or scheme, or the config key ("" for the ring's authorizer by default). */
    reason: string;
    /** The document's own auth that config replaced by the ring's authorizer, e.g. "IAM (sigv4: awsSigv4)". */
    replaced?: string;
}

export interface AuthRouting {
    /** Operations served without any auth (gateway:publicRoutes). */
    publicRoutes?: string[];
    /** Operations put behind the ring's authorizer whatever the document says (gateway:authorizerRoutes). */
    authorizerRoutes?: string[];
    /** Whether OPTIONS operations the document leaves open are public (gateway:publicPreflights, default true). */
    publicPreflights?: boolean;
}

/** What the document says of an operation's auth, as a kind and a reason; undefined when it says nothing. */
function documentAuth(doc: Json, op: Operation): ServedAuth | undefined {
    const auth = operationAuth(doc, op.operation);
    if (auth.iam) return { kind: "iam", reason: auth.iam };
    if (auth.authorizer) {
        const key = auth.apiKey ? `, and the API key ${auth.apiKey}` : "";
        return { kind: "own-authorizer", reason: `${auth.authorizer.scheme}: ${auth.authorizer.type}${key}` };
    }
    if (auth.apiKey) return { kind: "api-key", reason: auth.apiKey };
    if (auth.publicMarker) return { kind: "public", reason: auth.publicMarker };
    return undefined;
}

function kindName(kind: AuthKind): string {
    return kind === "ring-authorizer" ? "ring's authorizer" : (AUTH_KINDS.find((k) => k.kind === kind) as { name: string }).name;
}

/** Config's lists checked against the document: every label it has, none in both lists. */
function checkRouting(operations: Operation[], routing: AuthRouting, errors: SpecProblem[]): void {
    const labels = operations.map((op) => op.label);
    for (const key of ["publicRoutes", "authorizerRoutes"] as const) {
        const unknown = (routing[key] ?? []).filter((route) => !labels.includes(route));
        if (unknown.length > 0) {
            errors.push({ pointer: "", message: `gateway:${key} names ${unknown.join(", ")}, which the document does not have ` +
                `(its operations are named as the preview lists them, e.g. ${labels.slice(0, 2).join(", ")})` });
        }
    }
    for (const label of (routing.publicRoutes ?? []).filter((route) => routing.authorizerRoutes?.includes(route))) {
        errors.push({ pointer: "", message: `${label} is in both gateway:publicRoutes and gateway:authorizerRoutes; keep it in one` });
    }
}

/**
 * How each operation is served, by label; every problem with config's lists or the document's
 * schemes goes to `errors`.
 */
export function servedAuthOf(doc: Json, operations: Operation[], routing: AuthRouting, ringScheme: string, schemes: Json, errors: SpecProblem[]): Record<string, ServedAuth> {
    checkRouting(operations, routing, errors);
    if (ringScheme in schemes) {
        errors.push({ pointer: pointer(...(doc.swagger !== undefined ? ["securityDefinitions"] : ["components", "securitySchemes"]), ringScheme),
            message: `the document defines a security scheme named ${ringScheme}, the name the ring gives its own authorizer; rename the document's scheme (and the requirements naming it)` });
    }
    const served: Record<string, ServedAuth> = {};
    for (const op of operations) {
        const own = documentAuth(doc, op);
        if (routing.authorizerRoutes?.includes(op.label)) {
            served[op.label] = { kind: "ring-authorizer", reason: "gateway:authorizerRoutes", ...(own ? { replaced: `${kindName(own.kind)} (${own.reason})` } : {}) };
        } else if (routing.publicRoutes?.includes(op.label)) {
            if (own && own.kind !== "public") {
                errors.push({ pointer: "", message: `gateway:publicRoutes names ${op.label}, which the document protects with ${kindName(own.kind)} (${own.reason}); ` +
                    "config does not open what the document protects: remove it from gateway:publicRoutes, or mark the operation public in the document (security: [])" });
            }
            served[op.label] = own ?? { kind: "public", reason: "gateway:publicRoutes" };
        } else if (own) {
            served[op.label] = own;
        } else if (isPreflight(op.method) && routing.publicPreflights !== false) {
            served[op.label] = { kind: "public", reason: "CORS preflight" };
        } else {
            served[op.label] = { kind: "ring-authorizer", reason: "" };
        }
    }
    return served;
}

/**
 * The summary the preview prints: the count of each kind, then the operations of each kind but the
 * ring's with why, then each replacement config made.
 */
export function authSummary(served: Record<string, ServedAuth>): string[] {
    const entries = Object.entries(served);
    const of = (kind: AuthKind) => entries.filter(([, a]) => a.kind === kind);
    const lines = [`${entries.length} operation${entries.length === 1 ? "" : "s"}: ${AUTH_KINDS.map(({ kind, name }) => `${of(kind).length} ${name}`).join(", ")}`];
    for (const { kind, name } of AUTH_KINDS.slice(1)) {
        if (of(kind).length > 0) lines.push(`${name}: ${of(kind).map(([label, a]) => `${label} (${a.reason})`).join(", ")}`);
    }
    for (const [label, a] of entries) {
        if (a.replaced) lines.push(`${label}: the document's ${a.replaced} is replaced by the ring's authorizer (gateway:authorizerRoutes)`);
    }
    return lines;
}

/** Applies the served auth to the document: the ring's requirement, or none, or the document's own left as it is. */
export function applyServedAuth(operations: Operation[], served: Record<string, ServedAuth>, ringScheme: string): void {
    for (const op of operations) {
        const { kind } = served[op.label];
        if (kind === "ring-authorizer") {
            op.operation.security = [{ [ringScheme]: [] }];
            // A method has one authorization type: the document's aws_iam (or none) goes.
            if (isObject(op.operation["x-amazon-apigateway-auth"])) delete op.operation["x-amazon-apigateway-auth"];
        } else if (kind === "public") {
            op.operation.security = [];
        }
    }
}
