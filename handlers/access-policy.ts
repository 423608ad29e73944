// IAM policies for an API Gateway TOKEN authorizer, as in AWS's authorizer blueprint:
// a plan grants route patterns, each becomes an execute-api ARN of this API and stage.
import type { APIGatewayAuthorizerResult, PolicyDocument } from "aws-lambda";
import { PlanRoutes } from "./settings";

export interface MethodArn {
    region: string;
    accountId: string;
    apiId: string;
    stage: string;
}

/** Splits `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{resource...}`. */
export function parseMethodArn(methodArn: string): MethodArn {
    const parts = methodArn.split(":");
    if (parts.length < 6 || parts[0] !== "arn" || parts[2] !== "execute-api") {
        throw new Error(`not an execute-api method ARN: ${methodArn}`);
    }
    const path = parts.slice(5).join(":").split("/");
    if (path.length < 2 || path[0] === "" || path[1] === "") throw new Error(`method ARN without API id and stage: ${methodArn}`);
    return { region: parts[3], accountId: parts[4], apiId: path[0], stage: path[1] };
}

const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"]);

/**
 * One route pattern to the part of the ARN after the stage: "*" is every method and
 * path, "discovery/*" every method under discovery/, "GET enterprise/v1/*" only GET.
 */
export function routeResource(route: string): string {
    const trimmed = route.trim();
    const space = trimmed.indexOf(" ");
    let method = "*";
    let path = trimmed;
    if (space > 0 && METHODS.has(trimmed.slice(0, space).toUpperCase())) {
        method = trimmed.slice(0, space).toUpperCase();
        path = trimmed.slice(space + 1).trim();
    }
    path = path.replace(/^\/+/, "");
    return `${method}/${path === "" ? "*" : path}`;
}

/** The routes a plan grants; a plan missing from the map gets the default routes. */
export function routesForPlan(plan: string | undefined, planRoutes: PlanRoutes, defaultRoutes: string[]): string[] {
    if (plan !== undefined && Object.prototype.hasOwnProperty.call(planRoutes, plan)) return planRoutes[plan];
    return defaultRoutes;
}

/** API Gateway's match of a policy resource against a method ARN: "*" any run of characters, "?" one. */
function resourceMatches(pattern: string, arn: string): boolean {
    const body = pattern.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&"))).join("");
    return new RegExp(`^${body}$`, "s").test(arn);
}

/** Whether route patterns grant the request a method ARN names, as API Gateway would judge the policy. */
export function routesGrant(routes: string[], methodArn: string): boolean {
    const arn = parseMethodArn(methodArn);
    const prefix = `arn:aws:execute-api:${arn.region}:${arn.accountId}:${arn.apiId}/${arn.stage}/`;
    return routes.some((r) => resourceMatches(prefix + routeResource(r), methodArn));
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
    const prefix = `arn:aws:execute-api:${arn.region}:${arn.accountId}:${arn.apiId}/${arn.stage}/`;
    const routes = input.routes ?? [];
    const resources = [...new Set(routes.map((r) => prefix + routeResource(r)))];
    const policyDocument: PolicyDocument = resources.length > 0
        ? { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: resources }] }
        : { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: [`${prefix}*/*`] }] };
    return { principalId: input.principalId, policyDocument, context: input.context };
}

/** The effect a policy has (for logs and tests): Allow if any statement allows. */
export function policyEffect(result: APIGatewayAuthorizerResult): "Allow" | "Deny" {
    return result.policyDocument.Statement.some((s) => s.Effect === "Allow") ? "Allow" : "Deny";
}
