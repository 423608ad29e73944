// The two endpoints of porta (3scale's admin side, github.com/3scale/porta) that the usage reporter can
// use with an access token, served by the development 3scale next to its Service Management API:
//   - Application Find, GET /admin/api/applications/find.json?user_key=|app_id= (app/controllers/admin/
//     api/applications_controller.rb#find: user_key on backend_version 1 services, app_id on the
//     others), which gives porta's numeric id of an application;
//   - Application Usage by Metric, GET /stats/applications/{id}/usage.json (app/controllers/stats/data/
//     base_controller.rb#usage, app/lib/stats/views/usage.rb): the metric's values per granularity
//     between since and until, and their total, from the stats apisonator's report jobs write.
// Both need an access token (`access_token`); without a valid one porta answers 403
// {"status":"Forbidden"} (test/integration/stats/authentication_test.rb). Only UTC and the hour
// granularity are modelled (the reporter asks for nothing else).
import type { FakeApp, FakeThreescale } from "./threescale";

export interface PortaReply {
    status: number;
    body: string;
    headers: Record<string, string>;
}

const json = (status: number, value: unknown): PortaReply => ({ status, body: JSON.stringify(value), headers: { "content-type": "application/json; charset=utf-8" } });

const HOUR = 3_600_000;

/** porta's "YYYY-MM-DD HH:MM:SS" (or a date alone), read as UTC. */
function utc(text: string | null): number | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec((text ?? "").trim());
    if (!m) return undefined;
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
}

function application(app: FakeApp, serviceId: string): Record<string, unknown> {
    return {
        id: app.portaId, state: (app.state ?? "active") === "active" ? "live" : "suspended", service_id: serviceId,
        application_id: app.id, ...(app.userKey ? { user_key: app.userKey } : {}), plan: { name: app.plan },
    };
}

/** porta's answer to a request for one of its endpoints, undefined when the path is not one of them. */
export function answerPorta(fake: FakeThreescale, url: URL): PortaReply | undefined {
    const find = url.pathname === "/admin/api/applications/find.json";
    const usage = /^\/stats\/applications\/([^/]+)\/usage\.json$/.exec(url.pathname);
    if (!find && !usage) return undefined;
    if (url.searchParams.get("access_token") !== fake.accessToken) return json(403, { status: "Forbidden" });
    const q = url.searchParams;
    if (find) {
        const userKey = q.get("user_key");
        const appId = q.get("app_id");
        const app = fake.apps().find((a) => (userKey !== null ? fake.backendVersion === "1" && a.userKey === userKey : fake.backendVersion !== "1" && a.id === appId));
        return app ? json(200, { application: application(app, fake.serviceId) }) : json(404, { status: "Not found" });
    }
    const app = fake.apps().find((a) => String(a.portaId) === usage?.[1]);
    if (!app) return json(404, { error: "Application not found" });
    const since = utc(q.get("since"));
    const until = utc(q.get("until"));
    if (q.get("metric_name") !== "hits" || q.get("granularity") !== "hour" || since === undefined || until === undefined || (q.get("timezone") ?? "UTC") !== "UTC") {
        return json(400, { error: "the development 3scale models hits by the hour between since and until, in UTC" });
    }
    // The range is rounded out to whole hours (usage.rb sanitize_range_and_granularity).
    const values: number[] = [];
    for (let h = Math.floor(since / HOUR) * HOUR; h <= until; h += HOUR) values.push(fake.hitsBetween(app.id, h, h + HOUR));
    return json(200, {
        metric: { name: "Hits", system_name: "hits", unit: "hit" },
        period: { since: new Date(since).toISOString(), until: new Date(until).toISOString(), timezone: "Etc/UTC", granularity: "hour" },
        total: values.reduce((a, b) => a + b, 0),
        values,
        application: application(app, fake.serviceId),
    });
}
