// Issue 17, item 4: no client can set, in any spelling a backend may read as the same header, a header
// the gateway sets from the authorizer's context (x-api-ring-*). Open edX runs on WSGI servers, which
// read a header as the CGI variable HTTP_<NAME>, the name upper-cased and "-" turned into "_" (PEP 3333,
// "environ Variables"; RFC 3875 section 4.1.18): X-Api-Ring-Plan, x_api_ring_plan and X_API-RING_plan
// are all HTTP_X_API_RING_PLAN. wsgiref and Werkzeug join repeated names with ","; gunicorn (22+) and
// Werkzeug drop names with an underscore, older gunicorn and uWSGI keep them. The backend below reads
// headers each of these ways; whatever way it reads, it must only ever see what the gateway set.
// Driven through the local run, which serves the document as API Gateway does, with the stage's web
// ACL in front (components/reservedHeaders.ts).
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { Started, startLocal, stopLocal } from "../support/local-run";
import { UPSTREAM_HOSTS, upstreamOverrides } from "../support/upstream";

const BASIC = "local-basic-key-0000000001";
const ENTERPRISE = "local-enterprise-key-00002";

type Environ = Record<string, string>;
/** How a WSGI server builds its environ from the raw header lines. */
interface WsgiReading { name: string; dropUnderscores: boolean; repeated: "join" | "first" | "last" }
const READINGS: WsgiReading[] = [
    { name: "wsgiref (joins repeats)", dropUnderscores: false, repeated: "join" },
    { name: "first wins", dropUnderscores: false, repeated: "first" },
    { name: "last wins", dropUnderscores: false, repeated: "last" },
    { name: "gunicorn 22 / Werkzeug (drops underscores)", dropUnderscores: true, repeated: "join" },
];

function environ(rawHeaders: string[], reading: WsgiReading): Environ {
    const env: Environ = {};
    for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i];
        if (reading.dropUnderscores && name.includes("_")) continue;
        const key = `HTTP_${name.toUpperCase().replace(/-/g, "_")}`;
        const value = rawHeaders[i + 1];
        if (!(key in env) || reading.repeated === "last") env[key] = value;
        else if (reading.repeated === "join") env[key] = `${env[key]},${value}`;
    }
    return env;
}

const CONTEXT = ["HTTP_X_API_RING_PLAN", "HTTP_X_API_RING_APP_ID", "HTTP_X_API_RING_PRINCIPAL_ID", "HTTP_X_API_RING_SOURCE"];

/** Every way to spell a name that a WSGI server reads as the same variable: case and "-" or "_" per separator. */
function spellings(name: string): string[] {
    const parts = name.split("-");
    const out: string[] = [];
    for (let mask = 0; mask < 1 << (parts.length - 1); mask++) {
        const joined = parts.reduce((acc, p, i) => (i === 0 ? p : `${acc}${mask & (1 << (i - 1)) ? "_" : "-"}${p}`), "");
        out.push(joined, joined.toUpperCase(), joined.replace(/(^|[-_])([a-z])/g, (_m, s: string, c: string) => `${s}${c.toUpperCase()}`));
    }
    return out;
}

function send(base: string, method: string, path: string, headers: [string, string][]): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
        // Raw header lines, so the exact spelling reaches the gateway (Node keeps names as written; with
        // raw lines it adds no Host of its own).
        const raw = [["Host", `${hostname}:${port}`], ...headers].flat();
        const req = http.request({ host: hostname, port, method, path, headers: raw as unknown as http.OutgoingHttpHeaders }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", reject);
        req.end();
    });
}

describe("local run: context headers in any spelling (issue 17, item 4)", function () {
    this.timeout(120_000);
    let backend: http.Server;
    let run: Started;
    const seen: string[][] = [];

    before(async () => {
        backend = http.createServer((req, res) => {
            seen.push(req.rawHeaders);
            req.resume();
            req.on("end", () => {
                res.writeHead(200, { "content-type": "application/json" });
                res.end("{}");
            });
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        const overrides = upstreamOverrides({
            "authorizer:planRoutes": JSON.stringify({ Basic: ["catalog/*", "shelves/*", "uploads/*"], Enterprise: ["*"], Unlimited: ["*"] }),
        });
        run = await startLocal([
            ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
            ...Object.keys(UPSTREAM_HOSTS).filter((h) => h !== "public_host").flatMap((h) => ["--backend", `${h}=${url}`]),
        ]);
    });
    after(async () => {
        if (run) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });

    const operations: { name: string; method: string; path: string; key?: string; expected: Environ }[] = [
        { name: "protected http_proxy", method: "PUT", path: "/shelves/v1/a", key: BASIC, expected: { HTTP_X_API_RING_PLAN: "Basic", HTTP_X_API_RING_APP_ID: "1001", HTTP_X_API_RING_PRINCIPAL_ID: "1001" } },
        { name: "protected http", method: "GET", path: "/catalog/v1/books", key: ENTERPRISE, expected: { HTTP_X_API_RING_PLAN: "Enterprise", HTTP_X_API_RING_APP_ID: "1002", HTTP_X_API_RING_PRINCIPAL_ID: "1002" } },
        { name: "public http_proxy", method: "POST", path: "/shelves/login", expected: { HTTP_X_API_RING_PLAN: "-", HTTP_X_API_RING_APP_ID: "-", HTTP_X_API_RING_PRINCIPAL_ID: "-", HTTP_X_API_RING_SOURCE: "public" } },
    ];

    for (const op of operations) {
        it(`${op.name}: without a forged header, every WSGI reading sees exactly what the gateway set`, async () => {
            const before = seen.length;
            const r = await send(run.url, op.method, op.path, op.key ? [["X-Api-Key", op.key]] : []);
            assert.strictEqual(r.status, 200, r.body);
            assert.strictEqual(seen.length, before + 1);
            for (const reading of READINGS) {
                const env = environ(seen[seen.length - 1], reading);
                for (const [k, v] of Object.entries(op.expected)) assert.strictEqual(env[k], v, `${reading.name}: ${k}`);
            }
        });

        it(`${op.name}: every spelling of every context header is refused before any backend, or never read as the client's`, async () => {
            let tried = 0;
            for (const header of ["x-api-ring-plan", "x-api-ring-app-id", "x-api-ring-principal-id", "x-api-ring-source"]) {
                for (const spelling of spellings(header)) {
                    tried += 1;
                    const before = seen.length;
                    const headers: [string, string][] = [[spelling, "Forged"], ...(op.key ? [["X-Api-Key", op.key] as [string, string]] : [])];
                    const r = await send(run.url, op.method, op.path, headers);
                    if (seen.length === before) {
                        assert.strictEqual(r.status, 403, `${spelling}: refused with 403 (${r.body})`);
                        continue;
                    }
                    for (const reading of READINGS) {
                        const env = environ(seen[seen.length - 1], reading);
                        for (const k of CONTEXT) assert.ok(!String(env[k] ?? "").includes("Forged"), `${spelling} reached the backend, read by ${reading.name} as ${k}=${env[k]}`);
                    }
                }
            }
            assert.ok(tried > 100, `${tried} spellings`);
        });
    }

    it("a header of the reserved x-api-ring- family that the gateway does not set is refused too, in any spelling", async () => {
        for (const spelling of ["x-api-ring-tier", "X_API_RING_TIER"]) {
            const before = seen.length;
            const r = await send(run.url, "PUT", "/shelves/v1/a", [[spelling, "gold"], ["X-Api-Key", BASIC]]);
            assert.deepStrictEqual([r.status, seen.length], [403, before], spelling);
            assert.deepStrictEqual(JSON.parse(r.body), { message: "Forbidden" });
        }
    });
});
