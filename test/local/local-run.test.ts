// The local run driven over HTTP with a real client, as a user would: the command runs as
// its own process, with its own redis-server and the development 3scale backend.
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { Started, alive, startLocal, stopLocal } from "../support/local-run";

const BASIC = "local-basic-key-0000000001";
const ENTERPRISE = "local-enterprise-key-00002";
const LIMITED = "local-limited-key-00000004";

async function get(url: string, key?: string, method = "GET"): Promise<{ status: number; body: string }> {
    const response = await fetch(url, { method, headers: key ? { "X-Api-Key": key } : {} });
    return { status: response.status, body: await response.text() };
}

describe("local run: one slot on localhost with the real authorizer pair", function () {
    this.timeout(60_000);
    let backend: http.Server;
    let backendUrl: string;
    const seen: http.IncomingHttpHeaders[] = [];
    let run: Started;

    before(async () => {
        backend = http.createServer((req, res) => {
            seen.push(req.headers);
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ path: req.url, plan: req.headers["x-api-ring-plan"] }));
        });
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        run = await startLocal(["--backend", `discovery_host=${backendUrl}`, "--backend", `edxapp_host=${backendUrl}`,
            "--set", "authorizer:reportingWindowSeconds=0"]);
    });
    after(async () => {
        if (run && run.process.exitCode === null) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });

    it("says which 3scale it uses", () => {
        assert.match(run.output(), /3scale: local development backend at http:\/\/127\.0\.0\.1:\d+ with 5 keys/);
    });

    it("allows a key on a catalog route and passes the authorizer's context to the backend", async () => {
        const r = await get(`${run.url}/discovery/v1/catalogs/7?page=2`, BASIC);
        assert.strictEqual(r.status, 200, r.body);
        assert.deepStrictEqual(JSON.parse(r.body), { path: "/api/v1/catalogs/7/?page=2", plan: "Basic" });
        assert.strictEqual(seen.at(-1)?.["x-api-ring-app-id"], "1001");
    });

    it("denies an unknown key with 403", async () => {
        const r = await get(`${run.url}/discovery/v1/catalogs`, "unknown-key-0000000000000");
        assert.strictEqual(r.status, 403);
        assert.match(r.body, /not authorized/);
    });

    it("answers 401 for a missing or malformed token", async () => {
        assert.strictEqual((await get(`${run.url}/discovery/v1/catalogs`)).status, 401);
        assert.strictEqual((await get(`${run.url}/discovery/v1/catalogs`, "short")).status, 401);
    });

    it("says why it refuses, with the document's gateway responses: where the key goes (401), the authorizer's reason (403)", async () => {
        const missing = await get(`${run.url}/discovery/v1/catalogs`);
        assert.deepStrictEqual(JSON.parse(missing.body), { message: "Unauthorized", reason: "missing or malformed credential: send a 3scale user_key in the X-Api-Key header" });
        const outside = await get(`${run.url}/enterprise/v1/customers`, BASIC);
        assert.deepStrictEqual(JSON.parse(outside.body), { message: "User is not authorized to access this resource with an explicit deny", reason: "route not in plan", retryAfter: "" });
    });

    it("serves public routes without a token", async () => {
        const heartbeat = await get(`${run.url}/heartbeat`);
        assert.strictEqual(heartbeat.status, 200);
        assert.deepStrictEqual(JSON.parse(heartbeat.body), { status: "ok", release: "release-2026-11-23.1" });
        const token = await get(`${run.url}/oauth2/access_token`, undefined, "POST");
        assert.strictEqual(token.status, 200);
        assert.strictEqual(JSON.parse(token.body).path, "/oauth2/access_token");
    });

    it("refuses a route outside the plan's list with 403, and allows it for a plan that grants it", async () => {
        assert.strictEqual((await get(`${run.url}/enterprise/v1/customers`, BASIC)).status, 403);
        assert.strictEqual((await get(`${run.url}/enterprise/v1/customers`, ENTERPRISE)).status, 200);
        assert.strictEqual((await get(`${run.url}/enterprise/v1/customers`, ENTERPRISE, "POST")).status, 403, "the plan grants GET only");
    });

    it("denies a key once 3scale reports its limit exceeded (409), says when to retry, and tells the backend what is left", async () => {
        const statuses: number[] = [];
        let last = { status: 0, body: "" };
        const left: unknown[] = [];
        for (let i = 0; i < 12 && statuses.at(-1) !== 403; i++) {
            last = await get(`${run.url}/discovery/v1/catalogs`, LIMITED);
            statuses.push(last.status);
            if (last.status === 200) left.push(seen.at(-1)?.["x-api-ring-limit-remaining"]);
            await new Promise((r) => setTimeout(r, 100)); // let the in-process SNS delivery report
        }
        assert.deepStrictEqual(statuses.slice(0, 3), [200, 200, 200], statuses.join(","));
        assert.strictEqual(statuses.at(-1), 403, `the limited key (3 a day) is denied in the end: ${statuses.join(",")}`);
        assert.ok(statuses.length <= 6, `denied soon after the limit: ${statuses.join(",")}`);
        assert.deepStrictEqual(left, ["2", "1", "0"], "the backend learns what is left of the day's 3");
        const denied = JSON.parse(last.body) as Record<string, string>;
        const midnight = new Date();
        midnight.setUTCHours(24, 0, 0, 0);
        const reset = Math.ceil((midnight.getTime() - Date.now()) / 1000);
        assert.strictEqual(denied.reason, "usage limits are exceeded");
        assert.ok(Math.abs(Number(denied.retryAfter) - reset) <= 2, `retryAfter ${denied.retryAfter}, the day ends in ${reset} s`);
    });

    it("answers INTEGRATION_FAILURE's 504 when the backend is down", async () => {
        const down = await startLocal(["--backend", "discovery_host=http://127.0.0.1:9", "--port", "0"]);
        try {
            const r = await get(`${down.url}/discovery/v1/catalogs`, BASIC);
            assert.deepStrictEqual([r.status, JSON.parse(r.body)], [504, { message: "Internal server error" }]);
        } finally {
            await stopLocal(down);
        }
    });

    it("throttles past the stack's rate and burst with 429", async () => {
        const slow = await startLocal(["--set", "gateway:rateLimit=1", "--set", "gateway:burstLimit=3"]);
        try {
            const statuses = await Promise.all(Array.from({ length: 8 }, () => get(`${slow.url}/heartbeat`).then((r) => r.status)));
            assert.strictEqual(statuses.filter((s) => s === 200).length, 3, statuses.join(","));
            assert.strictEqual(statuses.filter((s) => s === 429).length, 5, statuses.join(","));
        } finally {
            await stopLocal(slow);
        }
    });

    it("shuts down on SIGINT with a summary and no process left behind", async () => {
        const { code, output } = await stopLocal(run);
        assert.strictEqual(code, 0, output);
        const summary = /summary: (\d+) requests, (\d+) allowed, (\d+) denied, (\d+) unauthorized, (\d+) throttled, cache hit rate ([\d.]+)%, (\d+) 3scale calls/.exec(output);
        assert.ok(summary, output);
        assert.ok(Number(summary[1]) >= 12 && Number(summary[2]) >= 5 && Number(summary[3]) >= 3 && Number(summary[4]) === 3, summary[0]); // the three requests above sent without a usable key
        assert.ok(Number(summary[7]) > 0);
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(!alive(run.redisPid), `redis-server ${run.redisPid} is gone`);
    });
});

describe("local run: a user_key in the query string (REQUEST authorizer)", function () {
    this.timeout(60_000);
    let run: Started;
    let backend: http.Server;

    before(async () => {
        backend = http.createServer((_req, res) => res.end("{}"));
        await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
        const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
        run = await startLocal(["--backend", `discovery_host=${backendUrl}`, "--backend", `edxapp_host=${backendUrl}`,
            "--set", "authorizer:credentialsLocation=query"]);
    });
    after(async () => {
        if (run && run.process.exitCode === null) await stopLocal(run);
        await new Promise((r) => backend.close(r));
    });

    it("reads ?user_key= as API Gateway hands it to a REQUEST authorizer, and refuses the header", async () => {
        assert.strictEqual((await get(`${run.url}/discovery/v1/catalogs?user_key=${BASIC}`)).status, 200);
        const header = await get(`${run.url}/discovery/v1/catalogs`, BASIC);
        assert.strictEqual(header.status, 401);
        assert.match(JSON.parse(header.body).reason, /send a 3scale user_key in the user_key query parameter/);
    });
});
