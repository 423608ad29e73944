// The x-api-ring-* headers are the gateway's to set (the authorizer's context on a protected
// operation, fixed values on a public one: openapi CONTEXT_HEADERS), and backends trust them. A
// mapping replaces a client's header only under the name it maps, and API Gateway processes header
// names case-sensitively ("Amazon API Gateway important notes for REST APIs"); it cannot delete a
// header an http_proxy integration passes on. Backends fold names further: a WSGI server reads
// X-Api-Ring-Plan, x_api_ring_plan and X_API-RING_plan all as HTTP_X_API_RING_PLAN (PEP 3333; RFC 3875
// section 4.1.18). So each stage gets an AWS WAF web ACL whose one rule blocks a request carrying any
// header whose name starts with x-api-ring- in any case with "_" or "-" at each separator, before
// routing, the authorizer and every integration, public ones included. API Gateway then answers its
// WAF_FILTERED gateway response, 403 {"message":"Forbidden"}.
// The rule inspects header keys (FieldToMatch Headers, MatchScope KEY, all headers: AWS WAF API
// reference, "Headers"); WAF sees only the first 8 KB and 200 headers of a request, so an oversized set
// of headers counts as a match (OversizeHandling MATCH): a request cannot hide a forged header behind
// padding. The local run applies the same pattern (local/gateway.ts).
import type * as aws from "@pulumi/aws";

/** Every header the gateway sets from the authorizer's context starts with this (openapi CONTEXT_HEADERS). */
export const RESERVED_HEADER_PREFIX = "x-api-ring-";

/**
 * A regular expression matching, at the start of a header name, `prefix` in any case and with "_" or
 * "-" at each separator: the spellings a backend may fold into the same name. It uses only character
 * classes, so AWS WAF (PCRE syntax) and JavaScript read it alike, and no text transformation is needed.
 */
export function foldedNamePattern(prefix: string): string {
    return `^${[...prefix].map((c) => (c === "-" || c === "_" ? "[-_]" : /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))).join("")}`;
}

export const RESERVED_HEADER_PATTERN = foldedNamePattern(RESERVED_HEADER_PREFIX);

const reserved = new RegExp(RESERVED_HEADER_PATTERN);

/** The first header name (as the client wrote it) the web ACL blocks a request for, if any. */
export function reservedHeaderIn(names: Iterable<string>): string | undefined {
    for (const name of names) if (reserved.test(name)) return name;
    return undefined;
}

/** The web ACL rule: block a request carrying a reserved header name in any spelling. */
export function reservedHeadersRule(metricName: string): aws.types.input.wafv2.WebAclRule {
    return {
        name: "reserved-context-headers",
        priority: 0,
        action: { block: {} },
        statement: {
            regexMatchStatement: {
                regexString: RESERVED_HEADER_PATTERN,
                fieldToMatch: { headers: [{ matchPattern: { all: {} }, matchScope: "KEY", oversizeHandling: "MATCH" }] },
                textTransformations: [{ priority: 0, type: "NONE" }],
            },
        },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true },
    };
}
