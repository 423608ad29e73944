// A local stand-in for 3scale's Service Management API (apisonator), for the tests, the benchmarks
// and the local run's development backend. It answers with apisonator's XML shapes and HTTP statuses:
//   authrep.xml / authorize.xml: 200 <status> authorized, 409 <status> not authorized
//   (usage limits are exceeded / application is not active), 403 <error code="user_key_invalid">,
//   403 <error code="service_token_invalid"> for bad credentials; transactions.xml: 202.
// With `3scale-options: list_app_keys=1` it adds <app_keys app=".." svc=".."/> as apisonator does.
import * as http from "http";
import type { AddressInfo } from "net";

export interface FakeApp {
    id: string;
    userKey: string;
    plan: string;
    state?: "active" | "suspended";
    /** Daily limit on hits; undefined: the plan has no limits (no usage_reports). */
    dailyHits?: number;
    /** Hits so far today. */
    hits?: number;
}

export type Fault = "none" | "slow" | "down" | "5xx" | "garbage";

export interface RecordedCall {
    method: string;
    path: string;
    params: URLSearchParams;
    headers: http.IncomingHttpHeaders;
    status: number;
}

export interface FakeThreescale {
    url: string;
    serviceId: string;
    serviceToken: string;
    calls: RecordedCall[];
    /** Hits by app id that arrived through transactions.xml. */
    reported: Map<string, number>;
    app(id: string): FakeApp;
    addApp(app: FakeApp): void;
    /** Whether the backend honours the list_app_keys extension. */
    listAppKeys: boolean;
    slowMs: number;
    /**
     * Faults for the next transactions.xml calls, one per call (then back to the current fault):
     * "5xx"/"garbage" answer 503 at once, "slow" answers 503 after slowMs; none of them counts anything.
     */
    reportFaults: Fault[];
    setFault(fault: Fault): Promise<void>;
    count(path: string): number;
    close(): Promise<void>;
}

const XML = '<?xml version="1.0" encoding="UTF-8"?>';

function escape(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function day(now: Date): { start: string; end: string } {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const end = new Date(start.getTime() + 86_400_000);
    const fmt = (d: Date): string => `${d.toISOString().slice(0, 10)} 00:00:00 +0000`;
    return { start: fmt(start), end: fmt(end) };
}

function errorXml(code: string, message: string): string {
    return `${XML}<error code="${code}">${escape(message)}</error>`;
}

export async function startThreescale(options: { serviceId?: string; serviceToken?: string; apps?: FakeApp[] } = {}): Promise<FakeThreescale> {
    const serviceId = options.serviceId ?? "2555417777820";
    const serviceToken = options.serviceToken ?? "st-0123456789abcdef";
    const apps = new Map<string, FakeApp>();
    const calls: RecordedCall[] = [];
    const reported = new Map<string, number>();
    let fault: Fault = "none";

    const statusXml = (app: FakeApp, authorized: boolean, reason: string | undefined, listKeys: boolean): string => {
        let xml = `${XML}<status><authorized>${authorized}</authorized>`;
        if (reason) xml += `<reason>${escape(reason)}</reason>`;
        xml += `<plan>${escape(app.plan)}</plan>`;
        if (app.dailyHits !== undefined) {
            const d = day(new Date());
            const current = app.hits ?? 0;
            xml += `<usage_reports><usage_report metric="hits" period="day"${current > app.dailyHits ? ' exceeded="true"' : ""}>` +
                `<period_start>${d.start}</period_start><period_end>${d.end}</period_end>` +
                `<max_value>${app.dailyHits}</max_value><current_value>${current}</current_value></usage_report></usage_reports>`;
        }
        if (listKeys) xml += `<app_keys app="${escape(app.id)}" svc="${escape(serviceId)}"></app_keys>`;
        return `${xml}</status>`;
    };

    const credentialsError = (params: URLSearchParams): [number, string] | undefined => {
        const token = params.get("service_token");
        const id = params.get("service_id");
        if (!token) return [403, errorXml("provider_key_or_service_token_required", "Provider key or service token are required")];
        if (!id) return [422, errorXml("service_id_missing", "Service ID is missing")];
        if (token !== serviceToken || id !== serviceId) {
            return [403, errorXml("service_token_invalid", `service token "${token}" or service id "${id}" is invalid`)];
        }
        return undefined;
    };

    const findApp = (params: URLSearchParams, prefix = ""): FakeApp | [number, string] => {
        const appId = params.get(`${prefix}app_id`);
        const userKey = params.get(`${prefix}user_key`);
        if (appId && userKey) return [403, errorXml("authentication_error", "either app_id or user_key is allowed, not both")];
        if (appId) {
            const app = apps.get(appId);
            return app ?? [404, errorXml("application_not_found", `application with id="${appId}" was not found`)];
        }
        if (!userKey) return [403, errorXml("user_key_invalid", "user key is missing")];
        const app = [...apps.values()].find((a) => a.userKey === userKey);
        return app ?? [403, errorXml("user_key_invalid", `user key "${userKey}" is invalid`)];
    };

    const auth = (params: URLSearchParams, report: boolean, listKeys: boolean): [number, string] => {
        const bad = credentialsError(params);
        if (bad) return bad;
        const found = findApp(params);
        if (Array.isArray(found)) return found;
        const app = found;
        const usage = Number(params.get("usage[hits]") ?? "0");
        if ((app.state ?? "active") !== "active") return [409, statusXml(app, false, "application is not active", listKeys)];
        if (app.dailyHits !== undefined && (app.hits ?? 0) + usage > app.dailyHits) {
            return [409, statusXml(app, false, "usage limits are exceeded", listKeys)];
        }
        if (report) app.hits = (app.hits ?? 0) + usage;
        return [200, statusXml(app, true, undefined, listKeys)];
    };

    const reportTransactions = (params: URLSearchParams): [number, string] => {
        const bad = credentialsError(params);
        if (bad) return bad;
        const indexes = new Set<string>();
        for (const key of params.keys()) {
            const m = /^transactions\[(\d+)\]/.exec(key);
            if (m) indexes.add(m[1]);
        }
        if (indexes.size === 0) return [400, errorXml("transactions_is_blank", "transactions parameter is blank")];
        // apisonator queues reports and processes them later: unknown keys are dropped, not refused.
        for (const i of indexes) {
            const appId = params.get(`transactions[${i}][app_id]`);
            const userKey = params.get(`transactions[${i}][user_key]`);
            const app = appId ? apps.get(appId) : [...apps.values()].find((a) => a.userKey === userKey);
            const hits = Number(params.get(`transactions[${i}][usage][hits]`) ?? "0");
            if (!app || !(hits > 0)) continue;
            app.hits = (app.hits ?? 0) + hits;
            reported.set(app.id, (reported.get(app.id) ?? 0) + hits);
        }
        return [202, ""];
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://localhost");
            const params = req.method === "POST" ? new URLSearchParams(Buffer.concat(chunks).toString()) : url.searchParams;
            const listKeys = fake.listAppKeys && /(^|&)list_app_keys=1(&|$)/.test(String(req.headers["3scale-options"] ?? ""));
            let reply: [number, string];
            const scripted = url.pathname === "/transactions.xml" ? fake.reportFaults.shift() : undefined;
            if (scripted === "5xx" || scripted === "garbage" || scripted === "slow") reply = [503, "<html><body>503 Service Unavailable</body></html>"];
            else if (fault === "5xx") reply = [503, "<html><body>503 Service Unavailable</body></html>"];
            else if (fault === "garbage") reply = [200, `${XML}<status><authorized>true</authorized><plan>Ba`];
            else if (req.method === "GET" && url.pathname === "/transactions/authrep.xml") reply = auth(params, true, listKeys);
            else if (req.method === "GET" && url.pathname === "/transactions/authorize.xml") reply = auth(params, false, listKeys);
            else if (req.method === "POST" && url.pathname === "/transactions.xml") reply = reportTransactions(params);
            else reply = [404, ""];
            calls.push({ method: req.method ?? "", path: url.pathname, params, headers: req.headers, status: reply[0] });
            const send = (): void => {
                res.writeHead(reply[0], { "content-type": "application/vnd.3scale-v2.0+xml" });
                res.end(reply[1]);
            };
            if (fault === "slow" || scripted === "slow") setTimeout(send, fake.slowMs).unref();
            else send();
        });
    });
    const listen = (port: number): Promise<number> => new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
    const port = await listen(0);
    const stopListening = (): Promise<void> => new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
    });

    const fake: FakeThreescale = {
        url: `http://127.0.0.1:${port}`,
        serviceId,
        serviceToken,
        calls,
        reported,
        listAppKeys: true,
        slowMs: 5000,
        reportFaults: [],
        app(id) {
            const app = apps.get(id);
            if (!app) throw new Error(`no app ${id}`);
            return app;
        },
        addApp(app) {
            apps.set(app.id, { state: "active", hits: 0, ...app });
        },
        async setFault(next) {
            if (next === "down" && fault !== "down") await stopListening();
            if (next !== "down" && fault === "down") await listen(port);
            if (next !== "slow") server.closeAllConnections();
            fault = next;
        },
        count(path) {
            return calls.filter((c) => c.path === path).length;
        },
        async close() {
            await stopListening();
        },
    };
    for (const app of options.apps ?? []) fake.addApp(app);
    return fake;
}
