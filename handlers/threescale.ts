// 3scale Service Management API client (authrep.xml, authorize.xml, transactions.xml) and
// the one parser for its XML replies. Reply shapes follow apisonator:
//   200/409  <status><authorized>true|false</authorized>[<reason>..</reason>]<plan>..</plan>
//            [<usage_reports><usage_report metric=".." period=".." [exceeded="true"]>
//              <period_start/><period_end/><max_value/><current_value/></usage_report>..</usage_reports>]
//            [<app_keys app="APP_ID" svc="SERVICE_ID">..</app_keys>]</status>
//   403/404  <error code="user_key_invalid">user key "x" is invalid</error>
//   202      (transactions.xml, empty body: accepted for asynchronous processing)
// The `list_app_keys` extension (header `3scale-options: list_app_keys=1`) makes apisonator
// name the application (`<app_keys app="..">`) even for a user_key, so the authorizer learns
// a non-secret application id to report usage against; `rejection_reason_header=1` names the
// validator behind a 409 in `3scale-rejection-reason`; `limit_headers=1` adds, on a 200 or a
// limits_exceeded 409, `3scale-limit-remaining`/`-reset`/`-max-value` (docs/extensions.md): what
// is left of the most constrained limit and seconds to its end, on 3scale's own clock.
// A refusal about our own service (bad service token or id, service not active, a credential
// type the service does not take: "user key is missing", "application id is missing") is a
// 3scale failure, so the failure mode applies; only refusals about the caller are denials.
//
// A reply is data from the network, read with bounds (issue 17): apisonator's replies are an XML
// declaration and one <status> or <error> element, never a DTD (lib/3scale/backend/transactor/status.rb
// Status#to_xml, errors.rb), so a DOCTYPE, an entity declaration or an entity reference other than
// XML's own five and numeric character references (Builder escapes with those) makes the reply a
// failure, as does a reply over MAX_REPLY_BYTES (cut off as it streams in) or a field over its bound.
import type { XMLParser } from "fast-xml-parser";
import { readBoundedBody } from "./bounded-body";
import { AuthorizerSettings } from "./settings";

export type ThreescaleSettings = AuthorizerSettings["threescale"];

export interface UsageReport {
    metric: string;
    period: string;
    maxValue: number;
    currentValue: number;
    exceeded: boolean;
    periodStart?: string;
    periodEnd?: string;
    /** periodStart / periodEnd in ms since epoch; undefined for eternity (no bounds). */
    startMs?: number;
    endMs?: number;
}

/** The limit_headers extension: identical calls left (-1: no limit), seconds to the period's end (-1: never), its max. */
export interface LimitHeaders {
    remaining: number;
    reset: number;
    maxValue?: number;
}

/** 3scale answered and authorized the application. */
export interface Authorized {
    kind: "authorized";
    status: number;
    plan: string;
    /** From the list_app_keys extension; undefined when the backend did not send it. */
    appId?: string;
    usageReports: UsageReport[];
    limit?: LimitHeaders;
}

/** 3scale answered and refused this caller: limits exceeded, inactive app, bad app key (409), unknown key or app (403/404). */
export interface Denied {
    kind: "denied";
    status: number;
    reason: string;
    /** The error code of a 403/404 (e.g. user_key_invalid); "limits_exceeded" etc. derived for 409. */
    code: string;
    plan?: string;
    appId?: string;
    usageReports: UsageReport[];
    /** On a limits_exceeded 409 (limit_headers extension): when the exhausted limit resets. */
    limit?: LimitHeaders;
}

/** 3scale could not give an answer about the caller: down, slow, 5xx, garbage, or our own service refused. */
export interface Failed {
    kind: "failed";
    /** HTTP status when there was a reply. */
    status?: number;
    reason: string;
    /** timeout | unreachable | server_error | malformed | the 3scale error code (e.g. service_token_invalid). */
    code: string;
    /**
     * The request may have reached 3scale and been acted on (no reply came: a timeout or a
     * connection cut after sending). Only a report acts, so only report outcomes set it.
     */
    inDoubt?: boolean;
    /** 3scale read the report as one that "should not be repeated without modification" (UNREPEATABLE_REPORT_CODES). */
    unrepeatable?: boolean;
}

export type AuthOutcome = Authorized | Denied | Failed;

export type ReportOutcome = { kind: "accepted"; status: number } | Failed;

/**
 * Who a call is about: a user_key (backend_version 1 services), or an application id with an
 * optional application key (backend_version 2 and oauth). transactions.xml takes either on any
 * service; authorize/authrep take only the kind the service identifies applications by.
 */
export type Identity = { userKey: string } | { appId: string; appKey?: string };

export interface Transaction {
    identity: Identity;
    usage: Record<string, number>;
    /** When the usage happened (ms since epoch); 3scale puts it in that period. Default: when 3scale processes it. */
    timestamp?: number;
}

export interface ThreescaleClient {
    authrep(identity: Identity, usage?: Record<string, number>): Promise<AuthOutcome>;
    /** Never counts: `usage` is only checked against the limits (apisonator's predicted usage). */
    authorize(identity: Identity, usage?: Record<string, number>): Promise<AuthOutcome>;
    report(transactions: Transaction[]): Promise<ReportOutcome>;
}

/**
 * 409 rejection codes (apisonator's validators) that describe the caller's application. Any other
 * (service_not_active, oauth_not_enabled, ...) is about our service.
 */
const CALLER_REJECTIONS: ReadonlySet<string> = new Set(["limits_exceeded", "application_not_active", "application_key_invalid", "referrer_not_allowed"]);

/** The rejection code behind a 409's reason text, when the backend sent no 3scale-rejection-reason header. */
const REASON_CODES: [RegExp, string][] = [
    [/^usage limits are exceeded$/, "limits_exceeded"],
    [/^application is not active$/, "application_not_active"],
    [/^service is not active$/, "service_not_active"],
    [/^application key /, "application_key_invalid"],
    [/^referrer /, "referrer_not_allowed"],
    [/^oauth is not enabled$/, "oauth_not_enabled"],
];

/**
 * <error> codes that say the caller's credential names no application. The same codes with
 * "... is missing" mean we sent a credential type the service does not take: our fault.
 */
const CALLER_ERRORS: Record<string, RegExp> = {
    user_key_invalid: /^user key ".*" is invalid$/s,
    application_not_found: /^application with id=".*" was not found$/s,
};

/** Whether a denial says the credential names no application (not a limit, not a refusal of our own service). */
export function refusesCredential(outcome: AuthOutcome): outcome is Denied {
    return outcome.kind === "denied" && Object.prototype.hasOwnProperty.call(CALLER_ERRORS, outcome.code);
}

/** Largest 3scale reply read: a status with a few dozen usage reports is a few KiB. */
export const MAX_REPLY_BYTES = 64 * 1024;

/** Bounds on what one reply may carry; apisonator's real values are far inside them. */
export const REPLY_BOUNDS = {
    /** Plan names, application ids, metric names, periods, error codes (porta keeps them in 255-character columns). */
    name: 255,
    /** A 409's reason or an <error>'s message. */
    message: 1024,
    /** <usage_report> elements: one per limit of the plan (metric x period). */
    usageReports: 256,
    /** Attributes on one element: apisonator sends at most three (metric, period, exceeded). */
    attributesPerElement: 8,
};

/** A reply that breaks the rules above: the caller turns it into a "malformed" failure. */
class UnsafeReply extends Error {}

// Any markup declaration (<!DOCTYPE, <!ENTITY, <!ELEMENT, <![CDATA[, comments) or processing
// instruction after the leading XML declaration; and any entity reference but XML's five and numeric ones.
const DECLARATION = /<!|<\?(?!xml[\s?])|[\s\S]<\?xml/;
const BAD_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Refuses what apisonator never sends before the parser sees it. */
function checkMarkup(body: string): void {
    if (DECLARATION.test(body)) throw new UnsafeReply("a DOCTYPE, declaration, comment or processing instruction");
    if (BAD_ENTITY.test(body)) throw new UnsafeReply("an entity reference XML does not define");
}

/** A field's text within its bound and free of control characters (they would reach Redis, headers and logs). */
function bounded(value: string | undefined, max: number, what: string): string | undefined {
    if (value === undefined) return undefined;
    if (value.length > max) throw new UnsafeReply(`${what} over ${max} characters`);
    if (CONTROL.test(value)) throw new UnsafeReply(`${what} with a control character`);
    return value;
}

/** Counts attributes on every element, so a reply cannot make the parser's work or the result grow without bound. */
function checkAttributes(node: unknown): void {
    if (Array.isArray(node)) {
        for (const n of node) checkAttributes(n);
        return;
    }
    if (typeof node !== "object" || node === null) return;
    let attributes = 0;
    for (const [k, v] of Object.entries(node)) {
        if (k.startsWith("@_")) attributes += 1;
        else checkAttributes(v);
    }
    if (attributes > REPLY_BOUNDS.attributesPerElement) throw new UnsafeReply(`an element with ${attributes} attributes`);
}

/** The XML parser's package, loaded with the first reply: a cache hit never reads XML. */
export const XML_PACKAGE = "fast-xml-parser";

let parser: XMLParser | undefined;

/** The container's one parser (a parse keeps no state between documents). */
function xml(): XMLParser {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    parser ??= new (require(XML_PACKAGE) as typeof import("fast-xml-parser")).XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: "@_",
        parseTagValue: false,
        parseAttributeValue: false,
        trimValues: true,
        // XML's five entities and numeric character references only: checkMarkup has refused any
        // other reference and any DTD before the parser runs, so no entity can be declared or expanded.
        processEntities: true,
        htmlEntities: true,
        isArray: (name: string) => name === "usage_report",
    });
    return parser;
}

type XmlNode = Record<string, unknown>;

function asNode(v: unknown): XmlNode | undefined {
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as XmlNode) : undefined;
}

function text(v: unknown): string | undefined {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    const node = asNode(v);
    if (node && typeof node["#text"] === "string") return node["#text"];
    return undefined;
}

/** apisonator's '%Y-%m-%d %H:%M:%S %z' (e.g. "2010-05-16 00:00:00 +0000") to ms since epoch. */
export function parseThreescaleTime(value: string | undefined): number | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value ?? "");
    if (!m) return undefined;
    const offset = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - offset;
}

/** A count apisonator writes as a whole number; anything else makes the reply unsafe. */
function wholeNumber(v: unknown, what: string): number {
    const raw = text(v) ?? "";
    const n = Number(raw);
    if (!/^-?[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(n)) throw new UnsafeReply(`${what} that is not a whole number`);
    return n;
}

function parseUsageReports(v: unknown): UsageReport[] {
    const list = asNode(v)?.usage_report;
    if (!Array.isArray(list)) return [];
    if (list.length > REPLY_BOUNDS.usageReports) throw new UnsafeReply(`${list.length} usage reports`);
    return list.flatMap((entry): UsageReport[] => {
        const r = asNode(entry);
        if (!r) return [];
        const maxValue = wholeNumber(r.max_value, "a max_value");
        const currentValue = wholeNumber(r.current_value, "a current_value");
        const periodStart = bounded(text(r.period_start), 64, "a period_start");
        const periodEnd = bounded(text(r.period_end), 64, "a period_end");
        return [{
            metric: bounded(text(r["@_metric"]), REPLY_BOUNDS.name, "a metric name") ?? "",
            period: bounded(text(r["@_period"]), REPLY_BOUNDS.name, "a period") ?? "",
            maxValue,
            currentValue,
            exceeded: text(r["@_exceeded"]) === "true",
            periodStart,
            periodEnd,
            startMs: parseThreescaleTime(periodStart),
            endMs: parseThreescaleTime(periodEnd),
        }];
    });
}

/**
 * Maps one Service Management API reply (HTTP status + body, and the `3scale-rejection-reason`
 * header if any) of authrep.xml or authorize.xml to a typed outcome. Never throws.
 */
export function parseAuthReply(status: number, body: string | undefined, rejectionReason?: string | null): AuthOutcome {
    if (status >= 500) return { kind: "failed", status, code: "server_error", reason: `3scale answered ${status}` };
    if (body === undefined) return { kind: "failed", status, code: "malformed", reason: `3scale's ${status} reply is over ${MAX_REPLY_BYTES} bytes or not UTF-8` };
    try {
        return readAuthReply(status, body, rejectionReason);
    } catch (e) {
        if (!(e instanceof UnsafeReply)) throw e;
        return { kind: "failed", status, code: "malformed", reason: `3scale's ${status} reply has ${e.message}` };
    }
}

function readAuthReply(status: number, body: string, rejectionReason: string | null | undefined): AuthOutcome {
    checkMarkup(body);
    let doc: XmlNode | undefined;
    try {
        doc = asNode(xml().parse(body, true));
    } catch {
        doc = undefined;
    }
    checkAttributes(doc);
    const statusNode = asNode(doc?.status);
    const errorNode = doc?.error;
    if ((status === 200 || status === 409) && statusNode) {
        const authorized = text(statusNode.authorized);
        const plan = bounded(text(statusNode.plan), REPLY_BOUNDS.name, "a plan name");
        const appId = bounded(text(asNode(statusNode.app_keys)?.["@_app"]), REPLY_BOUNDS.name, "an application id") || undefined;
        const usageReports = parseUsageReports(statusNode.usage_reports);
        if (authorized === "true" && status === 200) {
            return { kind: "authorized", status, plan: plan ?? "", appId, usageReports };
        }
        if (authorized === "false" || authorized === "true") {
            const reason = bounded(text(statusNode.reason), REPLY_BOUNDS.message, "a reason") ?? "not authorized";
            const code = bounded(rejectionReason ?? undefined, REPLY_BOUNDS.name, "a rejection reason header") || REASON_CODES.find(([pattern]) => pattern.test(reason))?.[1] || "not_authorized";
            if (!CALLER_REJECTIONS.has(code) && code !== "not_authorized") {
                // e.g. service_not_active: 3scale refused our service, not the caller.
                return { kind: "failed", status, code, reason: `3scale refused the service (${status} ${code})` };
            }
            // The reason of a bad app key quotes the key: keep only the code's words then.
            const safeReason = code === "application_key_invalid" ? "application key invalid" : reason;
            return { kind: "denied", status, reason: safeReason, code, plan, appId, usageReports };
        }
    }
    if (status >= 400 && status < 500 && errorNode !== undefined) {
        const code = bounded(text(asNode(errorNode)?.["@_code"]), REPLY_BOUNDS.name, "an error code") ?? "";
        const message = bounded(text(errorNode), REPLY_BOUNDS.message, "an error message") ?? "";
        // apisonator's messages quote the user key or the service token
        // (`user key "..." is invalid`): keep only the code, so no secret reaches a cache or a log.
        if (CALLER_ERRORS[code]?.test(message)) return { kind: "denied", status, code, reason: code.replace(/_/g, " "), usageReports: [] };
        // service_token_invalid, service_id_invalid, "user key is missing", authentication_error, metric_invalid, ...:
        // 3scale refused our request, not the caller.
        const what = /is missing$/.test(message) ? `, ${message}: the service takes another credential type` : "";
        return { kind: "failed", status, code: code || "rejected", reason: `3scale refused the request (${status} ${code || "no code"}${what})` };
    }
    return { kind: "failed", status, code: "malformed", reason: `unexpected ${status} reply from 3scale (${body.length} bytes)` };
}

/**
 * transactions.xml refusals that no retry of the same request can change: apisonator's BadRequest
 * family (400: "request contains syntax errors, should not be repeated without modification") and
 * NotValidData (422, bytes that are not UTF-8), answered before any job (errors.rb, listener.rb
 * check_transactions_validity, rack/exception_catcher.rb). Refusals of our own credentials (403
 * service_token_invalid, 422 service_id_missing) are not among them: they change with the config.
 */
export const UNREPEATABLE_REPORT_CODES: ReadonlySet<string> = new Set([
    "bad_request", "content_type_invalid", "transactions_is_blank", "transactions_format_invalid",
    "transactions_has_nil_transaction", "end_users_no_longer_supported", "not_valid_data",
]);

/**
 * Of those, the refusals of the request itself, whatever transactions it carries: its Content-Type
 * header (listener.rb check_post_content_type!) and a blank `transactions` (check_transactions_validity).
 * No transaction is at fault, so halving the call finds none; the fault is the reporter's own.
 */
export const REQUEST_REFUSAL_CODES: ReadonlySet<string> = new Set(["content_type_invalid", "transactions_is_blank"]);

/** The limit_headers extension's headers; undefined when 3scale sent none. */
export function parseLimitHeaders(header: (name: string) => string | null | undefined): LimitHeaders | undefined {
    const remaining = Number(header("3scale-limit-remaining") ?? NaN);
    const reset = Number(header("3scale-limit-reset") ?? NaN);
    if (!Number.isInteger(remaining) || !Number.isInteger(reset)) return undefined;
    const max = Number(header("3scale-limit-max-value") ?? NaN);
    return Number.isInteger(max) ? { remaining, reset, maxValue: max } : { remaining, reset };
}

/** Maps a transactions.xml reply; only 202 means 3scale took the counts. */
export function parseReportReply(status: number, body: string | undefined): ReportOutcome {
    if (status === 202) return { kind: "accepted", status };
    if (status >= 500) return { kind: "failed", status, code: "server_error", reason: `3scale answered ${status}` };
    let code = "rejected";
    try {
        if (body === undefined) throw new UnsafeReply("an unbounded body");
        checkMarkup(body);
        const err = asNode(xml().parse(body, true))?.error;
        if (err !== undefined) code = bounded(text(asNode(err)?.["@_code"]), REPLY_BOUNDS.name, "an error code") ?? code;
    } catch {
        code = "malformed";
    }
    // The message may quote the service token: only the code is kept.
    const unrepeatable = (status === 400 || status === 422) && UNREPEATABLE_REPORT_CODES.has(code) ? true : undefined;
    return { kind: "failed", status, code, reason: `3scale did not accept the report (${status} ${code})`, unrepeatable };
}

function usageParams(params: URLSearchParams, prefix: string, usage: Record<string, number> | undefined): void {
    for (const [metric, value] of Object.entries(usage ?? {})) params.append(`${prefix}[${metric}]`, String(value));
}

function identityParams(params: URLSearchParams, name: (field: string) => string, identity: Identity, withAppKey: boolean): void {
    if ("userKey" in identity) {
        params.append(name("user_key"), identity.userKey);
        return;
    }
    params.append(name("app_id"), identity.appId);
    if (withAppKey && identity.appKey !== undefined) params.append(name("app_key"), identity.appKey);
}

/** apisonator's own date format; it reads it back as UTC (extensions/time.rb). */
export function formatTimestamp(ms: number): string {
    return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} +0000`;
}

/** Turns a thrown fetch error into a Failed outcome; `acts`: the call could have changed 3scale (a report). */
function failure(e: unknown, timeoutMs: number, acts: boolean): Failed {
    const err = e as Error & { cause?: { code?: string } };
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
        return { kind: "failed", code: "timeout", reason: `3scale gave no answer within ${timeoutMs} ms`, inDoubt: acts || undefined };
    }
    const cause = err?.cause?.code ?? err?.message ?? String(e);
    // Refused or unresolvable: nothing was sent. Anything else (a connection cut) may have been.
    const notSent = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].includes(String(cause));
    return { kind: "failed", code: "unreachable", reason: `3scale unreachable: ${cause}`, inDoubt: acts && !notSent ? true : undefined };
}

export interface ThreescaleClientOptions {
    /** Called once per HTTP call (benchmarks count them). */
    onCall?: (endpoint: string) => void;
}

/** A Service Management API client; every call is bounded by `settings.timeoutMs`. */
export function createThreescaleClient(settings: ThreescaleSettings, options: ThreescaleClientOptions = {}): ThreescaleClient {
    const base = settings.backendUrl.replace(/\/+$/, "");
    const credentials = (): URLSearchParams => new URLSearchParams({ service_token: settings.serviceToken, service_id: settings.serviceId });
    const headers = { accept: "application/vnd.3scale-v2.0+xml", "3scale-options": "list_app_keys=1&rejection_reason_header=1&limit_headers=1" };

    /** One call; the body is undefined when it is over MAX_REPLY_BYTES or not UTF-8 (read no further), or not needed (a 202). */
    const call = async (path: string, init: RequestInit): Promise<{ status: number; body: string | undefined; rejection: string | null; limit?: LimitHeaders }> => {
        options.onCall?.(path);
        const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(settings.timeoutMs) });
        const body = response.status === 202 ? await readBoundedBody(response, 0) : await readBoundedBody(response, MAX_REPLY_BYTES);
        return {
            status: response.status, body, rejection: response.headers.get("3scale-rejection-reason"),
            limit: parseLimitHeaders((name) => response.headers.get(name)),
        };
    };
    const auth = async (endpoint: string, identity: Identity, usage: Record<string, number> | undefined): Promise<AuthOutcome> => {
        const params = credentials();
        identityParams(params, (f) => f, identity, true);
        usageParams(params, "usage", usage);
        try {
            const reply = await call(`/transactions/${endpoint}?${params.toString()}`, { method: "GET", headers });
            const outcome = parseAuthReply(reply.status, reply.body, reply.rejection);
            if (reply.limit && outcome.kind !== "failed") outcome.limit = reply.limit;
            return outcome;
        } catch (e) {
            return failure(e, settings.timeoutMs, false);
        }
    };
    return {
        authrep: (identity, usage = { hits: 1 }) => auth("authrep.xml", identity, usage),
        authorize: (identity, usage) => auth("authorize.xml", identity, usage),
        report: async (transactions) => {
            const params = credentials();
            transactions.forEach((t, i) => {
                identityParams(params, (f) => `transactions[${i}][${f}]`, t.identity, false);
                usageParams(params, `transactions[${i}][usage]`, t.usage);
                if (t.timestamp !== undefined) params.append(`transactions[${i}][timestamp]`, formatTimestamp(t.timestamp));
            });
            try {
                const reply = await call("/transactions.xml", {
                    method: "POST",
                    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
                    body: params.toString(),
                });
                return parseReportReply(reply.status, reply.body);
            } catch (e) {
                return failure(e, settings.timeoutMs, true);
            }
        },
    };
}
