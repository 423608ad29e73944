// The stand-in for what the gate reaches over HTTP in the ring tests: the slots' stage URLs and the
// custom domain, on loopback (harness.ts sends https://<api>.execute-api.<region>.amazonaws.com and
// https://api.example.edu there through StageServer.fetch).
import * as http from "http";
import type { AddressInfo } from "net";

/** The API key the stage server's probe route accepts. */
export const TEST_KEY = "smoke-test-key-0123456789abcdef";

/** The custom domain of the harness's ring. */
export const DOMAIN = "api.example.edu";

/**
 * Whether a header value matches a routing rule's value glob as API Gateway matches them: literally,
 * case-sensitively, `*` only as a prefix, suffix or both (AWS, "Routing rules to connect API stages to a
 * custom domain name for REST APIs", Match headers conditions).
 */
export function globMatches(glob: string, value: string): boolean {
    if (glob === "*") return true;
    const lead = glob.startsWith("*");
    const trail = glob.endsWith("*") && glob.length > 1;
    const core = glob.slice(lead ? 1 : 0, trail ? -1 : undefined);
    if (lead && trail) return value.includes(core);
    if (lead) return value.endsWith(core);
    if (trail) return value.startsWith(core);
    return value === core;
}

/**
 * Stands in for the slots' stage URLs and the custom domain on loopback. A stage URL's path is
 * /<slot>/...; the domain's requests go through its routing rules, by priority (every header condition
 * matched, header names case-insensitively), then its base path mapping, as API Gateway routes a domain
 * in ROUTING_RULE_THEN_BASE_PATH_MAPPING mode, to the slot whose REST API and stage they name.
 * GET heartbeat answers the release the slot's outputs name (as API Gateway's mock integration
 * does), or what a test sets in `releases`; GET discovery/v1/catalogs answers 200 with TEST_KEY in
 * X-Api-Key (the program's default) or in the user_key query parameter, 403 otherwise (as the
 * authorizer would).
 */
export class StageServer {
    readonly releases = new Map<string, string>();
    /** Status a slot's every answer is forced to (e.g. 502 for a broken slot). */
    readonly statuses = new Map<string, number>();
    readonly requests: { method: string; url: string; apiKey?: string; slot?: string; headers?: http.IncomingHttpHeaders }[] = [];
    private server?: http.Server;
    base = "";

    constructor(private readonly releaseOf: (slot: string) => string | undefined,
        private readonly route: (domain: string, headers: http.IncomingHttpHeaders) => string | undefined = () => undefined) {}

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const header = req.headers["x-api-key"];
            const queryKey = new URL(req.url ?? "/", "http://stage").searchParams.get("user_key");
            let [, slot, ...rest] = (req.url ?? "").split("?")[0].split("/");
            if (slot === "_domain") {
                const [domain, ...path] = rest;
                slot = this.route(domain, req.headers) ?? "";
                rest = path;
            }
            this.requests.push({ method: req.method ?? "", url: req.url ?? "", apiKey: typeof header === "string" ? header : undefined, slot, headers: req.headers });
            const route = `/${rest.join("/")}`;
            const forced = this.statuses.get(slot);
            const send = (status: number, body: unknown) => {
                res.writeHead(forced ?? status, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            if (slot === "") return send(403, { message: "Forbidden" });
            if (route === "/heartbeat") return send(200, { status: "ok", release: this.releases.get(slot) ?? this.releaseOf(slot) ?? "" });
            if (route === "/discovery/v1/catalogs") {
                return header === TEST_KEY || queryKey === TEST_KEY ? send(200, { results: [] }) : send(403, { message: "User is not authorized to access this resource" });
            }
            send(403, { message: "Missing Authentication Token" });
        });
        await new Promise<void>((resolve) => (this.server as http.Server).listen(0, "127.0.0.1", resolve));
        this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    /** fetch, with execute-api origins (the path, /<stage>/..., kept) and the custom domain sent to this server. */
    readonly fetch: typeof fetch = (input, init) => {
        const url = String(input instanceof Request ? input.url : input)
            .replace(/^https:\/\/[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com/, this.base)
            .replace(new RegExp(`^https://${DOMAIN.replace(/\./g, "\\.")}`), `${this.base}/_domain/${DOMAIN}`);
        return fetch(url, init);
    };

    async stop(): Promise<void> {
        if (this.server) await new Promise<void>((resolve) => (this.server as http.Server).close(() => resolve()));
    }
}

