// The development 3scale: a local Service Management API server for the tests, the benchmarks and
// the local run. It follows apisonator (3scale's backend, github.com/3scale/apisonator) rather than a
// friendlier version of it; test/dev-servers/threescale.test.ts pins each rule below to the
// apisonator test that shows it.
//   - backend_version per service: "1" identifies applications by user_key only (app_id there is
//     403 user_key_invalid "user key is missing"), "2" by app_id (+ app_key when the app has keys;
//     user_key there is 404 application_not_found "application id is missing"), "oauth" by app_id.
//   - authorize.xml never counts and shows stored values; authrep.xml counts only when it answers
//     200 and its current_value already includes its own usage; a 409 counts nothing.
//   - validators in apisonator's order (key, app state, service state, limits); a refusal is a 409
//     <status> (with plan and usage_reports), an exception a 403/404 <error code=..>.
//   - limits: usage + stored <= max passes; without usage only stored > max denies; periods longest
//     first, eternity without period_start/period_end, exceeded="true" when stored > max, and no
//     <usage_reports> at all for a plan without limits.
//   - 3scale-options: list_app_keys=1 (<app_keys app=.. svc=..>) and rejection_reason_header=1
//     (3scale-rejection-reason on a 409 only; never on an <error>).
//   - 3scale-options: limit_headers=1 (3scale-limit-remaining/-reset/-max-value on a 200 or a
//     limits_exceeded 409: identical calls left under the most constrained limit, the longer period
//     on a tie, seconds to its end; -1/-1 without limits or usage).
//   - transactions.xml refuses a whole POST it cannot read (threescale-report.ts: 400 bad_request,
//     content_type_invalid, transactions_is_blank/format_invalid/has_nil_transaction, 422
//     not_valid_data), else answers 202 and runs the report job: one invalid transaction (unknown
//     app or user_key, both given, bad metric or value, timestamp outside [now - 24 h, now + 1 h])
//     drops the whole POST, and the error goes to the service's error storage, which only the
//     internal API's own basic-auth credentials read; suspended applications and exceeded limits
//     are still counted.
//   - porta's Analytics API and Application Find (porta.ts) for an access token with the stats scope.
// Not modelled (none of it is used by api-ring): `#N` set-usage values (answered 501 so nobody
// relies on a wrong model), metric hierarchies, referrer filters, provider keys.
// The report job runs before the 202 is written (apisonator runs it on a worker moments later).
import * as http from "http";
import { listenOnLoopback } from "./loopback";
import { answerPorta } from "./porta";
import { checkContentType, ListenerRefusal, parseForm, readTransactions, refusal, ReportedTransaction, UnreadableCode } from "./threescale-report";

export type Period = "eternity" | "year" | "month" | "week" | "day" | "hour" | "minute";
/** apisonator lists a metric's limits longest period first (usage_limit.rb, period.rb). */
export const PERIODS: readonly Period[] = ["eternity", "year", "month", "week", "day", "hour", "minute"];

export type BackendVersion = "1" | "2" | "oauth";

export interface FakeApp {
    id: string;
    /** The application's user_key (backend_version 1 services). */
    userKey?: string;
    /** Application keys (backend_version 2): when there are any, authorize needs one of them. */
    appKeys?: string[];
    plan: string;
    state?: "active" | "suspended";
    /** Shorthand for `limits: { day: N }`. */
    dailyHits?: number;
    /** Limits on the `hits` metric by period; none: the plan has no limits (no usage_reports). */
    limits?: Partial<Record<Period, number>>;
    /** Every hit counted so far (all periods): authreps that answered 200 and applied reports. */
    hits?: number;
    /** porta's numeric id of the application (its Analytics API names applications by it); set by addApp. */
    portaId?: number;
}

/** Faults for every endpoint: slow answers after slowMs, down refuses connections. */
export type Fault = "none" | "slow" | "down" | "5xx" | "garbage";

/**
 * Faults for one transactions.xml call: "5xx"/"garbage" answer 503 at once and "slow" answers
 * 503 after slowMs, none of them running the report job; "late" runs the job (the hits count)
 * and answers 202 only after lateMs, as a reply lost on the way would look to the client; "never"
 * runs the job and never answers (the reply is lost for good); "lost" neither runs the job nor
 * answers (the call died inside 3scale's front). The last two hold the connection until the client
 * gives up.
 */
export type ReportFault = Fault | "late" | "never" | "lost";

export interface RecordedCall {
    method: string;
    path: string;
    params: URLSearchParams;
    headers: http.IncomingHttpHeaders;
    status: number;
}

/** An entry of the service's error list (apisonator's ErrorStorage), newest first. */
export interface StoredError {
    code: string;
    message: string;
    timestamp: string;
}

export interface FakeThreescale {
    url: string;
    serviceId: string;
    serviceToken: string;
    backendVersion: BackendVersion;
    serviceState: "active" | "suspended";
    calls: RecordedCall[];
    /** Hits by app id that arrived through applied transactions.xml jobs. */
    reported: Map<string, number>;
    /** The service's error list: report jobs that were dropped, auth endpoint errors. */
    errors: StoredError[];
    /** Report jobs dropped whole (a view of `errors` for tests and benchmarks): the error and the hits lost. */
    droppedReports: { code: string; hits: number }[];
    app(id: string): FakeApp;
    addApp(app: FakeApp): void;
    /** Deletes an application, as an admin would in 3scale: its keys and id stop working. */
    deleteApp(id: string): void;
    /** What 3scale holds for an application's hits in the period containing `at` (default now). */
    usage(appId: string, period: Period, at?: number): number;
    /** Forgets every count (for benchmarks that run several rounds). */
    resetUsage(): void;
    /** Whether the backend honours the list_app_keys extension. */
    listAppKeys: boolean;
    slowMs: number;
    lateMs: number;
    /** Extra time before replying, by path: the answer is computed on arrival, as apisonator does (tests use it to order races). */
    replyDelayMs: Record<string, number>;
    /** Faults for the next transactions.xml calls, one per call (then back to the current fault). */
    reportFaults: ReportFault[];
    /**
     * Transactions apisonator cannot read, by app id or user_key: a POST carrying one is refused whole
     * with that listener reply (as bytes that are not UTF-8 are, report_test.rb L976-1012). The
     * reporter's client cannot produce such bytes, so tests name the transactions that stand for them.
     */
    unreadableTransactions: Map<string, UnreadableCode>;
    /**
     * Reads every POST as if the request itself were wrong, whatever it carries: a Content-Type
     * apisonator does not take (listener.rb check_post_content_type!) or a blank `transactions`
     * (check_transactions_validity). It stands for a reporter whose requests are wrong: its own fault.
     */
    refuseReports?: "content_type_invalid" | "transactions_is_blank";
    /** The internal API's basic-auth credentials (CONFIG_INTERNAL_API_USER/PASSWORD), which only porta holds. */
    internalApi: { user: string; password: string };
    /** A porta access token with the stats scope (Analytics API) and read access to applications. */
    accessToken: string;
    /** Every application, for porta's side (porta.ts). */
    apps(): FakeApp[];
    /** An application's hits in [from, to) (ms), from what 3scale counted. */
    hitsBetween(appId: string, from: number, to: number): number;
    /** Asked for each transactions.xml call when reportFaults is empty (benchmarks draw faults here). */
    reportFault?: () => ReportFault;
    setFault(fault: Fault): Promise<void>;
    count(path: string): number;
    close(): Promise<void>;
}

export interface ThreescaleOptions {
    serviceId?: string;
    serviceToken?: string;
    /** Default "1": api-ring identifies callers by user_key. */
    backendVersion?: BackendVersion;
    apps?: FakeApp[];
    now?: () => number;
}

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const CONTENT_TYPE = "application/vnd.3scale-v2.0+xml";
const MINUTE = 60_000;
/** apisonator's Transaction REPORT_DEADLINE_PAST / _FUTURE (transaction.rb). */
const REPORT_DEADLINE_PAST_S = 86_400;
const REPORT_DEADLINE_FUTURE_S = 3_600;

/** Attribute values (Builder escapes quotes there). */
function escape(s: string): string {
    return escapeText(s).replace(/"/g, "&quot;");
}

/** Element text, as Ruby's `encode(xml: :text)` and Builder do it: &, < and > only. */
function escapeText(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Start of the period containing `t` (UTC, weeks from Monday); undefined for eternity. */
export function periodStart(period: Period, t: number): number | undefined {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth();
    const day = d.getUTCDate();
    switch (period) {
        case "eternity": return undefined;
        case "year": return Date.UTC(y, 0, 1);
        case "month": return Date.UTC(y, mo, 1);
        case "week": return Date.UTC(y, mo, day) - ((d.getUTCDay() + 6) % 7) * 86_400_000;
        case "day": return Date.UTC(y, mo, day);
        case "hour": return Date.UTC(y, mo, day, d.getUTCHours());
        case "minute": return Date.UTC(y, mo, day, d.getUTCHours(), d.getUTCMinutes());
    }
}

function periodEnd(period: Period, start: number): number {
    const d = new Date(start);
    switch (period) {
        case "eternity": return Infinity;
        case "year": return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
        case "month": return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        case "week": return start + 7 * 86_400_000;
        case "day": return start + 86_400_000;
        case "hour": return start + 3_600_000;
        case "minute": return start + MINUTE;
    }
}

/** apisonator's date format, '%Y-%m-%d %H:%M:%S %z' in UTC. */
function formatTime(ms: number): string {
    return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} +0000`;
}

/**
 * A report timestamp as apisonator reads it (transaction.rb, extensions/time.rb): a UNIX integer
 * first, then a date with year, month and day and an optional time and offset; anything else
 * (blank, garbage) means now.
 */
export function parseReportTimestamp(raw: string | null, now: number): number {
    const text = (raw ?? "").trim();
    if (text === "") return now;
    if (/^\d+$/.test(text)) return Number(text) * 1000;
    const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?$/i.exec(text);
    if (!m) return now;
    const [, y, mo, d, h = "0", mi = "0", s = "0", zone] = m;
    let offsetMin = 0;
    if (zone && /^[+-]/.test(zone)) {
        const digits = zone.replace(":", "");
        offsetMin = (digits[0] === "-" ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
    }
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    return Number.isFinite(utc) ? utc - offsetMin * MINUTE : now;
}


interface AppState {
    app: FakeApp;
    /** Hits by the start (ms) of the minute they were counted in. */
    minutes: Map<number, number>;
}


export async function startThreescale(options: ThreescaleOptions = {}): Promise<FakeThreescale> {
    const serviceId = options.serviceId ?? "2555417777820";
    const serviceToken = options.serviceToken ?? "st-0123456789abcdef";
    const now = options.now ?? Date.now;
    const apps = new Map<string, AppState>();
    const calls: RecordedCall[] = [];
    const reported = new Map<string, number>();
    const errors: StoredError[] = [];
    let fault: Fault = "none";

    const limitsOf = (app: FakeApp): [Period, number][] => {
        const limits: Partial<Record<Period, number>> = { ...app.limits };
        if (app.dailyHits !== undefined && limits.day === undefined) limits.day = app.dailyHits;
        return PERIODS.flatMap((p): [Period, number][] => (limits[p] !== undefined ? [[p, limits[p] as number]] : []));
    };

    const stored = (state: AppState, period: Period, at: number): number => {
        const start = periodStart(period, at);
        const end = start === undefined ? Infinity : periodEnd(period, start);
        let total = 0;
        for (const [minute, hits] of state.minutes) if ((start === undefined || minute >= start) && minute < end) total += hits;
        return total;
    };

    const add = (state: AppState, hits: number, at: number): void => {
        const minute = Math.floor(at / MINUTE) * MINUTE;
        state.minutes.set(minute, (state.minutes.get(minute) ?? 0) + hits);
        state.app.hits = (state.app.hits ?? 0) + hits;
    };

    const storeError = (code: string, message: string): void => {
        errors.unshift({ code, message, timestamp: formatTime(now()) });
        errors.splice(1000);
    };

    // Service credentials (listener.rb L275-296): the token/id pair must be registered.
    const checkService = (params: URLSearchParams): void => {
        const token = (params.get("service_token") ?? "").trim();
        const id = (params.get("service_id") ?? "").trim();
        if (token === "") throw new ListenerRefusal(403, "provider_key_or_service_token_required", "Provider key or service token are required");
        if (id === "") throw new ListenerRefusal(422, "service_id_missing", "Service ID is missing");
        if (token !== serviceToken || id !== serviceId) throw new ListenerRefusal(403, "service_token_invalid", `service token "${token}" or service id "${id}" is invalid`);
    };

    const byUserKey = (userKey: string | null): AppState => {
        if (!userKey) throw new ListenerRefusal(403, "user_key_invalid", "user key is missing");
        for (const s of apps.values()) if (s.app.userKey === userKey) return s;
        throw new ListenerRefusal(403, "user_key_invalid", `user key "${userKey}" is invalid`);
    };
    const byAppId = (appId: string | null): AppState => {
        if (!appId) throw new ListenerRefusal(404, "application_not_found", "application id is missing");
        const s = apps.get(appId);
        if (!s) throw new ListenerRefusal(404, "application_not_found", `application with id="${appId}" was not found`);
        return s;
    };

    // Usage values (metric/collection.rb): a non-negative integer; "#N" sets instead of adding.
    const parseUsage = (entries: [string, string][]): number => {
        let hits = 0;
        for (const [metric, raw] of entries) {
            if (raw.trim() === "") throw new ListenerRefusal(403, "usage_value_invalid", `usage value for metric "${metric}" can not be empty`);
            if (!/^\s*#?\d+\s*$/.test(raw)) throw new ListenerRefusal(403, "usage_value_invalid", `usage value "${raw}" for metric "${metric}" is invalid`);
            if (metric !== "hits") throw new ListenerRefusal(404, "metric_invalid", `metric "${metric}" is invalid`);
            if (raw.trim().startsWith("#")) throw new ListenerRefusal(501, "not_modelled", "set-usage values (#N) are not modelled by the development 3scale");
            hits += Number(raw.trim());
        }
        return hits;
    };

    const usageEntries = (params: URLSearchParams, prefix: string): [string, string][] => {
        const out: [string, string][] = [];
        for (const [key, value] of params) {
            const m = new RegExp(`^${prefix.replace(/[[\]]/g, "\\$&")}\\[([^\\]]+)\\]$`).exec(key);
            if (m) out.push([m[1], value]);
        }
        return out;
    };

    const statusXml = (s: AppState, authorized: boolean, reason: string | undefined, usage: number, listKeys: boolean): string => {
        const at = now();
        let xml = `${XML}<status><authorized>${authorized}</authorized>`;
        if (reason) xml += `<reason>${reason}</reason>`;
        xml += `<plan>${escapeText(s.app.plan)}</plan>`;
        const limits = limitsOf(s.app);
        if (limits.length > 0) {
            xml += "<usage_reports>";
            for (const [period, max] of limits) {
                const current = stored(s, period, at);
                // usage_report.rb: exceeded compares the stored value; an authorized authrep shows its own usage.
                xml += `<usage_report metric="hits" period="${period}"${current > max ? ' exceeded="true"' : ""}>`;
                const start = periodStart(period, at);
                if (start !== undefined) xml += `<period_start>${formatTime(start)}</period_start><period_end>${formatTime(periodEnd(period, start))}</period_end>`;
                xml += `<max_value>${max}</max_value><current_value>${current + (authorized ? usage : 0)}</current_value></usage_report>`;
            }
            xml += "</usage_reports>";
        }
        if (listKeys) {
            xml += `<app_keys app="${escape(s.app.id)}" svc="${escape(serviceId)}">` +
                (s.app.appKeys ?? []).map((k) => `<key id="${escape(k)}"/>`).join("") + "</app_keys>";
        }
        return `${xml}</status>`;
    };

    interface Reply { status: number; body: string; headers: Record<string, string> }

    // transactor.rb L62-122 and validators.rb: credentials, then Key -> State -> ServiceState -> Limits.
    const auth = (params: URLSearchParams, count: boolean, options: Set<string>): Reply => {
        checkService(params);
        const appId = (params.get("app_id") ?? "").trim() || null;
        const userKey = (params.get("user_key") ?? "").trim() || null;
        if (appId && userKey) throw new ListenerRefusal(403, "authentication_error", "either app_id or user_key is allowed, not both");
        const state = fake.backendVersion === "1" ? byUserKey(userKey) : byAppId(appId);
        // `usage=1001` (not a hash): halt 403 with an empty body (listener.rb L63, L157-159).
        if (params.has("usage")) return { status: 403, body: "", headers: {} };
        const entries = usageEntries(params, "usage");
        const usage = parseUsage(entries);
        const hasUsage = entries.length > 0;
        const app = state.app;
        const listKeys = fake.listAppKeys && options.has("list_app_keys");
        const refuse = (code: string, reason: string): Reply => ({
            status: 409,
            body: statusXml(state, false, reason, usage, listKeys),
            headers: options.has("rejection_reason_header") ? { "3scale-rejection-reason": code } : {},
        });
        // validators/key.rb: v1 ignores app_key; v2 needs one of the app's keys when it has any.
        // validators/oauth_key.rb: oauth checks app_key only when one is given.
        const appKey = params.get("app_key");
        const keys = app.appKeys ?? [];
        const keyInvalid = (): Reply => refuse("application_key_invalid", appKey === null ? "application key is missing" : `application key "${appKey}" is invalid`);
        if (fake.backendVersion === "2" && keys.length > 0 && (appKey === null || !keys.includes(appKey))) return keyInvalid();
        if (fake.backendVersion === "oauth" && appKey !== null && !keys.includes(appKey)) return keyInvalid();
        if ((app.state ?? "active") !== "active") return refuse("application_not_active", "application is not active");
        if (fake.serviceState !== "active") return refuse("service_not_active", "service is not active");
        const at = now();
        for (const [period, max] of limitsOf(app)) {
            const current = stored(state, period, at);
            if (hasUsage ? current + usage > max : current > max) {
                const refused = refuse("limits_exceeded", "usage limits are exceeded");
                if (options.has("limit_headers")) Object.assign(refused.headers, limitHeaders(state, usage, false, at));
                return refused;
            }
        }
        const body = statusXml(state, true, undefined, count ? usage : 0, listKeys);
        const headers = options.has("limit_headers") ? limitHeaders(state, usage, count, at) : {};
        if (count && usage > 0) add(state, usage, at);
        return { status: 200, body, headers };
    };

    /**
     * The limit_headers extension (listener.rb set_limit_headers; transactor/limit_headers.rb;
     * usage_report.rb remaining_same_calls/remaining_time): the most constrained limit, the longer
     * period on a tie, as identical calls left, seconds to its end (-1 for eternity) and its max;
     * -1/-1 and no max without limits or without usage. An authorized authrep takes its own usage first.
     */
    const limitHeaders = (state: AppState, usage: number, authorizedAuthrep: boolean, at: number): Record<string, string> => {
        let best: { calls: number; reset: number; max: number; rank: number } | undefined;
        for (const [period, max] of limitsOf(state.app)) {
            const current = stored(state, period, at) + (authorizedAuthrep ? usage : 0);
            const left = Math.max(max - current, 0);
            const calls = left <= 0 ? 0 : usage > 0 ? Math.floor(left / usage) : -1;
            if (calls === -1) continue;
            const start = periodStart(period, at);
            const reset = start === undefined ? -1 : Math.ceil((periodEnd(period, start) - at) / 1000);
            const rank = PERIODS.length - PERIODS.indexOf(period); // longer periods first on a tie
            if (!best || calls < best.calls || (calls === best.calls && rank > best.rank)) best = { calls, reset, max, rank };
        }
        if (!best) return { "3scale-limit-remaining": "-1", "3scale-limit-reset": "-1" };
        return { "3scale-limit-remaining": String(best.calls), "3scale-limit-reset": String(best.reset), "3scale-limit-max-value": String(best.max) };
    };

    // report_job.rb / process_job.rb: resolve every app, parse every usage and check every
    // timestamp first; the first error drops the whole job.
    const runReportJob = (transactions: ReportedTransaction[]): void => {
        const at = now();
        const resolved: { state: AppState; hits: number; ts: number }[] = [];
        try {
            for (const t of transactions) {
                if (t.appId && t.userKey) throw new ListenerRefusal(403, "authentication_error", "either app_id or user_key is allowed, not both");
                const state = t.appId ? byAppId(t.appId) : byUserKey(t.userKey);
                resolved.push({ state, hits: parseUsage(t.usage), ts: parseReportTimestamp(t.timestamp, at) });
            }
            for (const r of resolved) {
                if (r.ts < at - REPORT_DEADLINE_PAST_S * 1000) {
                    throw new ListenerRefusal(409, "transaction_timestamp_too_old", `reporting transactions older than ${REPORT_DEADLINE_PAST_S} seconds is not allowed`);
                }
                if (r.ts > at + REPORT_DEADLINE_FUTURE_S * 1000) {
                    throw new ListenerRefusal(409, "transaction_timestamp_too_new", `reporting transactions more than ${REPORT_DEADLINE_FUTURE_S} seconds in the future is not allowed`);
                }
            }
        } catch (e) {
            if (e instanceof ListenerRefusal) {
                storeError(e.code, e.message);
                const hits = transactions.reduce((n, t) => n + t.usage.reduce((m, [, v]) => m + (Number(v) || 0), 0), 0);
                fake.droppedReports.push({ code: e.code, hits });
                return;
            }
            throw e;
        }
        for (const r of resolved) {
            if (r.hits <= 0) continue;
            add(r.state, r.hits, r.ts);
            reported.set(r.state.app.id, (reported.get(r.state.app.id) ?? 0) + r.hits);
        }
    };

    // listener.rb L101-127 (threescale-report.ts): the form, the content type, credentials, the
    // encoding, the shape, then 202 with an empty body.
    const report = (req: http.IncomingMessage, body: string): { params: URLSearchParams; job: ReportedTransaction[] } => {
        const form = parseForm(body);
        checkContentType(fake.refuseReports === "content_type_invalid" ? "application/json" : req.headers["content-type"]);
        const params = new URLSearchParams(form.fields.map(([k, v]): [string, string] => [k, v ?? ""]));
        checkService(params);
        if (form.notUtf8) throw refusal("not_valid_data");
        const transactions = readTransactions(fake.refuseReports === "transactions_is_blank" ? form.fields.filter(([k]) => !k.startsWith("transactions")) : form.fields);
        for (const t of transactions) {
            const unreadable = fake.unreadableTransactions.get(t.appId ?? t.userKey ?? "");
            if (unreadable) throw refusal(unreadable);
        }
        // Transactions whose usage is all 0 are dropped before the job (transactor.rb L23-27).
        return { params, job: transactions.filter((t) => t.usage.some(([, v]) => !/^\s*0+\s*$/.test(v))) };
    };

    // app/api/internal/errors.rb behind rack.rb's Rack::Auth::Basic with the internal API's own
    // credentials: the service token opens nothing here.
    const internalErrors = (req: http.IncomingMessage): Reply => {
        const expected = `Basic ${Buffer.from(`${fake.internalApi.user}:${fake.internalApi.password}`).toString("base64")}`;
        if (req.headers.authorization !== expected) return { status: 401, body: "", headers: { "www-authenticate": 'Basic realm=""' } };
        return { status: 200, body: JSON.stringify({ status: "found", errors, count: errors.length }), headers: { "content-type": "application/json" } };
    };

    const unavailable: Reply = { status: 503, body: "<html><body>503 Service Unavailable</body></html>", headers: {} };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://localhost");
            const body = Buffer.concat(chunks).toString("latin1");
            let params = req.method === "POST" ? new URLSearchParams(body) : url.searchParams;
            const options = new Set<string>();
            for (const [k, v] of new URLSearchParams(String(req.headers["3scale-options"] ?? ""))) if (v === "1") options.add(k);
            const isReport = req.method === "POST" && url.pathname === "/transactions.xml";
            const scripted: ReportFault | undefined = isReport ? (fake.reportFaults.shift() ?? fake.reportFault?.()) : undefined;
            let reply: Reply;
            let job: ReportedTransaction[] | undefined;
            if (scripted === "5xx" || scripted === "garbage" || scripted === "slow" || scripted === "lost" || fault === "5xx") reply = unavailable;
            else if (fault === "garbage") reply = { status: 200, body: `${XML}<status><authorized>true</authorized><plan>Ba`, headers: {} };
            else {
                try {
                    if (req.method === "GET" && url.pathname === "/transactions/authrep.xml") reply = auth(params, true, options);
                    else if (req.method === "GET" && url.pathname === "/transactions/authorize.xml") reply = auth(params, false, options);
                    else if (isReport) {
                        ({ params, job } = report(req, body));
                        reply = { status: 202, body: "", headers: {} };
                    } else if (req.method === "GET" && url.pathname === `/internal/services/${serviceId}/errors/`) reply = internalErrors(req);
                    else reply = answerPorta(fake, url) ?? { status: 404, body: "", headers: {} };
                } catch (e) {
                    if (!(e instanceof ListenerRefusal)) throw e;
                    if (!isReport && e.status !== 501) storeError(e.code, e.message);
                    reply = { status: e.status, body: `${XML}<error code="${e.code}">${escapeText(e.message)}</error>`, headers: {} };
                }
            }
            if (job && job.length > 0) runReportJob(job);
            calls.push({ method: req.method ?? "", path: url.pathname, params, headers: req.headers, status: reply.status });
            const send = (): void => {
                if (res.destroyed) return;
                res.writeHead(reply.status, { "content-type": CONTENT_TYPE, ...reply.headers });
                res.end(reply.body);
            };
            const delay = fake.replyDelayMs[url.pathname] ?? 0;
            if (scripted === "never" || scripted === "lost") return; // no reply: the client times out
            if (fault === "slow" || scripted === "slow") setTimeout(send, fake.slowMs + delay).unref();
            else if (scripted === "late" && reply.status === 202) setTimeout(send, fake.lateMs + delay).unref();
            else if (delay > 0) setTimeout(send, delay).unref();
            else send();
        });
    });
    const loopback = await listenOnLoopback(server);
    const port = loopback.port;

    const fake: FakeThreescale = {
        url: `http://127.0.0.1:${port}`,
        serviceId,
        serviceToken,
        backendVersion: options.backendVersion ?? "1",
        serviceState: "active",
        calls,
        reported,
        errors,
        droppedReports: [],
        listAppKeys: true,
        slowMs: 5000,
        lateMs: 6000,
        replyDelayMs: {},
        reportFaults: [],
        unreadableTransactions: new Map(),
        internalApi: { user: "system_app", password: "internal-0123456789" },
        accessToken: "porta-stats-0123456789",
        apps: () => [...apps.values()].map((a) => a.app),
        hitsBetween(appId, from, to) {
            const state = apps.get(appId);
            let total = 0;
            for (const [minute, hits] of state?.minutes ?? []) if (minute >= from && minute < to) total += hits;
            return total;
        },
        app(id) {
            const state = apps.get(id);
            if (!state) throw new Error(`no app ${id}`);
            return state.app;
        },
        addApp(app) {
            const state: AppState = { app: { state: "active", ...app, hits: 0, portaId: app.portaId ?? 1000 + apps.size }, minutes: new Map() };
            apps.set(app.id, state);
            if ((app.hits ?? 0) > 0) add(state, app.hits as number, now());
        },
        deleteApp(id) {
            apps.delete(id);
        },
        usage(appId, period, at) {
            const state = apps.get(appId);
            if (!state) throw new Error(`no app ${appId}`);
            return stored(state, period, at ?? now());
        },
        resetUsage() {
            for (const s of apps.values()) {
                s.minutes.clear();
                s.app.hits = 0;
            }
            reported.clear();
            errors.splice(0);
            fake.droppedReports.splice(0);
            calls.splice(0);
        },
        async setFault(next) {
            if (next === "down" && fault !== "down") await loopback.stop();
            if (next !== "down" && fault === "down") await loopback.resume();
            if (next !== "slow") server.closeAllConnections();
            fault = next;
        },
        count(path) {
            return calls.filter((c) => c.path === path).length;
        },
        async close() {
            await loopback.stop();
        },
    };
    for (const app of options.apps ?? []) fake.addApp(app);
    return fake;
}
