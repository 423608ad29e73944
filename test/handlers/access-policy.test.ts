import * as assert from "assert";
import { buildPolicy, parseMethodArn, policyEffect, routesForPlan, routesGrant } from "../../handlers/access-policy";
import { HTTP_METHODS, routeResources } from "../../handlers/routes";
import { METHOD_ARN, PLAN_ROUTES } from "../support/settings";

const PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/";

function resources(routes: string[] | undefined): string[] {
    const policy = buildPolicy({ methodArn: METHOD_ARN, principalId: "p", routes, context: { plan: "x", appId: "y" } });
    const statement = policy.policyDocument.Statement[0] as { Resource: string[] };
    return statement.Resource;
}

describe("access policy", () => {
    it("parses the method ARN", () => {
        assert.deepStrictEqual(parseMethodArn(METHOD_ARN), {
            partition: "aws", region: "eu-west-1", accountId: "123456789012", apiId: "abcdef1234", stage: "red", method: "GET", segments: ["discovery", "v1", "courses"],
        });
        assert.deepStrictEqual(parseMethodArn(`${PREFIX}GET/`).segments, [], "the root");
        assert.deepStrictEqual(parseMethodArn(`${PREFIX}GET/courses/course-v1:edX+D+1`).segments, ["courses", "course-v1:edX+D+1"], "a colon in the path");
        assert.throws(() => parseMethodArn("arn:aws:lambda:eu-west-1:1:function:x"));
        assert.throws(() => parseMethodArn("not an arn"));
    });

    it('grants every method and path of this API and stage for "*"', () => {
        const p = buildPolicy({ methodArn: METHOD_ARN, principalId: "app-1", routes: ["*"], context: { plan: "Unlimited", appId: "app-1" } });
        assert.strictEqual(policyEffect(p), "Allow");
        assert.deepStrictEqual(p.policyDocument.Statement, [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: HTTP_METHODS.map((m) => `${PREFIX}${m}/*`) }]);
        assert.strictEqual(p.principalId, "app-1");
        assert.deepStrictEqual(p.context, { plan: "Unlimited", appId: "app-1" });
    });

    it("denies everything for [] and for no routes", () => {
        for (const routes of [[], undefined]) {
            const p = buildPolicy({ methodArn: METHOD_ARN, principalId: "p", routes, context: {} });
            assert.strictEqual(policyEffect(p), "Deny");
            assert.deepStrictEqual(p.policyDocument.Statement, [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: [`${PREFIX}*/*`] }]);
        }
    });

    it("grants a list of route patterns, each method spelled out", () => {
        assert.deepStrictEqual(resources(["discovery/*", "enterprise/v1/*"]), [
            ...HTTP_METHODS.map((m) => `${PREFIX}${m}/discovery/*`), ...HTTP_METHODS.map((m) => `${PREFIX}${m}/enterprise/v1/*`),
        ]);
    });

    it("accepts a method in front of a pattern", () => {
        assert.deepStrictEqual(routeResources("GET enterprise/v1/*"), ["GET/enterprise/v1/*"]);
        assert.deepStrictEqual(routeResources("post x"), ["POST/x", "POST/x/"], "an exact path, with and without its trailing /");
        assert.deepStrictEqual(routeResources("post /x"), [], "a leading / is refused, as config refuses it");
        assert.deepStrictEqual(routeResources("GET *"), ["GET/*"]);
    });

    it("uses the default routes for a plan missing from the map", () => {
        assert.deepStrictEqual(routesForPlan("Basic", PLAN_ROUTES, ["heartbeat"]), ["discovery/*"]);
        assert.deepStrictEqual(routesForPlan("Gold", PLAN_ROUTES, ["heartbeat"]), ["heartbeat"]);
        assert.deepStrictEqual(routesForPlan(undefined, PLAN_ROUTES, []), []);
        assert.deepStrictEqual(routesForPlan("toString", PLAN_ROUTES, ["d"]), ["d"]);
    });
});

describe("access policy in the China and GovCloud partitions", () => {
    for (const [partition, region] of [["aws-cn", "cn-north-1"], ["aws-us-gov", "us-gov-west-1"]]) {
        const methodArn = `arn:${partition}:execute-api:${region}:123456789012:abcdef1234/red/GET/discovery/v1/catalogs`;
        it(`${partition}: grants the plan's routes and allows them as ARNs of the request's own partition`, () => {
            assert.strictEqual(routesGrant(["discovery/*"], methodArn), true);
            const policy = buildPolicy({ methodArn, principalId: "app-1", routes: ["discovery/*"], context: {} });
            assert.strictEqual(policyEffect(policy), "Allow");
            const resources = (policy.policyDocument.Statement[0] as { Resource: string[] }).Resource;
            assert.ok(resources.length > 0 && resources.every((r) => r.startsWith(`arn:${partition}:execute-api:${region}:123456789012:abcdef1234/red/`)), resources.join(" "));
        });
    }
});
