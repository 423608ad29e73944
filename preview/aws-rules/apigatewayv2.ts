// API Gateway's creation rules for routing rules (`aws.apigatewayv2.RoutingRule`, which serves REST
// APIs: the live pointer's header cohorts). Sources: the developer guide "Routing rules to connect API
// stages to a custom domain name for REST APIs" (rest-api-routing-rules.html: Conditions, Actions,
// Priority, Match headers conditions, Restrictions), the API Gateway V2 API reference's
// RoutingRuleMatchHeaderValue (header and value glob lengths and characters), and terraform-provider-aws
// internal/service/apigatewayv2/routing_rule.go. live/cohorts.ts refuses the same headers and
// priorities before a cohort is recorded; test/preview/aws-rules.test.ts checks that the two agree.
import { AwsRule, Finding, Inputs, createdOf, rangeRule } from "./rule";

const ROUTING_RULE = "aws:apigatewayv2/routingRule:RoutingRule";
const GUIDE = "API Gateway developer guide, \"Routing rules to connect API stages to a custom domain name for REST APIs\" (rest-api-routing-rules.html)";
const MATCH_HEADER_VALUE = "API Gateway V2 API reference, RoutingRuleMatchHeaderValue";
const TF_RULE = "terraform-provider-aws internal/service/apigatewayv2/routing_rule.go";

/** RFC 7230 token characters, which the API reference lists for header names and value globs. */
const HEADER_NAME = /^[A-Za-z0-9?\-!#$%&'.^_`|~]+$/;
const VALUE_GLOB = /^[A-Za-z0-9*?\-!#$%&'.^_`|~]+$/;

/** Headers a condition cannot match on (the guide's Restrictions); a trailing * names a prefix. */
const REFUSED_HEADERS = [
    "access-control-*", "apigw-*", "authorization", "connection", "content-encoding", "content-length", "content-location",
    "forwarded", "keep-alive", "origin", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding",
    "upgrade", "x-amz-*", "x-amzn-*", "x-apigw-api-id", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-restapi", "via",
];

function conditionsOf(inputs: Inputs): Inputs[] {
    return Array.isArray(inputs.conditions) ? inputs.conditions as Inputs[] : [];
}

/** Each header condition's name and value glob, with the path of the condition's anyOf. */
function headersOf(inputs: Inputs): { at: string; header: unknown; valueGlob: unknown }[] {
    return conditionsOf(inputs).flatMap((c, i) => {
        const anyOf = (c.matchHeaders as Inputs | undefined)?.anyOf as Inputs | undefined;
        return anyOf ? [{ at: `conditions.${i}.matchHeaders.anyOf`, header: anyOf.header, valueGlob: anyOf.valueGlob }] : [];
    });
}

/** A rule over each header condition: `problem` says what is wrong with one, or nothing. */
function headerRule(spec: Omit<AwsRule, "check" | "types"> & { field: "header" | "valueGlob"; problem(header: string, valueGlob: string): string | undefined }): AwsRule {
    const { field, problem, ...rule } = spec;
    return {
        ...rule,
        types: [ROUTING_RULE],
        check(inputs) {
            return headersOf(inputs).flatMap(({ at, header, valueGlob }): Finding[] => {
                const value = field === "header" ? header : valueGlob;
                if (typeof header !== "string" || typeof valueGlob !== "string") {
                    return typeof value === "string" ? [] : [{ input: `${at}.${field}`, value, detail: "it is required" }];
                }
                const detail = problem(header, valueGlob);
                return detail === undefined ? [] : [{ input: `${at}.${field}`, value, detail: detail || undefined }];
            });
        },
    };
}

export const APIGATEWAYV2_RULES: AwsRule[] = [
    rangeRule({
        id: "apigatewayv2.routing-rule-priority", types: [ROUTING_RULE], input: "priority", min: 1, max: 1_000_000,
        source: `${GUIDE}, Priority ("You can set the priority from 1-1,000,000"); ${TF_RULE} (int32validator.Between(1, 1000000))`,
    }),
    {
        id: "apigatewayv2.routing-rule-priority-unique", types: [ROUTING_RULE], input: "priority",
        rule: "rules can't have the same priority: one rule per priority on a domain name",
        source: `${GUIDE}, Priority ("Rules can't have the same priority")`,
        check(inputs, context) {
            const twin = createdOf(context, ROUTING_RULE).find((r) => r.inputs.domainName === inputs.domainName && r.inputs.priority === inputs.priority);
            return twin ? [{ input: "priority", value: inputs.priority, detail: `routing rule "${twin.name}" on ${String(inputs.domainName)} has it` }] : [];
        },
    },
    {
        id: "apigatewayv2.routing-rule-conditions", types: [ROUTING_RULE], input: "conditions",
        rule: "1 to 3 conditions, each either matchHeaders or matchBasePaths: at most two header conditions and one base path condition",
        source: `${GUIDE}, Conditions ("API Gateway supports up to two header conditions and one path condition"); ` +
            `${TF_RULE} (condition: SizeAtLeast(1), ExactlyOneOfChildren(match_base_paths, match_headers))`,
        check(inputs) {
            const conditions = conditionsOf(inputs);
            const findings: Finding[] = conditions.flatMap((c, i) => ((c.matchHeaders === undefined) === (c.matchBasePaths === undefined)
                ? [{ input: `conditions.${i}`, value: c, detail: "it has both matchHeaders and matchBasePaths, or neither" }] : []));
            const headers = conditions.filter((c) => c.matchHeaders !== undefined).length;
            const paths = conditions.filter((c) => c.matchBasePaths !== undefined).length;
            if (conditions.length === 0) findings.push({ input: "conditions", value: inputs.conditions, detail: "no condition" });
            if (headers > 2 || paths > 1) findings.push({ input: "conditions", value: `${headers} header and ${paths} base path conditions` });
            return findings;
        },
    },
    headerRule({
        id: "apigatewayv2.routing-rule-header-name", input: "conditions.*.matchHeaders.anyOf.header", field: "header",
        rule: "a header name of fewer than 40 characters, letters, digits and ?-!#$%&'.^_`|~ only, with no wildcard (wildcards are for value globs)",
        source: `${MATCH_HEADER_VALUE}, Header ("must be less than 40 characters"); ${GUIDE}, Match headers conditions ("You can only use wildcards in the header glob value")`,
        problem: (header) => (header.length >= 40 ? `${header.length} characters` : HEADER_NAME.test(header) ? undefined : ""),
    }),
    headerRule({
        id: "apigatewayv2.routing-rule-header-value", input: "conditions.*.matchHeaders.anyOf.valueGlob", field: "valueGlob",
        rule: "a value glob of fewer than 128 characters (fewer than 40 for a *contains* match), letters, digits and *?-!#$%&'.^_`|~ only, " +
            "with * only at the start, the end or both (prefix, suffix or contains match)",
        source: `${MATCH_HEADER_VALUE}, ValueGlob ("must be less than 128 characters ... Wildcard matching is supported ... for *prefix-match, suffix-match*, or *infix*-match"); ` +
            `${GUIDE}, Restrictions (a *contains* value glob)`,
        problem: (_header, glob) => {
            if (glob.length >= 128) return `${glob.length} characters`;
            if (!VALUE_GLOB.test(glob)) return "";
            if (glob.slice(1, -1).includes("*")) return "a * in the middle";
            return glob.length > 2 && glob.startsWith("*") && glob.endsWith("*") && glob.length >= 40 ? `${glob.length} characters in a *contains* match` : undefined;
        },
    }),
    headerRule({
        id: "apigatewayv2.routing-rule-header-supported", input: "conditions.*.matchHeaders.anyOf.header", field: "header",
        rule: `a header API Gateway routes on: not ${REFUSED_HEADERS.join(", ")}`,
        source: `${GUIDE}, Restrictions (the headers a routing rule cannot match on)`,
        problem: (header) => {
            const lower = header.toLowerCase();
            const refused = REFUSED_HEADERS.find((h) => (h.endsWith("*") ? lower.startsWith(h.slice(0, -1)) : lower === h));
            return refused === undefined ? undefined : `API Gateway refuses ${refused}`;
        },
    }),
    {
        id: "apigatewayv2.routing-rule-action", types: [ROUTING_RULE], input: "actions",
        rule: "exactly one action, invokeApi, naming the REST API (apiId) and its stage",
        source: `${GUIDE}, Actions ("the only supported action is to invoke a stage of a REST API. Each rule can have one action"); ${TF_RULE} (invoke_api: api_id and stage required)`,
        check(inputs) {
            const actions = Array.isArray(inputs.actions) ? inputs.actions as Inputs[] : [];
            if (actions.length !== 1) return [{ input: "actions", value: actions.length, detail: `${actions.length} actions` }];
            const invoke = actions[0].invokeApi as Inputs | undefined;
            const missing = ["apiId", "stage"].filter((k) => typeof invoke?.[k] !== "string" || invoke[k] === "");
            return missing.length === 0 ? [] : [{ input: "actions.0.invokeApi", value: invoke, detail: `no ${missing.join(" or ")}` }];
        },
    },
];
