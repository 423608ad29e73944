// porta (3scale's admin side) read with an access token, when the operator configures one
// (threescale:accessToken, a secret, and threescale:adminUrl): the one place 3scale tells an
// application's usage when its plan has no limit on hits (authorize.xml then lists no usage_reports).
//   Application Find  GET /admin/api/applications/find.json?user_key=..|app_id=..  -> porta's id
//     (porta's admin/api/applications_controller.rb#find: user_key on backend_version 1 services)
//   Application Usage by Metric  GET /stats/applications/{id}/usage.json?metric_name=hits&
//     granularity=hour&since=..&until=..&timezone=UTC  -> the hits 3scale's report jobs counted
//     (porta's stats/data/base_controller.rb#usage, stats/views/usage.rb)
// The token needs the Analytics ("stats") and Account Management read scopes. Every call is bounded.
import type { Identity } from "./threescale";

export interface PortaSettings {
    /** The admin portal, e.g. https://ACME-admin.3scale.net */
    adminUrl: string;
    /** Secret. */
    accessToken: string;
    timeoutMs: number;
}

/** What porta said, or why it could not. */
export type PortaAnswer<T> = { kind: "ok"; value: T } | { kind: "not-found" } | { kind: "failed"; reason: string };

export interface PortaClient {
    /** porta's numeric id of the application a credential names. */
    applicationId(identity: Identity): Promise<PortaAnswer<number>>;
    /** Hits 3scale counted for the application in the hour starting at `hourStartMs` (UTC). */
    hitsInHour(portaId: number, hourStartMs: number): Promise<PortaAnswer<number>>;
}

/** porta's "YYYY-MM-DD HH:MM:SS" in UTC. */
function portaTime(ms: number): string {
    return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

export function createPortaClient(settings: PortaSettings): PortaClient {
    const base = settings.adminUrl.replace(/\/+$/, "");
    const get = async (path: string, params: Record<string, string>): Promise<PortaAnswer<unknown>> => {
        const query = new URLSearchParams({ access_token: settings.accessToken, ...params });
        try {
            const response = await fetch(`${base}${path}?${query.toString()}`, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(settings.timeoutMs) });
            const body = await response.text();
            if (response.status === 404) return { kind: "not-found" };
            // The token is in the URL, never in what is returned or logged.
            if (response.status !== 200) return { kind: "failed", reason: `porta answered ${response.status}` };
            return { kind: "ok", value: JSON.parse(body) as unknown };
        } catch (e) {
            return { kind: "failed", reason: (e as Error).name === "TimeoutError" ? `porta gave no answer within ${settings.timeoutMs} ms` : `porta unreachable or unreadable: ${(e as Error).message}` };
        }
    };
    return {
        async applicationId(identity) {
            const answer = await get("/admin/api/applications/find.json", "userKey" in identity ? { user_key: identity.userKey } : { app_id: identity.appId });
            if (answer.kind !== "ok") return answer;
            const id = (answer.value as { application?: { id?: unknown } }).application?.id;
            return typeof id === "number" ? { kind: "ok", value: id } : { kind: "failed", reason: "porta named no application id" };
        },
        async hitsInHour(portaId, hourStartMs) {
            const answer = await get(`/stats/applications/${portaId}/usage.json`, {
                metric_name: "hits", granularity: "hour", since: portaTime(hourStartMs), until: portaTime(hourStartMs + 3_599_000), timezone: "UTC", skip_change: "true",
            });
            if (answer.kind !== "ok") return answer;
            const total = (answer.value as { total?: unknown }).total;
            return typeof total === "number" ? { kind: "ok", value: total } : { kind: "failed", reason: "porta's usage had no total" };
        },
    };
}
