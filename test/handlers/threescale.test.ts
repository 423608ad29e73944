import * as assert from "assert";
import { freePort } from "../../dev-servers/redis-server";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { createThreescaleClient, formatTimestamp, parseAuthReply, parseReportReply, parseThreescaleTime } from "../../handlers/threescale";

const XML = '<?xml version="1.0" encoding="UTF-8"?>';

describe("3scale reply parser", () => {
    it("reads an authorized status with plan, usage reports and the app id (list_app_keys)", () => {
        const body = `${XML}<status><authorized>true</authorized><plan>Basic</plan><usage_reports>` +
            `<usage_report metric="hits" period="day"><period_start>2010-05-15 00:00:00 +0000</period_start>` +
            `<period_end>2010-05-16 00:00:00 +0000</period_end><max_value>100</max_value><current_value>2</current_value></usage_report>` +
            `<usage_report metric="hits" period="month"><period_start>2010-05-01 00:00:00 +0000</period_start>` +
            `<period_end>2010-06-01 00:00:00 +0000</period_end><max_value>10000</max_value><current_value>5</current_value></usage_report>` +
            `</usage_reports><app_keys app="7781" svc="2555"></app_keys></status>`;
        const out = parseAuthReply(200, body);
        assert.strictEqual(out.kind, "authorized");
        assert.ok(out.kind === "authorized");
        assert.strictEqual(out.plan, "Basic");
        assert.strictEqual(out.appId, "7781");
        assert.deepStrictEqual(out.usageReports.map((r) => [r.period, r.maxValue, r.currentValue, r.exceeded]), [["day", 100, 2, false], ["month", 10000, 5, false]]);
        assert.strictEqual(out.usageReports[0].periodStart, "2010-05-15 00:00:00 +0000");
    });

    it("reads an authorized status without limits or app keys", () => {
        const out = parseAuthReply(200, `${XML}<status><authorized>true</authorized><plan>Unlimited</plan></status>`);
        assert.deepStrictEqual(out, { kind: "authorized", status: 200, plan: "Unlimited", appId: undefined, usageReports: [] });
    });

    it("maps 409 limits exceeded to a denial with the exceeded report", () => {
        const out = parseAuthReply(409, `${XML}<status><authorized>false</authorized><reason>usage limits are exceeded</reason><plan>Basic</plan>` +
            `<usage_reports><usage_report metric="hits" period="day" exceeded="true"><period_start>a</period_start><period_end>b</period_end>` +
            `<max_value>5</max_value><current_value>6</current_value></usage_report></usage_reports></status>`);
        assert.ok(out.kind === "denied");
        assert.strictEqual(out.code, "limits_exceeded");
        assert.strictEqual(out.reason, "usage limits are exceeded");
        assert.strictEqual(out.usageReports[0].exceeded, true);
    });

    it("maps 409 application not active to a denial", () => {
        const out = parseAuthReply(409, `${XML}<status><authorized>false</authorized><reason>application is not active</reason><plan>Basic</plan></status>`);
        assert.ok(out.kind === "denied");
        assert.strictEqual(out.code, "application_not_active");
    });

    it("maps 403 user_key_invalid and 404 application_not_found to denials", () => {
        const a = parseAuthReply(403, `${XML}<error code="user_key_invalid">user key "biteme" is invalid</error>`);
        assert.deepStrictEqual(a, { kind: "denied", status: 403, code: "user_key_invalid", reason: "user key invalid", usageReports: [] });
        const b = parseAuthReply(404, `${XML}<error code="application_not_found">application with id="1" was not found</error>`);
        assert.strictEqual(b.kind, "denied");
    });

    it("maps refusals about our own service to failures: service not active, credential type, both credentials (item 5)", () => {
        const suspended = `${XML}<status><authorized>false</authorized><reason>service is not active</reason><plan>Basic</plan></status>`;
        assert.deepStrictEqual(parseAuthReply(409, suspended), { kind: "failed", status: 409, code: "service_not_active", reason: "3scale refused the service (409 service_not_active)" });
        assert.strictEqual(parseAuthReply(409, suspended, "service_not_active").kind, "failed");
        const v1 = parseAuthReply(403, `${XML}<error code="user_key_invalid">user key is missing</error>`);
        assert.ok(v1.kind === "failed" && v1.code === "user_key_invalid");
        const v2 = parseAuthReply(404, `${XML}<error code="application_not_found">application id is missing</error>`);
        assert.ok(v2.kind === "failed" && v2.code === "application_not_found");
        assert.strictEqual(parseAuthReply(403, `${XML}<error code="authentication_error">either app_id or user_key is allowed, not both</error>`).kind, "failed");
        assert.strictEqual(parseAuthReply(422, `${XML}<error code="service_id_missing">Service ID is missing</error>`).kind, "failed");
        assert.strictEqual(parseAuthReply(403, `${XML}<error code="service_id_invalid">service id "1" is invalid</error>`).kind, "failed");
        assert.strictEqual(parseAuthReply(403, "").kind, "failed");
    });

    it("uses the 3scale-rejection-reason header, and keeps no app key from a 409's reason", () => {
        const body = `${XML}<status><authorized>false</authorized><reason>application key "s3cr3t" is invalid</reason><plan>Basic</plan></status>`;
        const out = parseAuthReply(409, body, "application_key_invalid");
        assert.deepStrictEqual(out, { kind: "denied", status: 409, code: "application_key_invalid", reason: "application key invalid", plan: "Basic", appId: undefined, usageReports: [] });
        const limits = parseAuthReply(409, `${XML}<status><authorized>false</authorized><reason>usage limits are exceeded</reason><plan>Basic</plan></status>`, "limits_exceeded");
        assert.ok(limits.kind === "denied" && limits.code === "limits_exceeded");
    });

    it("reads apisonator's period bounds as times", () => {
        assert.strictEqual(parseThreescaleTime("2010-05-16 00:00:00 +0000"), Date.UTC(2010, 4, 16));
        assert.strictEqual(parseThreescaleTime("2010-05-16 02:00:00 +0200"), Date.UTC(2010, 4, 16));
        assert.strictEqual(parseThreescaleTime(undefined), undefined);
        const out = parseAuthReply(200, `${XML}<status><authorized>true</authorized><plan>P</plan><usage_reports><usage_report metric="hits" period="eternity"><max_value>5</max_value><current_value>1</current_value></usage_report></usage_reports></status>`);
        assert.ok(out.kind === "authorized" && out.usageReports[0].endMs === undefined && out.usageReports[0].period === "eternity");
    });

    it("maps a 403 about our own credentials to a failure, not a denial of the caller", () => {
        const out = parseAuthReply(403, `${XML}<error code="service_token_invalid">service token "x" or service id "y" is invalid</error>`);
        assert.strictEqual(out.kind, "failed");
        assert.ok(out.kind === "failed");
        assert.strictEqual(out.code, "service_token_invalid");
        assert.ok(!out.reason.includes('"x"'), "the service token is not repeated");
    });

    it("maps 5xx, malformed XML, an empty 404 and an unexpected document to failures", () => {
        assert.strictEqual(parseAuthReply(503, "oops").kind, "failed");
        const garbage = parseAuthReply(200, `${XML}<status><authorized>true</authorized><plan>Ba`);
        assert.ok(garbage.kind === "failed" && garbage.code === "malformed");
        assert.ok(parseAuthReply(404, "").kind === "failed");
        assert.ok(parseAuthReply(200, "<html><body>hi</body></html>").kind === "failed");
        assert.ok(parseAuthReply(200, "").kind === "failed");
    });

    it("treats only 202 as an accepted report", () => {
        assert.deepStrictEqual(parseReportReply(202, ""), { kind: "accepted", status: 202 });
        const bad = parseReportReply(403, `${XML}<error code="service_token_invalid">bad</error>`);
        assert.ok(bad.kind === "failed" && bad.code === "service_token_invalid");
        assert.strictEqual(parseReportReply(200, "").kind, "failed");
        assert.strictEqual(parseReportReply(500, "").kind, "failed");
    });
});

describe("3scale client against the Service Management API stand-in", () => {
    let fake: FakeThreescale;
    beforeEach(async () => {
        fake = await startThreescale({ apps: [{ id: "app-1", userKey: "key-aaaaaaaaaaaaaaaa", plan: "Basic", dailyHits: 2 }] });
    });
    afterEach(async () => fake.close());
    const client = (timeoutMs = 300, token?: string) =>
        createThreescaleClient({ backendUrl: fake.url + "/", serviceId: fake.serviceId, serviceToken: token ?? fake.serviceToken, timeoutMs });

    it("authreps with service_token, service_id, user_key, usage[hits]=1 and the list_app_keys, rejection_reason_header and limit_headers extensions", async () => {
        const out = await client().authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(out.kind === "authorized");
        assert.strictEqual(out.appId, "app-1");
        const call = fake.calls[0];
        assert.strictEqual(call.path, "/transactions/authrep.xml");
        assert.strictEqual(call.params.get("service_token"), fake.serviceToken);
        assert.strictEqual(call.params.get("service_id"), fake.serviceId);
        assert.strictEqual(call.params.get("usage[hits]"), "1");
        assert.strictEqual(call.headers["3scale-options"], "list_app_keys=1&rejection_reason_header=1&limit_headers=1");
        assert.strictEqual(fake.app("app-1").hits, 1);
    });

    it("reads the limit_headers extension on a 200 and on a limits_exceeded 409, not on other refusals", async () => {
        fake.addApp({ id: "app-lh", userKey: "key-limited-headers-0", plan: "Basic", limits: { eternity: 3 } });
        const c = client();
        const ok = await c.authorize({ userKey: "key-limited-headers-0" }, { hits: 1 });
        assert.ok(ok.kind === "authorized");
        assert.deepStrictEqual(ok.limit, { remaining: 3, reset: -1, maxValue: 3 });
        fake.app("app-lh").limits = { day: 2 };
        fake.app("app-lh").hits = 0;
        await c.authrep({ userKey: "key-limited-headers-0" });
        await c.authrep({ userKey: "key-limited-headers-0" });
        const limited = await c.authorize({ userKey: "key-limited-headers-0" }, { hits: 1 });
        assert.ok(limited.kind === "denied" && limited.code === "limits_exceeded");
        assert.strictEqual(limited.limit?.remaining, 0);
        assert.ok((limited.limit?.reset ?? 0) > 0 && (limited.limit?.reset ?? 0) <= 86_400);
        fake.app("app-lh").state = "suspended";
        const inactive = await c.authorize({ userKey: "key-limited-headers-0" }, { hits: 1 });
        assert.ok(inactive.kind === "denied" && inactive.limit === undefined);
    });

    it("marks the transactions.xml refusals apisonator says must not be repeated unchanged, and no other", () => {
        for (const [status, code] of [[400, "transactions_is_blank"], [400, "content_type_invalid"], [400, "transactions_has_nil_transaction"], [422, "not_valid_data"], [400, "bad_request"]] as const) {
            const out = parseReportReply(status, `<?xml version="1.0" encoding="UTF-8"?><error code="${code}">x</error>`);
            assert.ok(out.kind === "failed" && out.unrepeatable === true, code);
        }
        for (const [status, code] of [[403, "service_token_invalid"], [422, "service_id_missing"], [403, "provider_key_or_service_token_required"]] as const) {
            const out = parseReportReply(status, `<?xml version="1.0" encoding="UTF-8"?><error code="${code}">x</error>`);
            assert.ok(out.kind === "failed" && out.unrepeatable === undefined, code);
        }
        const down = parseReportReply(503, "<html/>");
        assert.ok(down.kind === "failed" && down.unrepeatable === undefined);
    });

    it("gets 409 once the limit is used up, and 403 for an unknown key or a bad service token", async () => {
        const c = client();
        await c.authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        await c.authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        const third = await c.authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(third.kind === "denied" && third.status === 409 && third.code === "limits_exceeded");
        const unknown = await c.authrep({ userKey: "key-zzzzzzzzzzzzzzzz" });
        assert.ok(unknown.kind === "denied" && unknown.status === 403 && unknown.code === "user_key_invalid");
        const badToken = await client(300, "wrong").authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(badToken.kind === "failed" && badToken.code === "service_token_invalid");
    });

    it("authorizes without reporting usage (predicted usage is only checked)", async () => {
        const out = await client().authorize({ userKey: "key-aaaaaaaaaaaaaaaa" }, { hits: 1 });
        assert.strictEqual(out.kind, "authorized");
        assert.strictEqual(fake.app("app-1").hits, 0);
        assert.strictEqual((await client().authorize({ userKey: "key-nnnnnnnnnnnnnnnn" })).kind, "denied");
    });

    it("treats a credential type the service does not take as a 3scale failure, not a denial (apisonator backend_version_test.rb L24-50)", async () => {
        // The old stand-in answered app_id on a user_key service; apisonator answers 403 "user key is missing".
        const byId = await client().authorize({ appId: "app-1" }, { hits: 1 });
        assert.ok(byId.kind === "failed" && byId.code === "user_key_invalid" && byId.status === 403, JSON.stringify(byId));
        assert.match(byId.reason, /takes another credential type/);
        fake.backendVersion = "2";
        const byKey = await client().authorize({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(byKey.kind === "failed" && byKey.code === "application_not_found" && byKey.status === 404, JSON.stringify(byKey));
        const known = await client().authorize({ appId: "app-1" });
        assert.strictEqual(known.kind, "authorized");
        assert.strictEqual((await client().authorize({ appId: "nope" })).kind, "denied");
    });

    it("treats a suspended service as a 3scale failure (apisonator authorize/disabled_service_test.rb L27-32)", async () => {
        fake.serviceState = "suspended";
        const out = await client().authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(out.kind === "failed" && out.code === "service_not_active" && out.status === 409, JSON.stringify(out));
        assert.strictEqual(fake.app("app-1").hits, 0);
    });

    it("reports many transactions in one transactions.xml call, each with its timestamp", async () => {
        fake.addApp({ id: "app-2", userKey: "key-bbbbbbbbbbbbbbbb", plan: "Basic" });
        const earlier = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 120_000;
        const out = await client().report([
            { identity: { appId: "app-1" }, usage: { hits: 3 }, timestamp: earlier },
            { identity: { userKey: "key-bbbbbbbbbbbbbbbb" }, usage: { hits: 4 } },
        ]);
        assert.deepStrictEqual(out, { kind: "accepted", status: 202 });
        assert.strictEqual(fake.count("/transactions.xml"), 1);
        const params = fake.calls[0].params;
        assert.strictEqual(params.get("transactions[0][app_id]"), "app-1");
        assert.strictEqual(params.get("transactions[0][usage][hits]"), "3");
        assert.strictEqual(params.get("transactions[1][user_key]"), "key-bbbbbbbbbbbbbbbb");
        assert.strictEqual(params.get("transactions[0][timestamp]"), formatTimestamp(earlier));
        assert.match(params.get("transactions[0][timestamp]") ?? "", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:00 \+0000$/);
        assert.strictEqual(params.get("transactions[1][timestamp]"), null);
        assert.deepStrictEqual([...fake.reported], [["app-1", 3], ["app-2", 4]]);
        // 23:58 yesterday lands in yesterday, not in today's period.
        assert.strictEqual(fake.usage("app-1", "day"), 0);
        assert.strictEqual(fake.usage("app-1", "day", earlier), 3);
    });

    it("says a report with no reply may have been taken (in doubt), and one refused at connect was not", async () => {
        fake.lateMs = 1000;
        fake.reportFaults = ["late"];
        const late = await client(200).report([{ identity: { appId: "app-1" }, usage: { hits: 1 } }]);
        assert.ok(late.kind === "failed" && late.code === "timeout" && late.inDoubt === true, JSON.stringify(late));
        assert.strictEqual(fake.app("app-1").hits, 1, "3scale took it");
        await fake.setFault("down");
        const down = await client().report([{ identity: { appId: "app-1" }, usage: { hits: 1 } }]);
        assert.ok(down.kind === "failed" && down.code === "unreachable" && down.inDoubt === undefined, JSON.stringify(down));
        await fake.setFault("none");
        fake.reportFaults = ["5xx"];
        const five = await client().report([{ identity: { appId: "app-1" }, usage: { hits: 1 } }]);
        assert.ok(five.kind === "failed" && five.code === "server_error" && five.inDoubt === undefined);
        const authTimeout = await (async () => { fake.slowMs = 1000; await fake.setFault("slow"); return client(200).authorize({ userKey: "key-aaaaaaaaaaaaaaaa" }); })();
        assert.ok(authTimeout.kind === "failed" && authTimeout.inDoubt === undefined, "authorize never acts, so it is never in doubt");
    });

    it("bounds a slow 3scale by the timeout", async () => {
        fake.slowMs = 3000;
        await fake.setFault("slow");
        const started = Date.now();
        const out = await client(200).authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(out.kind === "failed" && out.code === "timeout", JSON.stringify(out));
        assert.ok(Date.now() - started < 1000);
    });

    it("maps down (connection refused), 5xx and garbage to failures", async () => {
        await fake.setFault("down");
        const down = await client().authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(down.kind === "failed" && down.code === "unreachable", JSON.stringify(down));
        await fake.setFault("5xx");
        const five = await client().authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(five.kind === "failed" && five.code === "server_error");
        await fake.setFault("garbage");
        const garbage = await client().authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(garbage.kind === "failed" && garbage.code === "malformed");
        assert.strictEqual((await client().report([{ identity: { appId: "app-1" }, usage: { hits: 1 } }])).kind, "failed");
    });

    it("maps a port nobody listens on to unreachable", async () => {
        const port = await freePort();
        const c = createThreescaleClient({ backendUrl: `http://127.0.0.1:${port}`, serviceId: "1", serviceToken: "t", timeoutMs: 300 });
        const out = await c.authrep({ userKey: "key-aaaaaaaaaaaaaaaa" });
        assert.ok(out.kind === "failed" && out.code === "unreachable");
    });
});
