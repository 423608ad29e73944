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
// a non-secret application id to report usage against.
import { XMLParser } from "fast-xml-parser";
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
}

/** 3scale answered and authorized the application. */
export interface Authorized {
    kind: "authorized";
    status: number;
    plan: string;
    /** From the list_app_keys extension; undefined when the backend did not send it. */
    appId?: string;
    usageReports: UsageReport[];
}

/** 3scale answered and refused this key: limits exceeded or inactive app (409), unknown key (403/404). */
export interface Denied {
    kind: "denied";
    status: number;
    reason: string;
    /** The error code of a 403/404 (e.g. user_key_invalid); "limits_exceeded" etc. derived for 409. */
    code: string;
    plan?: string;
    appId?: string;
    usageReports: UsageReport[];
}

/** 3scale could not give an answer about the key: down, slow, 5xx, garbage, or our own credentials rejected. */
export interface Failed {
    kind: "failed";
    /** HTTP status when there was a reply. */
    status?: number;
    reason: string;
    /** timeout | unreachable | server_error | malformed | the 3scale error code (e.g. service_token_invalid). */
    code: string;
}

export type AuthOutcome = Authorized | Denied | Failed;

export type ReportOutcome = { kind: "accepted"; status: number } | Failed;

/** Where a transaction's usage goes: an application id or (fallback) the user_key itself. */
export type Identity = { appId: string } | { userKey: string };

export interface Transaction {
    identity: Identity;
    usage: Record<string, number>;
}

export interface ThreescaleClient {
    authrep(userKey: string, usage?: Record<string, number>): Promise<AuthOutcome>;
    authorize(identity: Identity, usage?: Record<string, number>): Promise<AuthOutcome>;
    report(transactions: Transaction[]): Promise<ReportOutcome>;
}

/**
 * Error codes that describe the key or application, i.e. a real answer about this caller.
 * (Module-level constants are plain arrays and objects: Pulumi's closure serialization
 * copies them by value, and does not carry a Set or Map across.)
 */
const KEY_ERROR_CODES: readonly string[] = [
    "user_key_invalid",
    "application_not_found",
    "application_not_active",
    "application_key_invalid",
    "authentication_error",
    "limits_exceeded",
    "referrer_not_allowed",
    "referrer_filters_missing",
];

const REASON_CODES: Record<string, string> = {
    "usage limits are exceeded": "limits_exceeded",
    "application is not active": "application_not_active",
};

// Built per reply, not held at module level: Pulumi's closure serialization copies a
// captured object instance by value and the copy of an XMLParser does not parse.
function xmlParser(): XMLParser {
    return new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: "@_",
        parseTagValue: false,
        parseAttributeValue: false,
        trimValues: true,
        processEntities: true,
        isArray: (name: string) => name === "usage_report",
    });
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

function parseUsageReports(v: unknown): UsageReport[] {
    const list = asNode(v)?.usage_report;
    if (!Array.isArray(list)) return [];
    return list.flatMap((entry): UsageReport[] => {
        const r = asNode(entry);
        if (!r) return [];
        const maxValue = Number(text(r.max_value));
        const currentValue = Number(text(r.current_value));
        if (!Number.isFinite(maxValue) || !Number.isFinite(currentValue)) return [];
        return [{
            metric: text(r["@_metric"]) ?? "",
            period: text(r["@_period"]) ?? "",
            maxValue,
            currentValue,
            exceeded: text(r["@_exceeded"]) === "true",
            periodStart: text(r.period_start),
            periodEnd: text(r.period_end),
        }];
    });
}

/**
 * Maps one Service Management API reply (HTTP status + body) of authrep.xml or
 * authorize.xml to a typed outcome. Never throws.
 */
export function parseAuthReply(status: number, body: string): AuthOutcome {
    if (status >= 500) return { kind: "failed", status, code: "server_error", reason: `3scale answered ${status}` };
    let doc: XmlNode | undefined;
    try {
        doc = asNode(xmlParser().parse(body, true));
    } catch {
        doc = undefined;
    }
    const statusNode = asNode(doc?.status);
    const errorNode = doc?.error;
    if ((status === 200 || status === 409) && statusNode) {
        const authorized = text(statusNode.authorized);
        const plan = text(statusNode.plan);
        const appId = text(asNode(statusNode.app_keys)?.["@_app"]) || undefined;
        const usageReports = parseUsageReports(statusNode.usage_reports);
        if (authorized === "true" && status === 200) {
            return { kind: "authorized", status, plan: plan ?? "", appId, usageReports };
        }
        if (authorized === "false" || authorized === "true") {
            const reason = text(statusNode.reason) ?? "not authorized";
            return { kind: "denied", status, reason, code: REASON_CODES[reason] ?? "not_authorized", plan, appId, usageReports };
        }
    }
    if ((status === 403 || status === 404) && errorNode !== undefined) {
        // apisonator's messages quote the user key or the service token
        // (`user key "..." is invalid`): keep only the code, so no secret reaches a cache or a log.
        const code = text(asNode(errorNode)?.["@_code"]) ?? "";
        if (KEY_ERROR_CODES.includes(code)) return { kind: "denied", status, code, reason: code.replace(/_/g, " "), usageReports: [] };
        // e.g. service_token_invalid: 3scale refused us, not the caller.
        return { kind: "failed", status, code: code || "rejected", reason: `3scale refused the request (${status} ${code || "no code"})` };
    }
    return { kind: "failed", status, code: "malformed", reason: `unexpected ${status} reply from 3scale (${body.length} bytes)` };
}

/** Maps a transactions.xml reply; only 202 means 3scale took the counts. */
export function parseReportReply(status: number, body: string): ReportOutcome {
    if (status === 202) return { kind: "accepted", status };
    if (status >= 500) return { kind: "failed", status, code: "server_error", reason: `3scale answered ${status}` };
    let code = "rejected";
    try {
        const err = asNode(xmlParser().parse(body, true))?.error;
        if (err !== undefined) code = text(asNode(err)?.["@_code"]) ?? code;
    } catch {
        code = "malformed";
    }
    // The message may quote the service token: only the code is kept.
    return { kind: "failed", status, code, reason: `3scale did not accept the report (${status} ${code})` };
}

function usageParams(params: URLSearchParams, prefix: string, usage: Record<string, number> | undefined): void {
    for (const [metric, value] of Object.entries(usage ?? {})) params.append(`${prefix}[${metric}]`, String(value));
}

function identityParams(params: URLSearchParams, name: (field: string) => string, identity: Identity): void {
    if ("appId" in identity) params.append(name("app_id"), identity.appId);
    else params.append(name("user_key"), identity.userKey);
}

/** Turns a thrown fetch error into a Failed outcome. */
function failure(e: unknown, timeoutMs: number): Failed {
    const err = e as Error & { cause?: { code?: string } };
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
        return { kind: "failed", code: "timeout", reason: `3scale gave no answer within ${timeoutMs} ms` };
    }
    return { kind: "failed", code: "unreachable", reason: `3scale unreachable: ${err?.cause?.code ?? err?.message ?? String(e)}` };
}

export interface ThreescaleClientOptions {
    /** Called once per HTTP call (benchmarks count them). */
    onCall?: (endpoint: string) => void;
}

/** A Service Management API client; every call is bounded by `settings.timeoutMs`. */
export function createThreescaleClient(settings: ThreescaleSettings, options: ThreescaleClientOptions = {}): ThreescaleClient {
    const base = settings.backendUrl.replace(/\/+$/, "");
    const credentials = (): URLSearchParams => new URLSearchParams({ service_token: settings.serviceToken, service_id: settings.serviceId });
    const headers = { accept: "application/vnd.3scale-v2.0+xml", "3scale-options": "list_app_keys=1" };

    const call = async (path: string, init: RequestInit): Promise<{ status: number; body: string }> => {
        options.onCall?.(path);
        const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(settings.timeoutMs) });
        return { status: response.status, body: await response.text() };
    };
    const auth = async (endpoint: string, params: URLSearchParams): Promise<AuthOutcome> => {
        try {
            const reply = await call(`/transactions/${endpoint}?${params.toString()}`, { method: "GET", headers });
            return parseAuthReply(reply.status, reply.body);
        } catch (e) {
            return failure(e, settings.timeoutMs);
        }
    };
    return {
        authrep: (userKey, usage = { hits: 1 }) => {
            const params = credentials();
            params.append("user_key", userKey);
            usageParams(params, "usage", usage);
            return auth("authrep.xml", params);
        },
        authorize: (identity, usage) => {
            const params = credentials();
            identityParams(params, (f) => f, identity);
            usageParams(params, "usage", usage);
            return auth("authorize.xml", params);
        },
        report: async (transactions) => {
            const params = credentials();
            transactions.forEach((t, i) => {
                identityParams(params, (f) => `transactions[${i}][${f}]`, t.identity);
                usageParams(params, `transactions[${i}][usage]`, t.usage);
            });
            try {
                const reply = await call("/transactions.xml", {
                    method: "POST",
                    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
                    body: params.toString(),
                });
                return parseReportReply(reply.status, reply.body);
            } catch (e) {
                return failure(e, settings.timeoutMs);
            }
        },
    };
}
