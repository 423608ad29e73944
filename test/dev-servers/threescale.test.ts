// The development 3scale follows apisonator (github.com/3scale/apisonator, read at 2e7f156b):
// each test pins one rule to the apisonator test or source file that shows it, with the reply
// shapes those tests assert. Raw HTTP here, not the project's client, so the shapes are the server's.
import * as assert from "assert";
import { FakeThreescale, parseReportTimestamp, startThreescale } from "../../dev-servers/threescale";

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
// 2010-05-15 12:00 UTC, a Saturday, the date apisonator's authorize/basic_test.rb uses.
const NOW = Date.UTC(2010, 4, 15, 12, 0, 0);

interface Reply { status: number; body: string; headers: Headers }

describe("development 3scale follows apisonator", () => {
    let fake: FakeThreescale;
    let clock: number;
    const start = async (backendVersion: "1" | "2" | "oauth" = "1"): Promise<void> => {
        fake = await startThreescale({ backendVersion, now: () => clock });
        fake.addApp({ id: "app-1", userKey: "user_key_1", plan: "Basic", limits: { day: 100, month: 10000 } });
        fake.addApp({ id: "app-2", userKey: "user_key_2", plan: "Unlimited" });
        fake.addApp({ id: "app-keys", userKey: "user_key_k", plan: "Basic", appKeys: ["foo", "baz"] });
    };
    beforeEach(async () => {
        clock = NOW;
        await start();
    });
    afterEach(async () => fake.close());

    const credentials = (): Record<string, string> => ({ service_token: fake.serviceToken, service_id: fake.serviceId });
    const get = async (endpoint: string, params: Record<string, string>, options?: string): Promise<Reply> => {
        const res = await fetch(`${fake.url}/transactions/${endpoint}?${new URLSearchParams(params).toString()}`, {
            headers: options ? { "3scale-options": options } : {},
        });
        return { status: res.status, body: await res.text(), headers: res.headers };
    };
    const authorize = (params: Record<string, string>, options?: string) => get("authorize.xml", { ...credentials(), ...params }, options);
    const authrep = (params: Record<string, string>, options?: string) => get("authrep.xml", { ...credentials(), ...params }, options);
    const report = async (transactions: Record<string, string>[], extra: Record<string, string> = credentials()): Promise<Reply> => {
        const body = new URLSearchParams(extra);
        transactions.forEach((t, i) => {
            // "usage[hits]" -> transactions[i][usage][hits]
            for (const [k, v] of Object.entries(t)) body.append(`transactions[${i}]` + k.split("[").map((part) => `[${part.replace("]", "")}]`).join(""), v);
        });
        const res = await fetch(`${fake.url}/transactions.xml`, {
            method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString(),
        });
        return { status: res.status, body: await res.text(), headers: res.headers };
    };
    const error = (code: string, message: string): string => `${XML}<error code="${code}">${message}</error>`;

    describe("backend_version (test/integration/backend_version_test.rb)", () => {
        it("1: app_id alone is 403 user_key_invalid 'user key is missing'; the user_key is authorized (L24-36)", async () => {
            const byId = await authorize({ app_id: "app-1" });
            assert.strictEqual(byId.status, 403);
            assert.strictEqual(byId.body, error("user_key_invalid", "user key is missing"));
            assert.strictEqual(byId.headers.get("content-type"), "application/vnd.3scale-v2.0+xml");
            assert.strictEqual((await authorize({ user_key: "user_key_1" })).status, 200);
        });

        it("1: an unknown user_key is 403 user_key_invalid naming it (authorize/legacy_test.rb L33-41)", async () => {
            const r = await authorize({ user_key: "biteme" });
            assert.strictEqual(r.status, 403);
            assert.strictEqual(r.body, error("user_key_invalid", 'user key "biteme" is invalid'));
        });

        it("1: app_key is ignored (lib/3scale/backend/validators/key.rb)", async () => {
            assert.strictEqual((await authorize({ user_key: "user_key_k", app_key: "wrong" })).status, 200);
        });

        it("2: user_key alone is 404 application_not_found 'application id is missing'; app_id is authorized (L38-50)", async () => {
            await fake.close();
            await start("2");
            const byKey = await authorize({ user_key: "user_key_1" });
            assert.strictEqual(byKey.status, 404);
            assert.strictEqual(byKey.body, error("application_not_found", "application id is missing"));
            assert.strictEqual((await authorize({ app_id: "app-1" })).status, 200);
            const unknown = await authorize({ app_id: "boo" });
            assert.strictEqual(unknown.status, 404);
            assert.strictEqual(unknown.body, error("application_not_found", 'application with id="boo" was not found'));
        });

        it("2: an app with keys needs one of them, as a 409 <status> (authorize/application_keys_test.rb L21-66)", async () => {
            await fake.close();
            await start("2");
            const missing = await authorize({ app_id: "app-keys" });
            assert.strictEqual(missing.status, 409);
            assert.match(missing.body, /^<\?xml version="1.0" encoding="UTF-8"\?><status><authorized>false<\/authorized><reason>application key is missing<\/reason><plan>Basic<\/plan>/);
            const wrong = await authorize({ app_id: "app-keys", app_key: "bar" });
            assert.strictEqual(wrong.status, 409);
            assert.match(wrong.body, /<reason>application key "bar" is invalid<\/reason>/);
            assert.strictEqual((await authorize({ app_id: "app-keys", app_key: "baz" })).status, 200);
            assert.strictEqual((await authorize({ app_id: "app-2" })).status, 200, "an app without keys needs none");
        });

        it("oauth: app_id without app_key is authorized even when the app has keys (backend_version_test.rb L106-166)", async () => {
            await fake.close();
            await start("oauth");
            assert.strictEqual((await authorize({ app_id: "app-keys" })).status, 200);
            assert.strictEqual((await authorize({ app_id: "app-keys", app_key: "bar" })).status, 409);
        });

        it("app_id and user_key together are 403 authentication_error (authorize/legacy_test.rb L43-53)", async () => {
            const r = await authorize({ app_id: "app-1", user_key: "user_key_1" });
            assert.strictEqual(r.status, 403);
            assert.strictEqual(r.body, error("authentication_error", "either app_id or user_key is allowed, not both"));
        });
    });

    describe("authorized replies (authorize/basic_test.rb, transactor/status.rb, usage_report.rb)", () => {
        it("lists limits longest period first with apisonator's dates, in one line (L62-105)", async () => {
            const r = await authorize({ user_key: "user_key_1" });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.body, `${XML}<status><authorized>true</authorized><plan>Basic</plan><usage_reports>` +
                `<usage_report metric="hits" period="month"><period_start>2010-05-01 00:00:00 +0000</period_start><period_end>2010-06-01 00:00:00 +0000</period_end><max_value>10000</max_value><current_value>0</current_value></usage_report>` +
                `<usage_report metric="hits" period="day"><period_start>2010-05-15 00:00:00 +0000</period_start><period_end>2010-05-16 00:00:00 +0000</period_end><max_value>100</max_value><current_value>0</current_value></usage_report>` +
                `</usage_reports></status>`);
        });

        it("has no <usage_reports> for a plan without limits (L107-119)", async () => {
            const r = await authorize({ user_key: "user_key_2" });
            assert.strictEqual(r.body, `${XML}<status><authorized>true</authorized><plan>Unlimited</plan></status>`);
        });

        it("gives eternity no period_start/period_end, and weeks start on Monday (L351-358; period/boundary.rb)", async () => {
            fake.addApp({ id: "app-e", userKey: "user_key_e", plan: "Forever", limits: { eternity: 5, week: 3 } });
            const r = await authorize({ user_key: "user_key_e" });
            assert.match(r.body, /<usage_report metric="hits" period="eternity"><max_value>5<\/max_value><current_value>0<\/current_value><\/usage_report>/);
            assert.match(r.body, /<usage_report metric="hits" period="week"><period_start>2010-05-10 00:00:00 \+0000<\/period_start><period_end>2010-05-17 00:00:00 \+0000<\/period_end>/);
        });

        it("marks exceeded=\"true\" only where the stored value is over the limit (L281-300)", async () => {
            fake.addApp({ id: "app-x", userKey: "user_key_x", plan: "Basic", limits: { day: 4, month: 10 }, hits: 5 });
            const r = await authorize({ user_key: "user_key_x" });
            assert.strictEqual(r.status, 409);
            assert.match(r.body, /<usage_report metric="hits" period="month"><period_start>/);
            assert.match(r.body, /<usage_report metric="hits" period="day" exceeded="true"><period_start>/);
        });
    });

    describe("counting (authrep/reporting_test.rb, transactor.rb)", () => {
        it("authorize never counts and shows the stored value (transactor.rb L124-127; usage_report.rb L156-168)", async () => {
            for (let i = 0; i < 3; i++) {
                const r = await authorize({ user_key: "user_key_1", "usage[hits]": "1" });
                assert.match(r.body, /period="day">.*<current_value>0<\/current_value>/);
            }
            assert.strictEqual(fake.usage("app-1", "day"), 0);
        });

        it("an authorized authrep counts, and its current_value includes its own usage (L89-120)", async () => {
            fake.addApp({ id: "app-r", userKey: "user_key_r", plan: "Basic", limits: { month: 100 }, hits: 2 });
            const first = await authrep({ user_key: "user_key_r", "usage[hits]": "1" });
            assert.strictEqual(first.status, 200);
            assert.match(first.body, /<current_value>3<\/current_value>/);
            const second = await authrep({ user_key: "user_key_r", "usage[hits]": "1" });
            assert.match(second.body, /<current_value>4<\/current_value>/);
            assert.strictEqual(fake.usage("app-r", "month"), 4);
        });

        it("a 409 authrep counts nothing and shows the stored value (L30-61)", async () => {
            fake.addApp({ id: "app-r", userKey: "user_key_r", plan: "Basic", limits: { day: 4 }, hits: 3 });
            const r = await authrep({ user_key: "user_key_r", "usage[hits]": "2" });
            assert.strictEqual(r.status, 409);
            assert.match(r.body, /<reason>usage limits are exceeded<\/reason>.*<current_value>3<\/current_value>/);
            assert.strictEqual(fake.usage("app-r", "day"), 3);
        });

        it("authrep without usage counts nothing (transactor.rb L139-155)", async () => {
            assert.strictEqual((await authrep({ user_key: "user_key_1" })).status, 200);
            assert.strictEqual(fake.usage("app-1", "day"), 0);
        });

        it("reaching a limit is allowed, exceeding it is not (usage_limit.rb L16-18; authorize/basic_test.rb L211-227)", async () => {
            fake.addApp({ id: "app-5", userKey: "user_key_5", plan: "Basic", limits: { day: 5 } });
            const statuses = [];
            for (let i = 0; i < 6; i++) statuses.push((await authrep({ user_key: "user_key_5", "usage[hits]": "1" })).status);
            assert.deepStrictEqual(statuses, [200, 200, 200, 200, 200, 409]);
            assert.strictEqual((await authorize({ user_key: "user_key_5" })).status, 200, "without usage, current == max passes");
            fake.addApp({ id: "app-6", userKey: "user_key_6", plan: "Basic", limits: { day: 4 }, hits: 5 });
            assert.strictEqual((await authorize({ user_key: "user_key_6" })).status, 409, "without usage, current > max is refused");
        });

        it("predicted usage is checked against the limit but not counted (authorize/predicted_usage_test.rb L25-40)", async () => {
            fake.addApp({ id: "app-p", userKey: "user_key_p", plan: "Basic", limits: { day: 4 }, hits: 3 });
            assert.strictEqual((await authorize({ user_key: "user_key_p", "usage[hits]": "2" })).status, 409);
            assert.strictEqual((await authorize({ user_key: "user_key_p", "usage[hits]": "1" })).status, 200);
            assert.strictEqual(fake.usage("app-p", "day"), 3);
        });

        it("refuses bad usage values and unknown metrics (metric/collection.rb; authorize/basic_test.rb L772-794)", async () => {
            const bad = await authrep({ user_key: "user_key_1", "usage[hits]": "-1" });
            assert.strictEqual(bad.status, 403);
            assert.strictEqual(bad.body, error("usage_value_invalid", 'usage value "-1" for metric "hits" is invalid'));
            const metric = await authorize({ user_key: "user_key_1", "usage[nope]": "1" });
            assert.strictEqual(metric.status, 404);
            assert.strictEqual(metric.body, error("metric_invalid", 'metric "nope" is invalid'));
        });
    });

    describe("refusals (validators.rb order; authorize/basic_test.rb, disabled_service_test.rb)", () => {
        it("a suspended application is a 409 'application is not active' with plan and reports (L186-195)", async () => {
            fake.app("app-1").state = "suspended";
            const r = await authrep({ user_key: "user_key_1", "usage[hits]": "1" });
            assert.strictEqual(r.status, 409);
            assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?><status><authorized>false<\/authorized><reason>application is not active<\/reason><plan>Basic<\/plan><usage_reports>/);
            assert.strictEqual(fake.usage("app-1", "day"), 0);
        });

        it("a suspended service is a 409 'service is not active'; an unknown key there is still 404/403 (authorize/disabled_service_test.rb L27-32)", async () => {
            fake.serviceState = "suspended";
            const r = await authrep({ user_key: "user_key_1", "usage[hits]": "1" });
            assert.strictEqual(r.status, 409);
            assert.match(r.body, /<reason>service is not active<\/reason>/);
            assert.strictEqual((await authorize({ user_key: "nope" })).status, 403);
        });

        it("refuses our own credentials: 403 without a token, 422 without a service id, 403 service_token_invalid (L487-525)", async () => {
            const noToken = await get("authorize.xml", { service_id: fake.serviceId, user_key: "user_key_1" });
            assert.strictEqual(noToken.status, 403);
            assert.strictEqual(noToken.body, error("provider_key_or_service_token_required", "Provider key or service token are required"));
            const noId = await get("authorize.xml", { service_token: fake.serviceToken, user_key: "user_key_1" });
            assert.strictEqual(noId.status, 422);
            assert.strictEqual(noId.body, error("service_id_missing", "Service ID is missing"));
            const bad = await get("authorize.xml", { service_token: "TOK", service_id: fake.serviceId, user_key: "user_key_1" });
            assert.strictEqual(bad.status, 403);
            assert.strictEqual(bad.body, error("service_token_invalid", `service token "TOK" or service id "${fake.serviceId}" is invalid`));
        });

        it("sends 3scale-rejection-reason on a 409 when asked, never on an <error> (L553-586; rack/exception_catcher.rb)", async () => {
            fake.addApp({ id: "app-6", userKey: "user_key_6", plan: "Basic", limits: { day: 4 }, hits: 5 });
            const limited = await authorize({ user_key: "user_key_6" }, "rejection_reason_header=1");
            assert.strictEqual(limited.headers.get("3scale-rejection-reason"), "limits_exceeded");
            assert.strictEqual((await authorize({ user_key: "user_key_6" })).headers.get("3scale-rejection-reason"), null, "absent without the option");
            fake.serviceState = "suspended";
            const service = await authorize({ user_key: "user_key_1" }, "rejection_reason_header=1");
            assert.strictEqual(service.headers.get("3scale-rejection-reason"), "service_not_active");
            const unknown = await authorize({ user_key: "nope" }, "rejection_reason_header=1");
            assert.strictEqual(unknown.status, 403);
            assert.strictEqual(unknown.headers.get("3scale-rejection-reason"), null);
        });

        it("names the application with list_app_keys=1, also on a 409 and for user_key apps (list_app_keys_test.rb L91-183)", async () => {
            const ok = await authorize({ user_key: "user_key_1" }, "list_app_keys=1");
            assert.match(ok.body, new RegExp(`</usage_reports><app_keys app="app-1" svc="${fake.serviceId}"></app_keys></status>$`));
            fake.app("app-keys").state = "suspended";
            const refused = await authorize({ user_key: "user_key_k" }, "list_app_keys=1&rejection_reason_header=1");
            assert.strictEqual(refused.status, 409);
            assert.match(refused.body, /<app_keys app="app-keys" svc="\d+"><key id="foo"\/><key id="baz"\/><\/app_keys><\/status>$/);
            assert.doesNotMatch((await authorize({ user_key: "user_key_1" })).body, /app_keys/);
        });
    });

    describe("transactions.xml (test/integration/report_test.rb)", () => {
        it("answers 202 with an empty body and counts the usage (L28-52)", async () => {
            const r = await report([{ app_id: "app-1", "usage[hits]": "3" }]);
            assert.strictEqual(r.status, 202);
            assert.strictEqual(r.body, "");
            assert.strictEqual(fake.usage("app-1", "day"), 3);
            assert.deepStrictEqual([...fake.reported], [["app-1", 3]]);
        });

        it("accepts app_id or user_key per transaction, whatever the backend_version (L448-462; application.rb L87-91)", async () => {
            await report([{ user_key: "user_key_1", "usage[hits]": "1" }, { app_id: "app-2", "usage[hits]": "2" }]);
            await fake.close();
            await start("2");
            await report([{ user_key: "user_key_1", "usage[hits]": "1" }, { app_id: "app-2", "usage[hits]": "2" }]);
            assert.deepStrictEqual([...fake.reported].sort(), [["app-1", 1], ["app-2", 2]]);
        });

        it("answers 202 for an unknown application, then drops it and stores the error (L201-216)", async () => {
            const r = await report([{ app_id: "boo", "usage[hits]": "1" }]);
            assert.strictEqual(r.status, 202);
            assert.deepStrictEqual(fake.errors.map((e) => [e.code, e.message]), [["application_not_found", 'application with id="boo" was not found']]);
        });

        it("drops the whole POST when any one transaction is invalid (L378-388, L464-499)", async () => {
            for (const bad of [{ app_id: "boo" }, { user_key: "inyourface" }, { app_id: "app-2", user_key: "user_key_2" }] as Record<string, string>[]) {
                assert.strictEqual((await report([{ app_id: "app-1", "usage[hits]": "1" }, { ...bad, "usage[hits]": "1" }])).status, 202);
            }
            assert.strictEqual(fake.usage("app-1", "month"), 0);
            assert.strictEqual(fake.reported.size, 0);
            assert.deepStrictEqual(fake.errors.map((e) => e.code), ["authentication_error", "user_key_invalid", "application_not_found"]);
            assert.strictEqual(fake.errors[1].message, 'user key "inyourface" is invalid');
        });

        it("counts usage of suspended applications and over the limit (L390-422)", async () => {
            fake.app("app-1").state = "suspended";
            fake.serviceState = "suspended";
            fake.addApp({ id: "app-m", userKey: "user_key_m", plan: "Basic", limits: { month: 2 }, hits: 2 });
            assert.strictEqual((await report([{ app_id: "app-1", "usage[hits]": "1" }, { app_id: "app-m", "usage[hits]": "1" }])).status, 202);
            assert.strictEqual(fake.usage("app-1", "month"), 1);
            assert.strictEqual(fake.usage("app-m", "month"), 3);
        });

        it("refuses timestamps over 86400 s old or 3600 s ahead, for the whole POST; the bounds pass (L810-912)", async () => {
            const secs = (ms: number) => String(Math.floor(ms / 1000));
            await report([{ app_id: "app-1", "usage[hits]": "1", timestamp: secs(NOW - 86_400_000) }, { app_id: "app-1", "usage[hits]": "1", timestamp: secs(NOW + 3_600_000) }]);
            assert.strictEqual(fake.usage("app-1", "eternity"), 2);
            await report([{ app_id: "app-1", "usage[hits]": "1" }, { app_id: "app-1", "usage[hits]": "2", timestamp: secs(NOW - 86_401_000) }]);
            await report([{ app_id: "app-1", "usage[hits]": "4", timestamp: secs(NOW + 3_601_000) }]);
            assert.strictEqual(fake.usage("app-1", "eternity"), 2);
            assert.deepStrictEqual(fake.errors.map((e) => [e.code, e.message]), [
                ["transaction_timestamp_too_new", "reporting transactions more than 3600 seconds in the future is not allowed"],
                ["transaction_timestamp_too_old", "reporting transactions older than 86400 seconds is not allowed"],
            ]);
        });

        it("puts hits in the period of their timestamp; a blank or bogus timestamp means now (L107-189, L643-739)", async () => {
            await report([
                { app_id: "app-1", "usage[hits]": "1", timestamp: "2010-05-14 23:59:30" },
                { app_id: "app-1", "usage[hits]": "2", timestamp: "2010-05-15 01:30:00 +0200" },
                { app_id: "app-1", "usage[hits]": "4", timestamp: "2012garbage2012" },
                { app_id: "app-1", "usage[hits]": "8", timestamp: "" },
            ]);
            assert.strictEqual(fake.usage("app-1", "day", Date.UTC(2010, 4, 14, 12)), 3, "23:59:30 UTC and 01:30 +0200 are the 14th");
            assert.strictEqual(fake.usage("app-1", "day"), 12);
            assert.strictEqual(parseReportTimestamp("1271980765", NOW), 1271980765000);
            assert.strictEqual(parseReportTimestamp("2010-04-22 21:00:25 -02:00", NOW), Date.UTC(2010, 3, 22, 23, 0, 25));
            assert.strictEqual(parseReportTimestamp("2012/10/01", NOW), Date.UTC(2012, 9, 1));
        });

        it("refuses our own credentials and a blank batch synchronously (L191-199, L933-939, L1056-1072; listener.rb L208-211)", async () => {
            const bad = await report([{ app_id: "app-1", "usage[hits]": "1" }], { service_token: "TOK", service_id: fake.serviceId });
            assert.strictEqual(bad.status, 403);
            assert.match(bad.body, /<error code="service_token_invalid">/);
            const blank = await report([]);
            assert.strictEqual(blank.status, 400);
            assert.strictEqual(blank.body, error("transactions_is_blank", "transactions parameter is blank"));
            assert.strictEqual(fake.usage("app-1", "day"), 0);
        });
    });

    describe("limit_headers extension (test/integration/authorize/limit_headers_test.rb, authrep/limit_headers_test.rb; transactor/limit_headers.rb, usage_report.rb)", () => {
        const limitHeaders = (r: Reply): (string | null)[] =>
            ["3scale-limit-remaining", "3scale-limit-reset", "3scale-limit-max-value"].map((h) => r.headers.get(h));

        it("authorize: identical calls left, seconds to the end of the most constrained period (the longer one on a tie), its max (L23-66)", async () => {
            fake.addApp({ id: "app-h", userKey: "user_key_h", plan: "Basic", limits: { day: 100, hour: 100 } });
            const r = await authorize({ user_key: "user_key_h", "usage[hits]": "10" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(r), ["10", String(12 * 3600), "100"]);
        });

        it("authrep: its own usage is taken first (authrep/limit_headers_test.rb L26-66)", async () => {
            fake.addApp({ id: "app-h", userKey: "user_key_h", plan: "Basic", limits: { day: 100, hour: 100 } });
            const r = await authrep({ user_key: "user_key_h", "usage[hits]": "10" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(r), ["9", String(12 * 3600), "100"]);
        });

        it("rate-limited: 0 left, the exceeded period's reset and max (L68-99)", async () => {
            clock = Date.UTC(2018, 0, 1, 22, 59, 59);
            fake.addApp({ id: "app-h", userKey: "user_key_h", plan: "Basic", limits: { day: 100, hour: 10 } });
            const r = await authorize({ user_key: "user_key_h", "usage[hits]": "11" }, "limit_headers=1");
            assert.strictEqual(r.status, 409);
            assert.deepStrictEqual(limitHeaders(r), ["0", "1", "10"]);
        });

        it("0 left when over the limit, also without usage (L101-130)", async () => {
            fake.addApp({ id: "app-o", userKey: "user_key_o", plan: "Basic", limits: { day: 100 }, hits: 101 });
            const r = await authorize({ user_key: "user_key_o" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(r), ["0", String(12 * 3600), "100"]);
        });

        it("negative remaining and reset, no max, without limits or without usage (L216-226; usage_report.rb remaining_same_calls)", async () => {
            const none = await authorize({ user_key: "user_key_2", "usage[hits]": "10" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(none), ["-1", "-1", null]);
            const noUsage = await authorize({ user_key: "user_key_1" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(noUsage), ["-1", "-1", null]);
        });

        it("a negative reset for eternity (L228-246)", async () => {
            fake.addApp({ id: "app-e", userKey: "user_key_e", plan: "Forever", limits: { eternity: 100 } });
            const r = await authorize({ user_key: "user_key_e", "usage[hits]": "2" }, "limit_headers=1");
            assert.deepStrictEqual(limitHeaders(r), ["50", "-1", "100"]);
        });

        it("none on a refusal other than limits exceeded, on an <error>, or when not asked (L248-292)", async () => {
            await fake.close();
            await start("2");
            const badKey = await authorize({ app_id: "app-keys", app_key: "nope", "usage[hits]": "1" }, "limit_headers=1");
            assert.strictEqual(badKey.status, 409);
            assert.deepStrictEqual(limitHeaders(badKey), [null, null, null]);
            const metric = await authorize({ app_id: "app-1", "usage[nope]": "1" }, "limit_headers=1");
            assert.strictEqual(metric.status, 404);
            assert.deepStrictEqual(limitHeaders(metric), [null, null, null]);
            assert.deepStrictEqual(limitHeaders(await authorize({ app_id: "app-1", "usage[hits]": "1" })), [null, null, null]);
        });
    });

    describe("transactions.xml requests that apisonator refuses whole, before any job (listener.rb, errors.rb, rack/exception_catcher.rb)", () => {
        const post = async (body: string, contentType = "application/x-www-form-urlencoded"): Promise<Reply> => {
            const res = await fetch(`${fake.url}/transactions.xml`, { method: "POST", headers: { "content-type": contentType }, body });
            return { status: res.status, body: await res.text(), headers: res.headers };
        };
        const creds = (): string => new URLSearchParams(credentials()).toString();
        const good = "transactions%5B0%5D%5Bapp_id%5D=app-1&transactions%5B0%5D%5Busage%5D%5Bhits%5D=1";
        const bad = (code: string, message: string): string => error(code, message);

        it("400 content_type_invalid for a body that is not a form (errors.rb ContentTypeInvalid; listener.rb check_post_content_type!)", async () => {
            const r = await post(`${creds()}&${good}`, "text/plain");
            assert.strictEqual(r.status, 400);
            assert.strictEqual(r.body, bad("content_type_invalid", "invalid Content-Type: text/plain"));
        });

        it("400 bad_request for a broken %-encoding (test/integration/listener_test.rb L40-54)", async () => {
            const r = await post(`${creds()}&${good}&testparam=value1%`);
            assert.strictEqual(r.status, 400);
            assert.strictEqual(r.body, bad("bad_request", "Invalid query parameters: invalid %-encoding"));
        });

        it("403 for missing credentials comes before an invalid encoding (report_test.rb L941-945)", async () => {
            const r = await post("transactions=%F0%90%28%BC");
            assert.strictEqual(r.status, 403);
            assert.strictEqual(r.body, bad("provider_key_or_service_token_required", "Provider key or service token are required"));
        });

        it("422 not_valid_data for bytes that are not UTF-8 anywhere in the transactions (report_test.rb L947-1012)", async () => {
            for (const body of ["transactions%5B0%5D%5Bapp_id%5D=%F0%90%28%BC", "transactions=%F0%90%28%BC",
                "transactions%5B0%5D%5Bapp_id%5D=app-1&transactions%5B0%5D%5Busage%5D%5Bhits%5D=%F0%90%28%BC"]) {
                const r = await post(`${creds()}&${body}`);
                assert.strictEqual(r.status, 422, body);
                assert.strictEqual(r.body, bad("not_valid_data", "all data must be valid UTF8"));
            }
            assert.strictEqual(fake.usage("app-1", "day"), 0);
        });

        it("400 transactions_format_invalid when transactions is not a hash (report_test.rb L965-974)", async () => {
            const r = await post(`${creds()}&transactions=i_am_a_string_with_valid_encoding`);
            assert.strictEqual(r.status, 400);
            assert.strictEqual(r.body, bad("transactions_format_invalid", "transactions format is invalid"));
        });

        it("400 transactions_has_nil_transaction when one transaction is nil (report_test.rb L914-926)", async () => {
            const r = await post(`${creds()}&${good}&transactions%5B1%5D`);
            assert.strictEqual(r.status, 400);
            assert.strictEqual(r.body, bad("transactions_has_nil_transaction", "transactions has a nil transaction"));
            assert.strictEqual(fake.usage("app-1", "day"), 0, "nothing of the POST is counted");
        });

        it("a transaction apisonator cannot read refuses the whole POST with its reply (the reporter's client cannot send such bytes; tests name one)", async () => {
            fake.unreadableTransactions.set("app-2", "not_valid_data");
            const r = await report([{ app_id: "app-1", "usage[hits]": "1" }, { app_id: "app-2", "usage[hits]": "1" }]);
            assert.strictEqual(r.status, 422);
            assert.strictEqual(r.body, bad("not_valid_data", "all data must be valid UTF8"));
            assert.strictEqual((await report([{ app_id: "app-1", "usage[hits]": "1" }])).status, 202);
            assert.deepStrictEqual([...fake.reported], [["app-1", 1]]);
        });
    });

    describe("the service's error storage (error_storage.rb; app/api/internal/errors.rb; rack.rb)", () => {
        it("is read only through the internal API with its own basic-auth credentials, never with the service token", async () => {
            await report([{ app_id: "boo", "usage[hits]": "1" }]);
            const path = `${fake.url}/internal/services/${fake.serviceId}/errors/`;
            const anonymous = await fetch(path);
            assert.strictEqual(anonymous.status, 401);
            const withToken = await fetch(`${path}?service_token=${fake.serviceToken}`, { headers: { authorization: `Basic ${Buffer.from(`${fake.serviceId}:${fake.serviceToken}`).toString("base64")}` } });
            assert.strictEqual(withToken.status, 401);
            const internal = await fetch(path, { headers: { authorization: `Basic ${Buffer.from(`${fake.internalApi.user}:${fake.internalApi.password}`).toString("base64")}` } });
            assert.strictEqual(internal.status, 200);
            const listed = await internal.json() as { status: string; count: number; errors: { code: string; message: string }[] };
            assert.deepStrictEqual([listed.status, listed.count, listed.errors.map((e) => e.code)], ["found", 1, ["application_not_found"]]);
        });
    });

    describe("porta's Analytics API: an application's usage (app/controllers/stats/data/*, app/lib/stats/views/usage.rb, test/integration/stats/authentication_test.rb)", () => {
        const usage = (appId: string, params: Record<string, string>, token?: string) =>
            fetch(`${fake.url}/stats/applications/${appId}/usage.json?${new URLSearchParams({ ...(token === undefined ? {} : { access_token: token }), ...params }).toString()}`);

        it("Application Find names porta's id of an application: by user_key on a backend_version 1 service, by app_id on others (admin/api/applications_controller.rb#find)", async () => {
            const find = async (params: Record<string, string>) => fetch(`${fake.url}/admin/api/applications/find.json?${new URLSearchParams({ access_token: fake.accessToken, ...params }).toString()}`);
            const byKey = await find({ user_key: "user_key_2" });
            assert.strictEqual(byKey.status, 200);
            const app = (await byKey.json() as { application: { id: number; application_id: string } }).application;
            assert.deepStrictEqual([app.id, app.application_id], [fake.app("app-2").portaId, "app-2"]);
            assert.strictEqual((await find({ app_id: "app-2" })).status, 404, "app_id finds nothing on a user_key service");
        });

        it("hits per hour between since and until, with their total, for an access token with the stats scope", async () => {
            await report([{ app_id: "app-2", "usage[hits]": "3", timestamp: "2010-05-15 10:15:00" }, { app_id: "app-2", "usage[hits]": "4", timestamp: "2010-05-15 11:59:00" }]);
            const r = await usage(String(fake.app("app-2").portaId), { metric_name: "hits", granularity: "hour", since: "2010-05-15 10:00:00", until: "2010-05-15 11:59:59", timezone: "UTC", skip_change: "true" }, fake.accessToken);
            assert.strictEqual(r.status, 200);
            assert.match(String(r.headers.get("content-type")), /^application\/json/);
            const body = await r.json() as { total: number; values: number[]; metric: { system_name: string }; application: { application_id: string } };
            assert.deepStrictEqual([body.total, body.values, body.metric.system_name, body.application.application_id], [7, [3, 4], "hits", "app-2"]);
        });

        it("403 {\"status\":\"Forbidden\"} without a valid token (authentication_test.rb L23-30); 404 for an unknown application", async () => {
            for (const token of [undefined, "wrong", fake.serviceToken]) {
                const r = await usage(String(fake.app("app-2").portaId), { metric_name: "hits", granularity: "hour", since: "2010-05-15 10:00:00", until: "2010-05-15 11:00:00" }, token);
                assert.strictEqual(r.status, 403, String(token));
                assert.deepStrictEqual(await r.json(), { status: "Forbidden" });
            }
            const unknown = await usage("nope", { metric_name: "hits", granularity: "hour", since: "2010-05-15 10:00:00", until: "2010-05-15 11:00:00" }, fake.accessToken);
            assert.strictEqual(unknown.status, 404);
        });
    });

    describe("faults for the fault benchmark", () => {
        it("a late report is counted at once and answered after lateMs; a 5xx report counts nothing", async () => {
            fake.lateMs = 400;
            fake.reportFaults = ["late", "5xx"];
            const started = Date.now();
            const late = report([{ app_id: "app-1", "usage[hits]": "2" }]);
            await new Promise((r) => setTimeout(r, 100));
            assert.strictEqual(fake.usage("app-1", "day"), 2, "counted before the reply");
            assert.strictEqual((await late).status, 202);
            assert.ok(Date.now() - started >= 400);
            assert.ok((await report([{ app_id: "app-1", "usage[hits]": "5" }])).status >= 500);
            assert.strictEqual(fake.usage("app-1", "day"), 2);
        });

        it("a report that never answers is counted (\"never\") or not (\"lost\"); either way the client gets no reply", async () => {
            fake.reportFaults = ["never", "lost"];
            for (const hits of ["3", "4"]) {
                const body = new URLSearchParams({ ...credentials(), "transactions[0][app_id]": "app-1", "transactions[0][usage][hits]": hits });
                await assert.rejects(fetch(`${fake.url}/transactions.xml`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, signal: AbortSignal.timeout(300) }),
                    (e: Error) => e.name === "TimeoutError");
            }
            assert.strictEqual(fake.usage("app-1", "day"), 3, "the first was counted, the second never reached the job");
        });
    });
});
