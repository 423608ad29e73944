// The oracles of the route-grant property (issue 17, item 1): API Gateway's evaluation of an
// authorizer policy, and a plain segment-by-segment reading of a route; with generators of routes and
// request paths. Shared by test/handlers/route-grants.test.ts and the hostile-input counts.
//
// API Gateway: an execute-api resource ARN `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`
// in which `*` stands for any run of characters, `/` included, and `?` for one character (AWS, "Control
// access to an API with IAM permissions" / "Statement reference of IAM policies for executing API in
// API Gateway", the resource-path-specifier; and "Output from an API Gateway Lambda authorizer").
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import fc from "fast-check";

export const PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/";
export const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
/** A request: its method, its path's segments and whether the path ends in one / (never the root's). */
export interface Request { method: string; path: string[]; trailing: boolean }
export const pathOf = (r: Request): string => `${r.path.join("/")}${r.trailing && r.path.length > 0 ? "/" : ""}`;
export const arnFor = (r: Request): string => `${PREFIX}${r.method}/${pathOf(r)}`;

/** API Gateway's match of one policy resource against a method ARN: `*` any run (`/` included), `?` one character. */
export function gatewayMatches(resource: string, arn: string): boolean {
    // Plain dynamic programming over the two strings: no regular expression of ours in the oracle.
    let row = new Array<boolean>(arn.length + 1).fill(false);
    row[0] = true;
    for (const c of resource) {
        const next = new Array<boolean>(arn.length + 1).fill(false);
        if (c === "*") {
            let any = false;
            for (let j = 0; j <= arn.length; j++) {
                any = any || row[j];
                next[j] = any;
            }
        } else {
            for (let j = 1; j <= arn.length; j++) next[j] = row[j - 1] && (c === "?" || arn[j - 1] === c);
        }
        row = next;
    }
    return row[arn.length];
}

/** How API Gateway applies the authorizer's policy: an explicit Deny wins, else any Allow. */
export function gatewayAllows(result: APIGatewayAuthorizerResult, arn: string): boolean {
    let allowed = false;
    for (const s of result.policyDocument.Statement as { Effect: string; Action: string | string[]; Resource: string | string[] }[]) {
        const actions = ([] as string[]).concat(s.Action);
        if (!actions.some((a) => a === "execute-api:Invoke" || a === "execute-api:*" || a === "*")) continue;
        if (!([] as string[]).concat(s.Resource).some((r) => gatewayMatches(r, arn))) continue;
        if (s.Effect === "Deny") return false;
        allowed = true;
    }
    return allowed;
}

export interface Route { method?: string; segments: string[]; rest: boolean }

export const routeText = (r: Route): string => `${r.method ? `${r.method} ` : ""}${r.segments.length === 0 && r.rest ? "*" : [...r.segments, ...(r.rest ? ["*"] : [])].join("/")}`;

/**
 * The oracle: a route read segment by segment. "*" alone grants everything; "p/*" everything under
 * "p/" ("p/" itself, "p/x", "p/x/y/"; not "p"); an exact path grants itself, with or without one trailing /.
 */
export function segmentsGrant(r: Route, request: Request): boolean {
    if (r.method !== undefined && r.method !== request.method) return false;
    if (r.segments.length === 0 && r.rest) return true;
    const path = request.path;
    const prefixEqual = r.segments.every((s, i) => s === path[i]);
    if (!r.rest) return path.length === r.segments.length && prefixEqual;
    return prefixEqual && (path.length > r.segments.length || (path.length === r.segments.length && request.trailing));
}

// A small alphabet so that routes and paths often share segments; "discovery" and "x" as in the issue.
export const segment = fc.constantFrom("discovery", "enterprise", "v1", "x", "courses", "a-b", "course-v1:edX+D+1");
export const routeArb: fc.Arbitrary<Route> = fc.record({
    method: fc.option(fc.constantFrom(...METHODS), { nil: undefined }),
    segments: fc.array(segment, { minLength: 0, maxLength: 3 }),
    rest: fc.boolean(),
}).filter((r) => r.segments.length > 0 || r.rest);
export const requestArb: fc.Arbitrary<Request> = fc.record({ method: fc.constantFrom(...METHODS), path: fc.array(segment, { minLength: 0, maxLength: 5 }), trailing: fc.boolean() })
    .map((r) => ({ ...r, trailing: r.trailing && r.path.length > 0 }));
