// CORS preflights: a browser sends OPTIONS before a cross-origin call, without the call's
// credentials (Fetch standard, "CORS-preflight request"), so a preflight that meets the ring's
// authorizer gets 401 and the browser never makes the call. OPTIONS operations are public by default
// (openapi/auth-kinds.ts); an ANY operation answers OPTIONS too when its resource has no OPTIONS of
// its own (AWS's extension reference, x-amazon-apigateway-any-method), which the program cannot fix
// without changing what the backend receives. Whether a backend behind such a catch-all answers CORS
// itself cannot be read from the document (the ANY /{proxy+} proxy sends no CORS header the
// document shows), so every such operation behind the ring's authorizer is warned, with the fix.
import { ServedAuth } from "./auth-kinds";
import { Operation, SpecProblem, pointer } from "./document";

/** A warning for each ANY operation behind the ring's authorizer whose resource has no OPTIONS operation. */
export function preflightWarnings(operations: Operation[], served: Record<string, ServedAuth>): SpecProblem[] {
    return operations
        .filter((op) => op.label.startsWith("ANY ") && served[op.label].kind === "ring-authorizer" && op.item.options === undefined)
        .map((op) => ({
            pointer: pointer(...op.at),
            message: `${op.label} answers OPTIONS too (its resource has no OPTIONS operation), so a browser's CORS preflight, which carries no credentials, ` +
                `meets the ring's authorizer and gets 401; add an options operation to ${op.route} (a mock answering the Access-Control-Allow-* headers: ` +
                `OPTIONS operations are served public), or list ${op.label} in gateway:publicRoutes if it is meant to be open`,
        }));
}
