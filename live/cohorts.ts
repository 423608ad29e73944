// Header cohorts: the rules API Gateway sets on routing rules, checked before anything is deployed,
// each refusal naming the field, what it got and what API Gateway takes. Source: AWS, "Routing rules
// to connect API stages to a custom domain name for REST APIs" (Restrictions; Match headers
// conditions), and the provider's schema (terraform-provider-aws internal/service/apigatewayv2/
// routing_rule.go: priority 1-1,000,000, one header per condition, at least one condition).
import type { Cohort, CohortHeader } from "../outputs";

/** API Gateway takes up to two header conditions in one rule. */
export const MAX_COHORT_HEADERS = 2;
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 1_000_000;
/** Priorities the ring hands out when none is given: gaps, as AWS advises, so rules can be reordered. */
export const PRIORITY_STEP = 100;

/** Header names and value globs: RFC 7230 token characters (a-z, A-Z, 0-9 and *?-!#$%&'.^_`|~). */
const TOKEN = /^[A-Za-z0-9*?\-!#$%&'.^_`|~]+$/;

/** Headers API Gateway refuses as conditions; a trailing `*` names a prefix. */
const UNSUPPORTED_HEADERS = [
    "access-control-*", "apigw-*", "authorization", "connection", "content-encoding", "content-length", "content-location",
    "forwarded", "keep-alive", "origin", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding",
    "upgrade", "x-amz-*", "x-amzn-*", "x-apigw-api-id", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-restapi", "via",
];

function unsupported(name: string): string | undefined {
    const lower = name.toLowerCase();
    return UNSUPPORTED_HEADERS.find((h) => (h.endsWith("*") ? lower.startsWith(h.slice(0, -1)) : lower === h));
}

/** What is wrong with one header of a cohort, if anything: each problem names the field and what API Gateway takes. */
export function headerProblems(header: CohortHeader, field = "header"): string[] {
    const problems: string[] = [];
    const { name, value } = header;
    if (name === "" || !TOKEN.test(name)) {
        problems.push(`${field} name ${JSON.stringify(name)}: expected a header name of letters, digits and !#$%&'.^_\`|~- (RFC 7230 token characters)`);
    } else if (name.includes("*")) {
        problems.push(`${field} name ${JSON.stringify(name)}: expected a header name without *: API Gateway matches header names literally, with no wildcard`);
    } else if (name.length >= 40) {
        problems.push(`${field} name ${JSON.stringify(name)}: expected fewer than 40 characters, got ${name.length}`);
    } else if (unsupported(name)) {
        problems.push(`${field} name ${JSON.stringify(name)}: API Gateway refuses ${unsupported(name)} as a routing rule condition; expected another header, e.g. X-Ring-Cohort`);
    }
    if (value === "" || !TOKEN.test(value)) {
        problems.push(`${field} value ${JSON.stringify(value)}: expected a value glob of letters, digits and *?!#$%&'.^_\`|~- (RFC 7230 token characters)`);
    } else if (value.slice(1, -1).includes("*")) {
        problems.push(`${field} value ${JSON.stringify(value)}: expected * only at the start or the end (beta, beta*, *beta, *beta*), never in the middle`);
    } else if (value.length >= 128) {
        problems.push(`${field} value ${JSON.stringify(value)}: expected fewer than 128 characters, got ${value.length}`);
    } else if (value.length > 2 && value.startsWith("*") && value.endsWith("*") && value.length >= 40) {
        problems.push(`${field} value ${JSON.stringify(value)}: expected fewer than 40 characters for a *contains* match, got ${value.length}`);
    }
    return problems;
}

/** Parses `NAME=VALUE` (the command line's --header). */
export function parseHeader(argument: string): CohortHeader {
    const at = argument.indexOf("=");
    if (at <= 0) throw new Error(`--header ${JSON.stringify(argument)}: expected NAME=VALUE, e.g. X-Ring-Cohort=beta`);
    return { name: argument.slice(0, at), value: argument.slice(at + 1) };
}

/** Two cohorts match the same requests when they name the same headers (names case-insensitively) with the same globs. */
export function sameHeaders(a: readonly CohortHeader[], b: readonly CohortHeader[]): boolean {
    const key = (hs: readonly CohortHeader[]) => hs.map((h) => `${h.name.toLowerCase()}=${h.value}`).sort().join("\n");
    return key(a) === key(b);
}

/** Every problem of a set of cohorts (the ones the live pointer will hold), each naming the cohort and the field. */
export function cohortProblems(cohorts: readonly Cohort[]): string[] {
    const problems: string[] = [];
    cohorts.forEach((c, i) => {
        const label = `cohort ${i + 1} (${c.headers.map((h) => `${h.name}=${h.value}`).join(", ") || "no header"} -> ${c.slot})`;
        if (c.headers.length === 0 || c.headers.length > MAX_COHORT_HEADERS) {
            problems.push(`${label}: expected 1 or ${MAX_COHORT_HEADERS} headers (API Gateway takes up to two header conditions in one rule), got ${c.headers.length}`);
        }
        c.headers.forEach((h, j) => problems.push(...headerProblems(h, `${label}: header ${j + 1}`)));
        if (!Number.isInteger(c.priority) || c.priority < MIN_PRIORITY || c.priority > MAX_PRIORITY) {
            problems.push(`${label}: priority ${c.priority}: expected a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY.toLocaleString("en-US")}`);
        }
        const clash = cohorts.findIndex((o, k) => k < i && o.priority === c.priority);
        if (clash >= 0) problems.push(`${label}: priority ${c.priority}: expected a priority no other rule has; cohort ${clash + 1} has it`);
        const twin = cohorts.findIndex((o, k) => k < i && sameHeaders(o.headers, c.headers));
        if (twin >= 0) problems.push(`${label}: expected headers no other cohort matches; cohort ${twin + 1} matches the same requests`);
    });
    return problems;
}

/** The next free priority after the cohorts' highest, on the PRIORITY_STEP grid. */
export function nextPriority(cohorts: readonly Cohort[]): number {
    const top = Math.max(0, ...cohorts.map((c) => c.priority));
    return Math.min(MAX_PRIORITY, (Math.floor(top / PRIORITY_STEP) + 1) * PRIORITY_STEP);
}

/** A header value that matches a glob, for the gate's probe through the domain: the glob without its wildcards. */
export function probeValue(glob: string): string {
    const literal = glob.replace(/^\*|\*$/g, "");
    return literal === "" ? "ring-gate" : literal;
}

/** Checks a value read back from state or sent by a command: a Cohort with the fields it needs. */
export function isCohort(value: unknown): value is Cohort {
    if (typeof value !== "object" || value === null) return false;
    const c = value as Record<string, unknown>;
    return typeof c.slot === "string" && c.slot !== "" && typeof c.priority === "number" && Array.isArray(c.headers) &&
        c.headers.every((h: unknown) => typeof h === "object" && h !== null && typeof (h as CohortHeader).name === "string" && typeof (h as CohortHeader).value === "string");
}
