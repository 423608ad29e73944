// Route matching with API Gateway's rules: a literal segment beats a {param}, which beats a
// greedy {proxy+}; ANY (x-amazon-apigateway-any-method) serves methods without their own.

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
    /** Path parameters, e.g. { id: "7" } or { proxy: "a/b" }. */
    params: Record<string, string>;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];
const ANY = "x-amazon-apigateway-any-method";

export function compileRoutes(paths: Record<string, Record<string, unknown>>): Route[] {
    return Object.entries(paths).map(([template, item]) => {
        const operations = new Map<string, Operation>();
        for (const method of [...METHODS, ANY]) {
            const op = item[method];
            if (op && typeof op === "object") operations.set(method === ANY ? "ANY" : method.toUpperCase(), op as Operation);
        }
        const segments: Segment[] = template.split("/").filter((s) => s !== "").map((s) => {
            const param = /^\{([^}+]+)(\+?)\}$/.exec(s);
            if (!param) return { kind: "literal", value: s };
            return param[2] === "+" ? { kind: "greedy", name: param[1] } : { kind: "param", name: param[1] };
        });
        return { template, operations, segments };
    });
}

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
        if (segment.kind === "literal" && segment.value !== parts[i]) return undefined;
        if (segment.kind === "param") params[segment.name] = decodeURIComponent(parts[i]);
    }
    return segments.length === parts.length ? params : undefined;
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
    const { route, params } = candidates[0];
    const declaredMethod = route.operations.has(method) ? method : route.operations.has("ANY") ? "ANY" : undefined;
    if (!declaredMethod) return { route, methodNotAllowed: true };
    return { route, declaredMethod, operation: route.operations.get(declaredMethod) as Operation, params };
}
