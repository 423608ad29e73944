// Rule 16: no client can forge the headers the gateway sets from the authorizer's context. API
// Gateway replaces a client's header only under the exact name a mapping sets and cannot delete one,
// and a backend folds names further (a WSGI server reads X-Api-Ring-Plan, x_api_ring_plan and
// X_API-RING_plan all as HTTP_X_API_RING_PLAN, PEP 3333), so every stage must sit behind an AWS WAF
// web ACL whose rule blocks any request carrying a header named x-api-ring-* in any such spelling
// (README "What backends can trust"). A stack validation: the stage, its association and the web ACL
// are separate resources. The rule is judged by what its pattern matches, not by its text.
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, elements, isOpaque, isSet, keysOf, ofType, read, referenced, refersTo } from "./support";
import { T } from "./types";

/**
 * The prefix of every header the gateway sets from the authorizer's context: openapi CONTEXT_HEADERS
 * (openapi/authorizer.ts) and components/reservedHeaders.ts RESERVED_HEADER_PREFIX, which policy/ may
 * not import (its import boundary), hence restated here.
 */
export const CONTEXT_HEADER_PREFIX = "x-api-ring-";

const WILDCARD = `${CONTEXT_HEADER_PREFIX}*`;

/**
 * Spellings of a context header a backend reads as the same name: every case pattern over every choice
 * of "-" or "_" at each separator, plus a few irregular ones. The rule's pattern must match them all.
 */
function foldedSpellings(suffix: string): string[] {
    const words = CONTEXT_HEADER_PREFIX.split("-").filter((w) => w !== "");
    const cases: ((w: string, i: number) => string)[] = [
        (w) => w,
        (w) => w.charAt(0).toUpperCase() + w.slice(1),
        (w) => w.toUpperCase(),
        (w, i) => [...w].map((c, j) => ((i + j) % 2 === 0 ? c : c.toUpperCase())).join(""),
        (w, i) => [...w].map((c, j) => ((i + j) % 2 === 0 ? c.toUpperCase() : c)).join(""),
    ];
    const out = new Set<string>(["x-api-ring-plan", "X-Api-Ring-Plan", "X_API_RING_PLAN", "x_Api-rInG_app"]);
    for (let separators = 0; separators < 2 ** words.length; separators++) {
        for (const spell of cases) {
            const parts = [...words, suffix].map((w, i) => spell(w, i));
            out.add(parts.map((p, i) => (i < words.length ? p + ((separators >> i) & 1 ? "_" : "-") : p)).join(""));
        }
    }
    return [...out];
}

const SPELLINGS = foldedSpellings("plan");

// What each AWS WAF text transformation does to a header name made of letters, "-" and "_" (AWS WAF
// Developer Guide, "Using text transformations in AWS WAF"; API reference, TextTransformation):
// CMD_LINE, among its other steps, turns uppercase into lowercase; the decoding, whitespace, null and
// path ones leave such a name as it is. Any other (MD5, SHA256, BASE64_DECODE, HEX_DECODE, ...) turns
// it into something the policy cannot compare, so a rule using one is not judged to block.
const TRANSFORMATIONS: Record<string, (name: string) => string> = {
    LOWERCASE: (n) => n.toLowerCase(),
    CMD_LINE: (n) => n.toLowerCase(),
    UPPERCASE: (n) => n.toUpperCase(),
    ...Object.fromEntries(["NONE", "COMPRESS_WHITE_SPACE", "HTML_ENTITY_DECODE", "URL_DECODE", "URL_DECODE_UNI", "ESCAPE_SEQ_DECODE", "JS_DECODE", "CSS_DECODE",
        "UTF8_TO_UNICODE", "REPLACE_COMMENTS", "REMOVE_NULLS", "REPLACE_NULLS", "NORMALIZE_PATH", "NORMALIZE_PATH_WIN", "REMOVE_WHITESPACE", "TRIM", "TRIM_LEFT", "TRIM_RIGHT",
    ].map((t) => [t, (n: string) => n])),
};

/** Problems that keep a rule from blocking every spelling; UNKNOWN when values a preview does not know leave it open. */
type Verdict = string[] | typeof UNKNOWN;

/**
 * The pattern as JavaScript reads it. AWS WAF reads PCRE; a leading (?i), PCRE's usual way to ignore
 * case, becomes JavaScript's "i" flag.
 */
function compile(regexString: string): RegExp | undefined {
    const caseless = regexString.startsWith("(?i)");
    try {
        return new RegExp(caseless ? regexString.slice(4) : regexString, caseless ? "i" : "");
    } catch {
        return undefined;
    }
}

/** What the statement's pattern fails to match, after the statement's text transformations. */
function patternProblems(statement: unknown): Verdict {
    const regexString = read(statement, "regexString");
    const transformations = elements(read(statement, "textTransformations"));
    if (regexString === UNKNOWN || transformations === UNKNOWN) return UNKNOWN;
    if (typeof regexString !== "string") return [`regexString is ${describe(regexString)}`];
    const pattern = compile(regexString);
    if (!pattern) return [`regexString ${JSON.stringify(regexString)} is not a regular expression JavaScript reads`];
    const steps: ((n: string) => string)[] = [];
    const ordered = transformations.map((t) => ({ priority: read(t, "priority"), type: read(t, "type") }))
        .sort((a, b) => (typeof a.priority === "number" && typeof b.priority === "number" ? a.priority - b.priority : 0));
    for (const { type } of ordered) {
        if (type === UNKNOWN) return UNKNOWN;
        const step = typeof type === "string" ? TRANSFORMATIONS[type] : undefined;
        if (!step) return [`its text transformation ${describe(type)} changes header names beyond what the policy can compare`];
        steps.push(step);
    }
    const missed = SPELLINGS.find((s) => !pattern.test(steps.reduce((n, step) => step(n), s)));
    return missed === undefined ? [] : [`regexString ${JSON.stringify(regexString)} does not match ${missed}`];
}

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
    return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Whether the statement inspects the names of every header, oversized requests counting as a match. */
function fieldProblems(statement: unknown): Verdict {
    const headers = elements(read(statement, "fieldToMatch", "headers"));
    if (headers === UNKNOWN) return UNKNOWN;
    if (headers.length === 0) return ["its fieldToMatch is not headers"];
    const verdicts = headers.map((h): Verdict => {
        const scope = read(h, "matchScope");
        const all = read(h, "matchPattern", "all");
        const oversize = read(h, "oversizeHandling");
        const problems: string[] = [];
        if (scope !== UNKNOWN && scope !== "KEY" && scope !== "ALL") problems.push(`inspects ${describe(scope)}, not the header names (matchScope KEY or ALL)`);
        if (all !== UNKNOWN && !isSet(all)) problems.push("inspects only some headers, not all (matchPattern all)");
        // WAF inspects a request's first 8 KB and 200 headers; beyond, oversizeHandling decides (AWS WAF API reference, "Headers").
        if (oversize !== UNKNOWN && oversize !== "MATCH") problems.push(`lets a header past WAF's first 8 KB or 200 headers through (oversizeHandling ${describe(oversize)}, not MATCH)`);
        if (problems.length > 0) return [`fieldToMatch.headers ${listed(problems)}`];
        return [scope, all, oversize].includes(UNKNOWN) ? UNKNOWN : [];
    });
    if (verdicts.some((v) => v !== UNKNOWN && v.length === 0)) return [];
    if (verdicts.includes(UNKNOWN)) return UNKNOWN;
    return verdicts[0];
}

/** A rule's name for a message. */
function ruleName(rule: unknown): string {
    const name = read(rule, "name");
    return typeof name === "string" ? name : describe(name);
}

/** Why one rule of the web ACL does not block every spelling ([] when it does). */
function ruleProblems(rule: unknown, rules: unknown[]): Verdict {
    const statement = read(rule, "statement", "regexMatchStatement");
    if (statement === UNKNOWN) return UNKNOWN;
    const action = read(rule, "action");
    const verdicts: Verdict[] = [
        action === UNKNOWN ? UNKNOWN : isSet(read(action, "block")) ? [] : [`action is ${keysOf(action).join(", ") || "unset"}, not block`],
        fieldProblems(statement),
        patternProblems(statement),
    ];
    // Rules run in priority order and an allow ends the evaluation (AWS WAF Developer Guide, "Rule action").
    const priority = read(rule, "priority");
    for (const other of rules) {
        const p = read(other, "priority");
        if (other !== rule && typeof p === "number" && typeof priority === "number" && p < priority && isSet(read(other, "action", "allow"))) {
            verdicts.push([`rule ${ruleName(other)} (priority ${p}) allows requests before it runs`]);
        }
    }
    const problems = verdicts.flatMap((v) => (v === UNKNOWN ? [] : v));
    return problems.length === 0 && verdicts.includes(UNKNOWN) ? UNKNOWN : problems;
}

/** Why the web ACL lets a forged context header through ([] when it blocks every spelling, UNKNOWN when a preview cannot tell). */
function webAclProblems(acl: PolicyResource): Verdict {
    const rules = elements(read(acl.props, "rules"));
    if (rules === UNKNOWN) return UNKNOWN;
    const candidates = rules.filter((r) => read(r, "statement", "regexMatchStatement") !== undefined);
    if (candidates.length === 0) return ["no rule inspects header names with a regexMatchStatement"];
    const out: string[] = [];
    for (const rule of candidates) {
        const verdict = ruleProblems(rule, rules);
        if (verdict === UNKNOWN || verdict.length === 0) return verdict;
        out.push(`rule ${ruleName(rule)}: ${verdict.join(", ")}`);
    }
    return out;
}

function check(all: readonly PolicyResource[], report: ReportViolation): void {
    const stages = ofType(all, T.stage);
    const acls = ofType(all, T.webAcl);
    const associations = ofType(all, T.webAclAssociation);
    for (const stage of stages) {
        const stageName = read(stage.props, "stageName");
        const label = typeof stageName === "string" ? `${stageName} (${stage.name})` : stage.name;
        const matches = associations.map((a) => ({ a, match: refersTo(a, "resourceArn", stage, stages) }));
        // Associations that may be this stage's (ARNs unknown in preview) count as present; only the
        // ones known to be its are judged.
        const mine = matches.filter((x) => x.match === "yes").map((x) => x.a);
        if (mine.length === 0) {
            if (!matches.some((x) => x.match === "maybe")) {
                report(`stage ${label} has no AWS WAF web ACL association; associate a web ACL whose rule blocks headers named ${WILDCARD} in any spelling (components/gatewayRing.ts does).`, stage.urn);
            }
            continue;
        }
        const found: { acl: PolicyResource; problems: string[] }[] = [];
        const unseen: { association: PolicyResource; what: string }[] = [];
        // Set when one of the stage's web ACLs blocks every spelling, or a preview cannot tell yet.
        let blocksOrUnknown = false;
        for (const association of mine) {
            const arn = read(association.props, "webAclArn");
            const target = referenced(association, "webAclArn", [arn], acls);
            if (target.resources.length === 0) {
                if (target.opaque) blocksOrUnknown = true;
                else if (typeof arn === "string") unseen.push({ association, what: `web ACL ${arn}, which is not a web ACL of this stack, so the policy cannot see its rules` });
                else unseen.push({ association, what: `no web ACL (webAclArn is ${describe(arn)})` });
            }
            for (const acl of target.resources) {
                const scope = read(acl.props, "scope");
                if (!isOpaque(scope) && scope !== "REGIONAL") {
                    report(`stage ${label}: web ACL ${acl.name} has scope ${describe(scope)}; an API Gateway stage takes a REGIONAL web ACL (scope: "REGIONAL").`, acl.urn);
                }
                const verdict = webAclProblems(acl);
                if (verdict === UNKNOWN || verdict.length === 0) blocksOrUnknown = true;
                else found.push({ acl, problems: verdict });
            }
        }
        if (blocksOrUnknown) continue;
        for (const { association, what } of unseen) {
            report(`stage ${label}: its web ACL association ${association.name} names ${what}; associate one of this stack's (components/gatewayRing.ts does).`, association.urn);
        }
        for (const { acl, problems } of found) {
            report(`stage ${label}: web ACL ${acl.name} does not block headers named ${WILDCARD} in every spelling (${problems.join("; ")}); ` +
                "give it a rule with action block whose regexMatchStatement inspects the names of all headers (fieldToMatch.headers: matchPattern all, matchScope KEY, oversizeHandling MATCH) " +
                `with a regexString that matches ${CONTEXT_HEADER_PREFIX} in any case with - or _ at each separator (components/reservedHeaders.ts builds one).`, acl.urn);
        }
    }
}

export const stageBlocksForgedContextHeaders: StackValidationPolicy = {
    name: "stage-blocks-forged-context-headers",
    description: `Every API Gateway stage is associated with a REGIONAL AWS WAF web ACL whose rule blocks any request carrying a header named ${WILDCARD} in any spelling a backend folds into the same name, so no client can forge the headers the gateway sets from the authorizer's context.`,
    remediationSteps: "Create an aws.wafv2.WebAcl (scope REGIONAL) with a rule { action: { block: {} }, statement: { regexMatchStatement: { regexString, fieldToMatch: { headers: [{ matchPattern: { all: {} }, matchScope: \"KEY\", oversizeHandling: \"MATCH\" }] } } } } and an aws.wafv2.WebAclAssociation of it with the stage's arn, as components/gatewayRing.ts does.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => check(args.resources, report),
};
