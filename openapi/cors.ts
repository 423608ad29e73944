// CORS preflights: a browser sends OPTIONS before a cross-origin call, without the call's
// credentials (Fetch standard, "CORS-preflight request"), so a preflight that meets the ring's
// authorizer gets 401 and the browser never makes the call. OPTIONS operations are public by default
// (openapi/auth-kinds.ts); an ANY operation answers OPTIONS too when its resource has no OPTIONS of
// its own (AWS's extension reference, x-amazon-apigateway-any-method), which the program cannot fix
// without changing what the backend receives: it warns and names the fix.
import { ServedAuth } from "./auth-kinds";
import { Json, Operation, SpecProblem, pointer } from "./document";

/** Whether the document answers CORS anywhere: a header mapping or declaration of Access-Control-Allow-Origin. */
function sendsCorsHeaders(doc: Json): boolean {
    return /access-control-allow-origin/i.test(JSON.stringify(doc));
}

/** A warning for each ANY operation behind the ring's authorizer that would answer a preflight, in a document that answers CORS. */
export function preflightWarnings(doc: Json, operations: Operation[], served: Record<string, ServedAuth>): SpecProblem[] {
    if (!sendsCorsHeaders(doc)) return [];
    return operations
        .filter((op) => op.label.startsWith("ANY ") && served[op.label].kind === "ring-authorizer" && op.item.options === undefined)
        .map((op) => ({
            pointer: pointer(...op.at),
            message: `${op.label} answers CORS preflights (the resource has no OPTIONS operation, and the document sends CORS headers), ` +
                `but browsers send a preflight without credentials, so the ring's authorizer refuses it with 401; add an options operation to ${op.route} ` +
                "(a mock answering the Access-Control-Allow-* headers: OPTIONS operations are served public)",
        }));
}
