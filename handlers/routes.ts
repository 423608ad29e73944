// What a plan route matches, in one place: the authorizer's policy (access-policy.ts), the settings
// reader and the program's config check all read routes with parseRoute.
//   "*"                      every method and every path, the root included
//   "GET *"                  every path, GET only
//   "discovery/*"            every method, every path under discovery/: discovery/ and
//                            discovery/v1/x/ (not discovery alone, not /enterprise/v1/discovery/x)
//   "GET enterprise/v1/*"    the same under enterprise/v1/, GET only
//   "heartbeat", "POST a/b"  exactly that path, with or without one trailing / (Django's URLs end in /)
// A segment is literal; "*" may only stand alone as the last segment, where API Gateway's "*" (any
// run of characters, "/" included) and "everything under the prefix/" agree (see access-policy.ts).

/** The methods API Gateway puts in a method ARN (an ANY method is invoked with the request's own). */
export const HTTP_METHODS: readonly string[] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

// A path segment a policy can name literally and every backend reads as one segment: no control
// character (raw or percent-encoded), no encoded slash or backslash, no backslash, no wildcard.
const UNSAFE_SEGMENT = /[\u0000-\u001f\u007f\\*?]|%(?:[01][0-9a-f]|7f|2f|5c)/i;
/** A dot segment, also percent-encoded (RFC 3986 section 6.2.2.2 reads %2E as "."). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

export function segmentProblem(segment: string): string | undefined {
    if (segment === "") return "an empty segment";
    if (DOT_SEGMENT.test(segment)) return "a dot segment";
    if (UNSAFE_SEGMENT.test(segment)) return "a control character, an encoded slash or backslash, or a wildcard";
    return undefined;
}

/** A route read: the methods it grants, its literal segments, and whether a trailing "*" follows them. */
export interface Route {
    methods: readonly string[];
    segments: string[];
    rest: boolean;
}

/** The route, or why it is not one (for config and the settings reader, which refuse it). */
export function parseRoute(route: string): Route | { problem: string } {
    if (typeof route !== "string") return { problem: "a string" };
    const space = route.indexOf(" ");
    const method = space >= 0 ? route.slice(0, space) : undefined;
    if (method !== undefined && !HTTP_METHODS.includes(method.toUpperCase())) {
        return { problem: `a method of ${HTTP_METHODS.join(", ")} before the space` };
    }
    const path = space >= 0 ? route.slice(space + 1) : route;
    if (path.startsWith("/")) return { problem: "no leading / (the path after the stage, as discovery/*)" };
    const methods = method !== undefined ? [method.toUpperCase()] : HTTP_METHODS;
    if (path === "*") return { methods, segments: [], rest: true };
    const parts = path.split("/");
    const rest = parts.length > 1 && parts[parts.length - 1] === "*";
    const segments = rest ? parts.slice(0, -1) : parts;
    for (const s of segments) {
        if (/\s/.test(s)) return { problem: "no whitespace in a path" };
        if (s.includes("*")) return { problem: '"*" only as the whole last segment (API Gateway\'s * would span "/" anywhere else)' };
        const problem = segmentProblem(s);
        if (problem) return { problem: `no ${problem}` };
    }
    return { methods, segments, rest };
}

/** Why a route pattern is refused, or undefined: one message for config and the settings reader. */
export function routeProblem(route: string): string | undefined {
    const r = parseRoute(route);
    return "problem" in r ? `a route pattern: "*", or [METHOD ]path such as discovery/* or GET enterprise/v1/*, with ${r.problem}` : undefined;
}

/**
 * The resources (after `{apiId}/{stage}/`) a route grants, the method spelled out in each: one per
 * method for a route ending in "*", two (without and with the trailing /) for an exact path; none for
 * a route that does not parse.
 */
export function routeResources(route: string): string[] {
    const r = parseRoute(route);
    if ("problem" in r) return [];
    const path = r.segments.join("/");
    const paths = r.rest ? [r.segments.length === 0 ? "*" : `${path}/*`] : [path, `${path}/`];
    return r.methods.flatMap((m) => paths.map((p) => `${m}/${p}`));
}

