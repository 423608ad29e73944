// IAM policies for an API Gateway Lambda authorizer: a plan grants route patterns, each becomes
// execute-api ARNs of this API and stage, the HTTP method spelled out in each.
//
// What a route matches is routes.ts's. API Gateway evaluates a policy resource with "*" spanning
// any run of characters, "/" included, and "?" one character (AWS, "Statement reference of IAM
// policies for executing API in API Gateway"). So a resource never starts with a wildcard where the
// method goes: `*/discovery/*` would also match `GET/enterprise/v1/discovery/x`. The only wildcard
// is a route's trailing one, where "any run of characters" and "everything under the prefix's /"
// agree for the method ARNs parseMethodArn lets through (no empty, dot or unsafe segment). The
// authorizer's own check (routesGrant) evaluates those same resources as API Gateway does;
// test/handlers/route-grants.test.ts proves both equal to the segment reading.
import type { APIGatewayAuthorizerResult, PolicyDocument } from "aws-lambda";
import { HTTP_METHODS, routeResources, segmentProblem } from "./routes";
import type { PlanRoutes } from "./settings";

/** Longest method ARN API Gateway sends ("Output from an API Gateway Lambda authorizer": 1600 bytes). */
export const MAX_METHOD_ARN_BYTES = 1600;

export interface MethodArn {
    /** aws, aws-cn or aws-us-gov: the policy's resources must be ARNs of the same partition to match. */
    partition: string;
    region: string;
    accountId: string;
    apiId: string;
    stage: string;
    method: string;
    /** The path's segments; [] for the root. A trailing / is not a segment. */
    segments: string[];
}

/**
 * Splits `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}` and refuses what a
 * policy could not name exactly: an unknown method, dot or empty segments (one trailing / is no
 * segment), control characters, an encoded slash or backslash, wildcards, or more than API Gateway's
 * 1600 bytes.
 */
export function parseMethodArn(methodArn: string): MethodArn {
    if (typeof methodArn !== "string") throw new Error("no method ARN");
    if (Buffer.byteLength(methodArn, "utf8") > MAX_METHOD_ARN_BYTES) throw new Error(`method ARN over ${MAX_METHOD_ARN_BYTES} bytes`);
    const shown = JSON.stringify(methodArn.slice(0, 200));
    const parts = methodArn.split(":");
    if (parts.length < 6 || parts[0] !== "arn" || parts[2] !== "execute-api") throw new Error(`not an execute-api method ARN: ${shown}`);
    const path = parts.slice(5).join(":").split("/");
    if (path.length < 2 || path[0] === "" || path[1] === "") throw new Error(`method ARN without API id and stage: ${shown}`);
    if (path.length < 4 || !HTTP_METHODS.includes(path[2])) throw new Error(`method ARN without an HTTP method and path: ${shown}`);
    // The root is ".../GET/" (one empty part), and one trailing / ends a path; any other empty part is an empty segment.
    const segments = path.slice(3);
    const trailingSlash = segments.length > 1 && segments[segments.length - 1] === "";
    if (trailingSlash || (segments.length === 1 && segments[0] === "")) segments.pop();
    for (const s of segments) {
        const problem = segmentProblem(s);
        if (problem) throw new Error(`method ARN with ${problem}: ${shown}`);
    }
    return { partition: parts[1], region: parts[3], accountId: parts[4], apiId: path[0], stage: path[1], method: path[2], segments };
}

/** The routes a plan grants; a plan missing from the map gets the default routes. */
export function routesForPlan(plan: string | undefined, planRoutes: PlanRoutes, defaultRoutes: string[]): string[] {
    if (plan !== undefined && Object.prototype.hasOwnProperty.call(planRoutes, plan)) return planRoutes[plan];
    return defaultRoutes;
}

/** API Gateway's match of a policy resource against a method ARN: "*" any run of characters, "/" included; "?" one. */
export function policyResourceMatches(resource: string, arn: string): boolean {
    const body = resource.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&"))).join("");
    return new RegExp(`^${body}$`, "s").test(arn);
}

/** The ARN prefix of this API and stage, in the request's own partition (aws, aws-cn, aws-us-gov). */
function stagePrefix(arn: MethodArn): string {
    return `arn:${arn.partition}:execute-api:${arn.region}:${arn.accountId}:${arn.apiId}/${arn.stage}/`;
}

/** The policy resources of routes for the API and stage a method ARN names. */
function resourcesFor(routes: string[], arn: MethodArn): string[] {
    const prefix = stagePrefix(arn);
    return [...new Set(routes.flatMap(routeResources))].map((r) => prefix + r);
}

/** Whether routes grant the request a method ARN names: the policy's own resources, evaluated as API Gateway does. */
export function routesGrant(routes: string[], methodArn: string): boolean {
    return resourcesFor(routes, parseMethodArn(methodArn)).some((r) => policyResourceMatches(r, methodArn));
}

/**
 * Which plans grant the request (for the Redis scripts, which know the cached plan but not the
 * config): the configured plans whose routes include it, and whether the default routes do.
 */
export function routeGrant(methodArn: string, planRoutes: PlanRoutes, defaultRoutes: string[]): { granting: string[]; known: string[]; defaultGrants: boolean } {
    const known = Object.keys(planRoutes);
    return {
        granting: known.filter((plan) => routesGrant(planRoutes[plan], methodArn)),
        known,
        defaultGrants: routesGrant(defaultRoutes, methodArn),
    };
}

export interface PolicyInput {
    methodArn: string;
    principalId: string;
    /** undefined: Deny everything. */
    routes: string[] | undefined;
    context: Record<string, string | number | boolean>;
}

/** Allow on each granted route of this API and stage; Deny everything when nothing is granted. */
export function buildPolicy(input: PolicyInput): APIGatewayAuthorizerResult {
    const arn = parseMethodArn(input.methodArn);
    const resources = resourcesFor(input.routes ?? [], arn);
    const policyDocument: PolicyDocument = resources.length > 0
        ? { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: resources }] }
        : { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: [`${stagePrefix(arn)}*/*`] }] };
    return { principalId: input.principalId, policyDocument, context: input.context };
}

/** The effect a policy has (for logs and tests): Allow if any statement allows. */
export function policyEffect(result: APIGatewayAuthorizerResult): "Allow" | "Deny" {
    return result.policyDocument.Statement.some((s) => s.Effect === "Allow") ? "Allow" : "Deny";
}
