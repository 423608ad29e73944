// How API Gateway applies a TOKEN authorizer's policy to a request: the method ARN must
// match an Allow statement's resource and no Deny statement's resource ("*" matches any
// run of characters, "?" one character). An explicit Deny always wins.
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { policyResourceMatches } from "../handlers/access-policy";

export function methodArn(region: string, account: string, apiId: string, stage: string, method: string, path: string): string {
    return `arn:aws:execute-api:${region}:${account}:${apiId}/${stage}/${method}/${path.replace(/^\//, "")}`;
}

function asList<T>(value: T | T[] | undefined): T[] {
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function isAllowed(result: APIGatewayAuthorizerResult, arn: string): boolean {
    let allowed = false;
    for (const statement of result.policyDocument.Statement) {
        const s = statement as { Effect: string; Action?: string | string[]; Resource?: string | string[] };
        const actions = asList(s.Action);
        if (!actions.some((a) => a === "execute-api:Invoke" || a === "execute-api:*" || a === "*")) continue;
        if (!asList(s.Resource).some((r) => policyResourceMatches(r, arn))) continue;
        if (s.Effect === "Deny") return false;
        if (s.Effect === "Allow") allowed = true;
    }
    return allowed;
}
