// The local run serving the upstream document (test/fixtures/upstream) the way API Gateway serves
// it: `http` integrations get only what is mapped, `http_proxy` everything; mapping templates,
// status mappings and responseParameters are rendered; dot segments cannot take a path out of
// its route's plan; bodies over 10 MB are refused before they are buffered; slow clients are cut
// off; and its redis-server never outlives it.
import * as assert from "assert";
import { spawn } from "child_process";
import * as http from "http";
import * as net from "net";
import type { AddressInfo } from "net";
import { Answer, LOCAL_CLI, Started, alive, gone, send, startLocal, stopLocal, waitForLocal } from "../support/local-run";
import { UPSTREAM_HOSTS, UPSTREAM_STAGE_VARIABLES, upstreamOverrides } from "../support/upstream";

const BASIC = "local-basic-key-0000000001"; // plan Basic: catalog, shelves and uploads only
const ENTERPRISE = "local-enterprise-key-00002"; // plan Enterprise: everything
const MB10 = 10 * 1024 * 1024;

interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    bytes: number;
}

function localArgs(backend: string): string[] {
    const overrides = upstreamOverrides({
        "authorizer:planRoutes": JSON.stringify({ Basic: ["catalog/*", "shelves/*", "uploads/*"], Enterprise: ["*"], Unlimited: ["*"] }),
        "authorizer:reportingWindowSeconds": "0",
    });
    return [
        ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
        ...Object.keys(UPSTREAM_HOSTS).filter((h) => h !== "public_host").flatMap((h) => ["--backend", `${h}=${backend}`]),
    ];
}

describe("local run: the upstream document, as API Gateway serves it", function () {
    this.timeout(60_000);
    let backend: http.Server;
    let backendUrl: string;
    const seen: Seen[] = [];
    let run: Started;

    before(async () => {
        backend = http.createServer((req, res) => {
            let bytes = 0;
            req.on("data", (c: Buffer) => { bytes += c.length; });
            req.on("end", () => {
                seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes });
                const url = req.url ?? "";
                if (url.startsWith("/api/books/?") || url === "/api/books/") {
                    res.writeHead(200, { "content-type": "application/json", "x-backend-secret": "internal" });
                    res.end(JSON.stringify({ count: 2, next: "http://catalog.internal:8000/api/books/?page=3", results: [{ title: "Dune" }, { title: "Emma" }] }));
                } else if (url === "/api/books/7/") {
                    res.writeHead(200, { "content-type": "application/json" });
                    res.end(JSON.stringify({ title: "Dune \"the\" book" }));
                } else if (url === "/api/books/404/") {
                    res.writeHead(404, { "content-type": "application/json" });
                    res.end('{"detail": "no such book"}');
                } else if (url === "/api/books/302/") {
                    res.writeHead(302, { location: "http://catalog.internal:8000/elsewhere" });
                    res.end();
                } else {
                    res.writeHead(200, { "content-type": "application/json" });
                    res.end(JSON.stringify({ url, bytes }));
                }
            });
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        run = await startLocal([...localArgs(backendUrl), "--client-timeout", "1"]);
    });
    after(async () => {
        if (run) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });
    const last = () => seen.at(-1) as Seen;

    it("prints the document's warnings and its public operations", () => {
        assert.match(run.output(), /warning: gateway:spec: #\/paths\/~1catalog~1v2~1books~1\{id\}\/get\/operationId: operationId get_book is shared by 2 operations/);
        assert.match(run.output(), /gateway:spec: 12 operations: 8 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 4 public\n[^]*gateway:spec: public: GET \/ \(gateway:publicRoutes\)/);
    });

    it("an http integration gets only the mapped header and query, and the context headers; never the client's own", async () => {
        const r = await send(run.url, "GET", "/catalog/v1/books?page=2&extra=1", {
            "X-Api-Key": ENTERPRISE, Authorization: "JWT reader-token", "X-Extra": "1", Cookie: "session=s",
        });
        assert.strictEqual(r.status, 200, r.body);
        const request = last();
        assert.strictEqual(request.url, "/api/books/?page=2");
        assert.strictEqual(request.headers.authorization, "JWT reader-token", "mapped from method.request.header.Authorization");
        assert.strictEqual(request.headers["x-api-ring-plan"], "Enterprise");
        assert.strictEqual(request.headers["x-api-ring-app-id"], "1002");
        assert.strictEqual(request.headers["x-api-ring-principal-id"], "1002");
        assert.match(String(request.headers["x-api-ring-source"]), /^(3scale|cache)$/);
        for (const header of ["x-extra", "cookie", "x-api-key"]) assert.strictEqual(request.headers[header], undefined, header);
    });

    it("an http_proxy integration gets every client header and the whole query, with the context headers set by the gateway", async () => {
        const r = await send(run.url, "PUT", "/shelves/v1/a/b%20c?x=1&y=2", { "X-Api-Key": BASIC, "X-Extra": "1" });
        assert.strictEqual(r.status, 200, r.body);
        const request = last();
        assert.deepStrictEqual([request.method, request.url], ["PUT", "/api/v1/a/b%20c/?x=1&y=2"]);
        assert.strictEqual(request.headers["x-extra"], "1");
        assert.strictEqual(request.headers["x-api-ring-plan"], "Basic");
        assert.strictEqual(request.headers["x-api-ring-app-id"], "1001");
    });

    it("a public route sets the context headers to its fixed values, and refuses a client that sends one (the stage's web ACL)", async () => {
        const before = seen.length;
        const forged = await send(run.url, "POST", "/shelves/login", { "x-api-ring-plan": "Enterprise", "x-api-ring-app-id": "1002", "x-api-ring-source": "cache", "x-api-ring-principal-id": "1002" });
        assert.deepStrictEqual([forged.status, seen.length], [403, before], forged.body);
        const r = await send(run.url, "POST", "/shelves/login");
        assert.strictEqual(r.status, 200, r.body);
        const h = last().headers;
        assert.deepStrictEqual([h["x-api-ring-plan"], h["x-api-ring-app-id"], h["x-api-ring-principal-id"], h["x-api-ring-source"]], ["-", "-", "-", "public"]);
    });

    it("renders response templates and answers the mapped status; backend headers stay behind", async () => {
        const list = await send(run.url, "GET", "/catalog/v1/books", { "X-Api-Key": ENTERPRISE });
        assert.strictEqual(list.status, 200, list.body);
        assert.deepStrictEqual(JSON.parse(list.body), { count: 2, next: "http://api.library.example.org/catalog/v1/books?page=3", titles: ["Dune", "Emma"] });
        assert.strictEqual(list.headers["content-type"], "application/json");
        assert.strictEqual(list.headers["x-backend-secret"], undefined, "an http integration passes no backend header it does not map");
        const one = await send(run.url, "GET", "/catalog/v1/books/7", { "X-Api-Key": ENTERPRISE });
        assert.deepStrictEqual(JSON.parse(one.body), { id: "7", title: "Dune \"the\" book", self: "https://api.library.example.org/catalog/v1/books/7" });
        const missing = await send(run.url, "GET", "/catalog/v1/books/404", { "X-Api-Key": ENTERPRISE });
        assert.deepStrictEqual([missing.status, missing.body], [404, '{"detail": "no such book"}'], "no template: the body passes through");
        const redirect = await send(run.url, "GET", "/catalog/v1/books/302", { "X-Api-Key": ENTERPRISE });
        assert.strictEqual(redirect.status, 400, "a status no selection pattern matches takes the default response (400 here)");
        assert.strictEqual(redirect.headers.location, undefined);
    });

    it("answers mock integrations with their status, template and responseParameters (the index's Location)", async () => {
        const index = await send(run.url, "GET", "/");
        assert.strictEqual(index.status, 302);
        assert.strictEqual(index.headers.location, UPSTREAM_STAGE_VARIABLES.portal_url);
        const status = await send(run.url, "GET", "/status");
        assert.deepStrictEqual([status.status, JSON.parse(status.body)], [200, { up: true, release: "release-2026-11-23.1" }]);
    });

    it("resolves dot segments before routing and authorizing, so a path never escapes its route's plan", async () => {
        const before = seen.length;
        for (const p of ["/catalog/../reports/v1/readers/7/summary", "/catalog/v1/%2e%2e/%2E%2e/../reports/v1/readers/7/summary", "/catalog/./../reports/v1/readers/7/summary"]) {
            const r = await send(run.url, "GET", p, { "X-Api-Key": BASIC, Authorization: "JWT reader-token" });
            assert.strictEqual(r.status, 403, `${p}: ${r.body}`);
        }
        assert.strictEqual(seen.length, before, "nothing reached a backend");
        const allowed = await send(run.url, "GET", "/catalog/../reports/v1/readers/7/summary", { "X-Api-Key": ENTERPRISE, Authorization: "JWT reader-token" });
        assert.strictEqual(allowed.status, 200, allowed.body);
        assert.strictEqual(last().url, "/api/v1/readers/7/summary/", "routed as the path it resolves to");
        // An encoded slash is a path a policy cannot name segment by segment, and a backend may decode it:
        // the authorizer refuses its method ARN (issue 17), so nothing reaches a backend.
        const forwarded = seen.length;
        const encoded = await send(run.url, "GET", "/shelves/v1/x/..%2F..%2Fadmin", { "X-Api-Key": BASIC });
        assert.strictEqual(encoded.status, 401, encoded.body);
        assert.strictEqual(seen.length, forwarded, "an encoded slash reaches no backend");
    });

    it("refuses a body over API Gateway's 10 MB payload limit with 413 before buffering it", async () => {
        const before = seen.length;
        const declared = await new Promise<number>((resolve, reject) => {
            const { hostname, port } = new URL(run.url);
            const req = http.request({ host: hostname, port, method: "POST", path: "/uploads/cover.png", headers: { "X-Api-Key": BASIC, "Content-Length": String(MB10 + 1) } }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
                req.destroy();
            });
            req.on("error", reject);
            setTimeout(() => { req.destroy(); reject(new Error("no answer to a declared 10 MB + 1 body")); }, 10_000).unref();
            req.flushHeaders(); // the body is never sent: the answer comes from the declared length alone
        });
        assert.strictEqual(declared, 413);
        const chunk = Buffer.alloc(1024 * 1024, 1);
        const streamed = await new Promise<Answer>((resolve, reject) => {
            const { hostname, port } = new URL(run.url);
            const req = http.request({ host: hostname, port, method: "POST", path: "/uploads/cover.png", headers: { "X-Api-Key": BASIC, "Transfer-Encoding": "chunked" } }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
            });
            req.on("error", () => undefined); // the gateway may close the socket mid-upload
            let sent = 0;
            const pump = () => {
                while (sent < 11 && req.write(chunk)) sent += 1;
                if (sent < 11) req.once("drain", () => { sent += 1; pump(); });
                else req.end();
            };
            pump();
            setTimeout(() => reject(new Error("no answer to an 11 MB chunked upload")), 20_000).unref();
        });
        assert.strictEqual(streamed.status, 413);
        assert.deepStrictEqual(JSON.parse(streamed.body), { message: "Request Too Long" });
        assert.strictEqual(seen.length, before, "the backend never saw either");
        const atLimit = await send(run.url, "POST", "/uploads/cover.png", { "X-Api-Key": BASIC, "Content-Type": "multipart/form-data; boundary=x" }, Buffer.alloc(MB10, 2));
        assert.strictEqual(atLimit.status, 200, atLimit.body);
        assert.strictEqual(last().bytes, MB10, "exactly 10 MB passes");
    });

    it("cuts off a client that does not finish its request in time", async () => {
        const { hostname, port } = new URL(run.url);
        const socket = net.connect(Number(port), hostname);
        socket.write(`POST /uploads/slow HTTP/1.1\r\nHost: ${hostname}\r\nX-Api-Key: ${BASIC}\r\nContent-Length: 100\r\n\r\nonly a part`);
        const started = Date.now();
        let answer = "";
        socket.on("data", (d: Buffer) => { answer += d.toString(); });
        await new Promise<void>((resolve) => {
            socket.on("close", () => resolve());
            setTimeout(() => { socket.destroy(); resolve(); }, 8000).unref();
        });
        const waited = Date.now() - started;
        assert.ok(waited < 6000, `closed after ${waited} ms (client timeout 1 s)`);
        assert.match(answer, /^HTTP\/1\.1 408 /);
    });
});

describe("local run: its redis-server never outlives it", function () {
    this.timeout(60_000);

    it("SIGKILL of the command takes its redis-server down too", async () => {
        const run = await startLocal([]);
        assert.ok(alive(run.redisPid));
        run.process.kill("SIGKILL");
        assert.ok(await gone(run.redisPid), `redis-server ${run.redisPid} outlived the killed command`);
    });

    it("a command whose parent dies (npm killed, or SIGTERM to npm's shell) stops, and takes its redis-server down", async () => {
        // sh stands for npm's `sh -c "tsc && node ..."`: killing it leaves node orphaned.
        const shell = spawn("sh", ["-c", `"${process.execPath}" "${LOCAL_CLI}" --stack red --port 0 & wait`], {
            env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"],
        });
        const run = await waitForLocal(shell);
        const commandPid = Number(/local run pid (\d+)/.exec(run.output())?.[1]);
        assert.ok(commandPid > 0 && alive(commandPid), run.output());
        shell.kill("SIGKILL");
        assert.ok(await gone(commandPid, 10_000), `the orphaned command ${commandPid} kept running`);
        assert.ok(await gone(run.redisPid), `redis-server ${run.redisPid} outlived the command`);
    });
});
