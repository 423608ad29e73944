// Route matching with API Gateway's rules: a literal segment beats a {param}, which beats a
// greedy {proxy+}; ANY (x-amazon-apigateway-any-method) serves methods without their own.
// Dot segments are resolved before anything else (resolveDotSegments), so the path that is
// routed, authorized and forwarded is one and the same.

import { ANY_METHOD, OPERATION_KEYS } from "../openapi";

export type Operation = Record<string, unknown>;

export interface Route {
    /** The path template, e.g. /discovery/v1/catalogs/{id}. */
    template: string;
    operations: Map<string, Operation>;
    segments: Segment[];
}

type Segment = { kind: "literal"; value: string } | { kind: "param"; name: string } | { kind: "greedy"; name: string };

export interface RouteMatch {
    route: Route;
    /** The HTTP method the operation was declared for (ANY for the catch-all). */
    declaredMethod: string;
    operation: Operation;
    /** Path parameters, decoded, e.g. { id: "7" } or { proxy: "a/b" }. */
    params: Record<string, string>;
    /** Path parameters as the request wrote them (percent-encoding kept). */
    rawParams: Record<string, string>;
}


export function compileRoutes(paths: Record<string, Record<string, unknown>>): Route[] {
    return Object.entries(paths).map(([template, item]) => {
        const operations = new Map<string, Operation>();
        for (const method of OPERATION_KEYS) {
            const op = item[method];
            if (op && typeof op === "object") operations.set(method === ANY_METHOD ? "ANY" : method.toUpperCase(), op as Operation);
        }
        const segments: Segment[] = template.split("/").filter((s) => s !== "").map((s) => {
            const param = /^\{([^}+]+)(\+?)\}$/.exec(s);
            if (!param) return { kind: "literal", value: s };
            return param[2] === "+" ? { kind: "greedy", name: param[1] } : { kind: "param", name: param[1] };
        });
        return { template, operations, segments };
    });
}

/** A percent-decoded path part; a malformed escape stays as it is written. */
export function decodeSafely(part: string): string {
    try {
        return decodeURIComponent(part);
    } catch {
        return part;
    }
}

/** Raw (still percent-encoded) values of the path parameters, or undefined when the route does not match. */
function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        if (segment.kind === "greedy") {
            if (i >= parts.length) return undefined; // {proxy+} needs at least one segment
            params[segment.name] = parts.slice(i).join("/");
            return params;
        }
        if (i >= parts.length) return undefined;
        if (segment.kind === "literal" && segment.value !== decodeSafely(parts[i])) return undefined;
        if (segment.kind === "param") params[segment.name] = parts[i];
    }
    return segments.length === parts.length ? params : undefined;
}

/** "." or "..", also percent-encoded (%2e): the parts a URL resolver removes. */
function dotSegment(part: string): "." | ".." | undefined {
    const dots = part.replace(/%2e/gi, ".");
    return dots === "." || dots === ".." ? dots : undefined;
}

/**
 * The path with its dot segments resolved as RFC 3986 (5.2.4) resolves them, percent-encoded ones
 * included: /catalog/../reports is /reports, routed and authorized as such, never as a catalog
 * route whose backend would then resolve it to another service.
 */
export function resolveDotSegments(path: string): string {
    const parts = path.split("/").slice(1);
    const out: string[] = [];
    parts.forEach((part, i) => {
        const dots = dotSegment(part);
        if (dots === "..") out.pop();
        if (dots === undefined) out.push(part);
        else if (i === parts.length - 1) out.push(""); // "/a/b/.." is "/a/"
    });
    return `/${out.join("/")}`;
}

/** Specificity for ordering candidates: literal segments first, greedy last. */
function rank(route: Route): number[] {
    return route.segments.map((s) => (s.kind === "literal" ? 0 : s.kind === "param" ? 1 : 2));
}

function moreSpecific(a: Route, b: Route): number {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
        const x = ra[i] ?? 3;
        const y = rb[i] ?? 3;
        if (x !== y) return x - y;
    }
    return 0;
}

/** The operation serving `method path`; undefined when no resource matches (API Gateway's 403 "Missing Authentication Token"). */
export function matchRoute(routes: Route[], method: string, path: string): RouteMatch | { route: Route; methodNotAllowed: true } | undefined {
    const parts = path.split("?")[0].split("/").filter((s) => s !== "");
    const candidates = routes
        .map((route) => ({ route, params: matchSegments(route.segments, parts) }))
        .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined)
        .sort((a, b) => moreSpecific(a.route, b.route));
    if (candidates.length === 0) return undefined;
    const { route, params: rawParams } = candidates[0];
    const declaredMethod = route.operations.has(method) ? method : route.operations.has("ANY") ? "ANY" : undefined;
    if (!declaredMethod) return { route, methodNotAllowed: true };
    const params = Object.fromEntries(Object.entries(rawParams).map(([k, v]) => [k, v.split("/").map(decodeSafely).join("/")]));
    return { route, declaredMethod, operation: route.operations.get(declaredMethod) as Operation, params, rawParams };
}
