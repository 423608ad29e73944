// The gate before a flip: a smoke test through the target slot's own stage URL, as
// CodeDeploy's BeforeAllowTraffic hook or an Argo Rollouts pre-promotion analysis would run.
//   1. GET <invokeUrl>/heartbeat answers 200 with the slot's release id (`release`, or `id` as
//      the edx api-manager heartbeat writes it).
//   2. When ring:smokeTest names a request: it answers 2xx with the test key where the slot's
//      authorizer reads its credential (header or query parameter; the key is never printed).
//   3. For each cohort that reaches the slot: GET https://<domain>/<base path>/heartbeat with the
//      cohort's headers answers the slot's release id, through the production hostname's routing rules.
import { CredentialSource, credentialNames } from "../handlers/credentials";

/** One request of the smoke test and what it showed. */
export interface GateCheck {
    name: "heartbeat" | "probe" | "cohort";
    /** Method and URL, never the key. */
    request: string;
    expected: string;
    got: string;
    ok: boolean;
}

export interface GateResult {
    passed: boolean;
    checks: GateCheck[];
}

export interface GateTarget {
    slot: string;
    /** The slot's stage URL (its `invokeUrl` output). */
    invokeUrl: string;
    /** The release id the slot must answer (its `releaseId` output). */
    releaseId?: string;
    /** The test key goes where `credentials` say (an app_id + app_key pair as "<app_id>:<app_key>"). */
    probe?: { method: "GET" | "HEAD"; path: string; credentials: CredentialSource; key: string };
    /** The custom domain's URL (https://<domain>/<base path>) and the headers of each cohort that reaches the slot. */
    cohorts?: { domainUrl: string; headers: Record<string, string> }[];
}

export interface GateOptions {
    /** The HTTP client (global fetch by default). */
    fetch?: typeof fetch;
    /** Bound on each request. */
    timeoutMs?: number;
}

export const GATE_TIMEOUT_MS = 10_000;
const BODY_SHOWN = 200;

function urlOf(invokeUrl: string, path: string): string {
    return `${invokeUrl.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** The probe's URL and headers with the test key where the slot's authorizer reads it, and where that is, for messages. */
export function withTestKey(url: string, credentials: CredentialSource, key: string): { url: string; headers: Record<string, string>; where: string } {
    const names = credentialNames(credentials);
    const split = key.indexOf(":");
    const values = credentials.kind === "app_id_app_key" && split > 0 ? [key.slice(0, split), key.slice(split + 1)] : [key];
    const where = `${names.join(" and ")}${credentials.location === "query" ? ` query parameter${names.length > 1 ? "s" : ""}` : ""}`;
    if (credentials.location === "header") return { url, headers: Object.fromEntries(names.map((n, i) => [n, values[i] ?? ""])), where };
    const target = new URL(url);
    names.forEach((n, i) => target.searchParams.set(n, values[i] ?? ""));
    return { url: target.toString(), headers: {}, where };
}

/** A body excerpt for messages, with the key blanked should the API echo it. */
function excerpt(body: string, secret?: string): string {
    const clean = secret ? body.split(secret).join("[key]") : body;
    const flat = clean.replace(/\s+/g, " ").trim();
    return flat.length > BODY_SHOWN ? `${flat.slice(0, BODY_SHOWN)}...` : flat;
}

async function call(url: string, init: RequestInit, opts: GateOptions): Promise<{ status: number; body: string } | { error: string }> {
    const doFetch = opts.fetch ?? fetch;
    try {
        const res = await doFetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(opts.timeoutMs ?? GATE_TIMEOUT_MS) });
        return { status: res.status, body: await res.text() };
    } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const cause = e.cause?.code ?? e.cause?.message;
        return { error: e.name === "TimeoutError" ? `no answer within ${opts.timeoutMs ?? GATE_TIMEOUT_MS} ms` : `${e.message}${cause ? ` (${cause})` : ""}` };
    }
}

/** The release id a heartbeat body names: `release` (this project's document) or `id` (edx api-manager's). */
export function heartbeatRelease(body: string): string | undefined {
    try {
        const doc = JSON.parse(body) as Record<string, unknown>;
        const release = doc["release"] ?? doc["id"];
        return typeof release === "string" ? release : undefined;
    } catch {
        return undefined;
    }
}

/** Runs the smoke test against the target slot's stage URL. */
export async function runGate(target: GateTarget, opts: GateOptions = {}): Promise<GateResult> {
    const checks: GateCheck[] = [];

    const heartbeatUrl = urlOf(target.invokeUrl, "/heartbeat");
    checks.push(await heartbeatCheck("heartbeat", heartbeatUrl, {}, target.releaseId, opts));

    if (target.probe) {
        const p = target.probe;
        const url = urlOf(target.invokeUrl, p.path);
        const keyed = withTestKey(url, p.credentials, p.key);
        const request = `${p.method} ${url} with the test key in ${keyed.where}`;
        const res = await call(keyed.url, { method: p.method, headers: keyed.headers }, opts);
        if ("error" in res) {
            checks.push({ name: "probe", request, expected: "HTTP 2xx", got: res.error, ok: false });
        } else {
            const ok = res.status >= 200 && res.status < 300;
            checks.push({ name: "probe", request, expected: "HTTP 2xx", got: ok ? `HTTP ${res.status}` : `HTTP ${res.status}: ${excerpt(res.body, p.key)}`, ok });
        }
    }
    for (const cohort of target.cohorts ?? []) {
        checks.push(await heartbeatCheck("cohort", urlOf(cohort.domainUrl, "/heartbeat"), cohort.headers, target.releaseId, opts));
    }
    return { passed: checks.every((c) => c.ok), checks };
}

/** GET <url> must answer 200 with `releaseId` (any release id when it is unknown). */
async function heartbeatCheck(name: GateCheck["name"], url: string, headers: Record<string, string>, releaseId: string | undefined, opts: GateOptions): Promise<GateCheck> {
    const expected = releaseId !== undefined ? `HTTP 200 with release "${releaseId}"` : "HTTP 200 with a release id";
    const shownHeaders = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join(", ");
    const request = `GET ${url}${shownHeaders ? ` with ${shownHeaders}` : ""}`;
    const hb = await call(url, { method: "GET", headers: { accept: "application/json", ...headers } }, opts);
    if ("error" in hb) return { name, request, expected, got: hb.error, ok: false };
    const release = heartbeatRelease(hb.body);
    const ok = hb.status === 200 && release !== undefined && (releaseId === undefined || release === releaseId);
    const got = hb.status !== 200 ? `HTTP ${hb.status}: ${excerpt(hb.body)}`
        : release === undefined ? `HTTP 200 without a release id: ${excerpt(hb.body)}`
            : `HTTP 200 with release "${release}"`;
    return { name, request, expected, got, ok };
}

/** The gate's checks, one line each, for people. */
export function formatGate(result: GateResult): string[] {
    return result.checks.map((c) => `gate: ${c.ok ? "ok  " : "FAIL"} ${c.request}: expected ${c.expected}, got ${c.got}`);
}
