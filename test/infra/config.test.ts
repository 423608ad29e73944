import * as assert from "assert";
import * as path from "path";
import { ConfigError, KNOWN_KEYS, SlotConfig, readLivePointerConfig, readLivePointerCommandConfig, readRingCommandConfig, readSlotConfig } from "../../config";
import { loadStackConfig } from "../../stack-config";
import { mapSource } from "./harness";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const TOKEN = "s3rvice-token-0123456789";
const AUTH = "redis-auth-token-0123456789";

/** The smallest valid config of the primary (red) and of a secondary (black). */
function primary(extra: Record<string, string> = {}): Record<string, string> {
    return {
        "gateway:hosts": JSON.stringify({ edxapp_host: "courses.example.edu", discovery_host: "discovery.example.edu" }),
        "threescale:serviceId": "2555417777820",
        "threescale:serviceToken": TOKEN,
        "cache:authToken": AUTH,
        ...extra,
    };
}
function secondary(extra: Record<string, string> = {}): Record<string, string> {
    const { "cache:authToken": _auth, ...rest } = primary();
    return { ...rest, ...extra };
}
const SECRETS = ["threescale:serviceToken", "cache:authToken"];

function read(stack: string, values: Record<string, string>, secrets = SECRETS): SlotConfig {
    return readSlotConfig(mapSource(stack, values, secrets));
}

function problemsOf(stack: string, values: Record<string, string>, secrets = SECRETS): ConfigError {
    try {
        read(stack, values, secrets);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e;
    }
    throw new Error("expected the config to be rejected");
}

describe("config: every stack config of the project", () => {
    for (const stack of ["red", "black"]) {
        it(`Pulumi.${stack}.yaml validates and carries its stage limits and hosts`, () => {
            const file = loadStackConfig(PROJECT, stack);
            const config = readSlotConfig(mapSource(stack, file.values, file.secretKeys));
            assert.strictEqual(config.slot, stack);
            assert.strictEqual(config.isPrimary, stack === "red");
            assert.deepStrictEqual(config.ring.order, ["red", "black"]);
            assert.strictEqual(config.gateway.rateLimit, Number(file.values["gateway:rateLimit"]));
            assert.strictEqual(config.gateway.burstLimit, Number(file.values["gateway:burstLimit"]));
            assert.strictEqual(config.gateway.logLevel, file.values["gateway:logLevel"]);
            assert.deepStrictEqual(config.gateway.hosts, JSON.parse(file.values["gateway:hosts"]));
        });
    }
});

describe("config: defaults", () => {
    it("gives the seed's stage settings and a strict authorizer with the result cache off", () => {
        const c = read("red", primary());
        assert.deepStrictEqual(
            [c.gateway.logLevel, c.gateway.metrics, c.gateway.caching, c.gateway.rateLimit, c.gateway.burstLimit],
            ["OFF", false, false, 500, 1000]);
        assert.strictEqual(c.gateway.specPath, "api/openapi.yaml");
        assert.deepStrictEqual(c.ring.order, ["red", "black"]);
        assert.strictEqual(c.ring.primary, "red");
        assert.strictEqual(c.ring.allowLiveUpdate, false);
        assert.strictEqual(c.threescale.backendUrl, "https://su1.3scale.net");
        assert.strictEqual(c.authorizer.failureMode, "strict");
        assert.strictEqual(c.authorizer.resultTtlSeconds, 0);
        assert.deepStrictEqual(c.authorizer.credentials, { kind: "user_key", location: "header", name: "X-Api-Key", appIdName: "app_id", appKeyName: "app_key" },
            "DESIGN's default: Authorization is the backends' own header (an Open edX JWT)");
        assert.strictEqual(c.authorizer.jwt, undefined);
        assert.strictEqual(c.cache?.nodes, 2);
        assert.deepStrictEqual(c.gateway.binaryMediaTypes, ["multipart/form-data"], "the seed's deploy script always set it");
        assert.deepStrictEqual([c.gateway.publicRoutes, c.gateway.specMirrors, c.gateway.stageVariables], [[], {}, {}]);
    });

    it("reads the keys that serve an upstream document: mirrors, public routes, other stage variables, binary types", () => {
        const c = read("red", primary({
            "gateway:specMirrors": JSON.stringify({ "https://raw.githubusercontent.com/": "vendor/raw.githubusercontent.com/" }),
            "gateway:publicRoutes": JSON.stringify(["GET /", "ANY /registrar/login"]),
            "gateway:stageVariables": JSON.stringify({ landing_page: "https://www.example.edu/api-docs" }),
            "gateway:binaryMediaTypes": JSON.stringify(["multipart/form-data", "image/*"]),
        }));
        assert.deepStrictEqual(c.gateway.specMirrors, { "https://raw.githubusercontent.com/": "vendor/raw.githubusercontent.com/" });
        assert.deepStrictEqual(c.gateway.publicRoutes, ["GET /", "ANY /registrar/login"]);
        assert.deepStrictEqual(c.gateway.stageVariables, { landing_page: "https://www.example.edu/api-docs" });
        assert.deepStrictEqual(c.gateway.binaryMediaTypes, ["multipart/form-data", "image/*"]);
    });

    it("gives alarm thresholds that judge a busy slot and stay quiet on an idle one", () => {
        assert.deepStrictEqual(read("black", secondary()).alarms, {
            serverErrorRate: 0.05, latencyP99Ms: 3000, authorizerErrors: 1, authorizerThrottles: 1, deadLetterMessages: 1,
            minRequests: 20, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, actionsTopicArn: undefined,
        });
    });

    it("gives a ten-minute bake and no authorized probe", () => {
        const c = readRingCommandConfig(mapSource("red", primary(), SECRETS));
        assert.deepStrictEqual(c.procedure, { bakeMinutes: 10, smokeTest: undefined, smokeTestKey: undefined });
        // It was "Authorization" while the program defaulted to X-Api-Key: the probe now reads the program's own setting.
        assert.deepStrictEqual(c.credentials, read("red", primary()).authorizer.credentials);
        assert.strictEqual(c.credentials.name, "X-Api-Key");
    });

    it("accepts any number of slots, and a later slot as primary", () => {
        const c = read("blue", secondary({ "ring:order": '["red","black","blue"]' }));
        assert.strictEqual(c.isPrimary, false);
        const p = read("blue", primary({ "ring:order": '["red","black","blue"]', "ring:primary": "blue" }));
        assert.strictEqual(p.isPrimary, true);
    });

    it("keeps secrets as Pulumi secrets", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const c = read("red", primary());
        assert.ok(await pulumi.isSecret(c.threescale.serviceToken));
        assert.ok(c.cache && await pulumi.isSecret(c.cache.authToken));
    });
});

describe("config: every bad key gives an error naming the key, the value and what was expected", () => {
    const cases: [string, string, RegExp][] = [
        ["gateway:logLevel", "LOUD", /one of OFF, ERROR, INFO/],
        ["gateway:metrics", "yes", /true or false/],
        ["gateway:caching", "1", /true or false/],
        ["gateway:cacheClusterSize", "2", /one of 0\.5, 1\.6/],
        ["gateway:rateLimit", "-5", /a number from 1 to 10000/],
        ["gateway:rateLimit", "fast", /a number from 1 to 10000/],
        ["gateway:burstLimit", "1.5", /a whole number from 1 to 5000/],
        ["gateway:hosts", "courses.example.edu", /a map of stage variable names to host names/],
        ["gateway:hosts", '{"edxapp host":"a.example.edu"}', /stage variable name of letters, digits and _/],
        ["gateway:hosts", '{"id":"a.example.edu"}', /the stage variable `id` is the release id/],
        ["gateway:hosts", '{"edxapp_host":"a example"}', /a host name, optionally with :port/],
        ["gateway:spec", "api/openapi.txt", /\.yaml, \.yml or \.json/],
        ["gateway:specMirrors", '["vendor/"]', /map of URL prefixes to local folders/],
        ["gateway:specMirrors", '{"https://raw.githubusercontent.com/edx":"vendor/"}', /URL prefix ending with \//],
        ["gateway:specMirrors", '{"ftp://example.org/":"vendor/"}', /http\(s\) URL prefix/],
        ["gateway:publicRoutes", '"GET /"', /list of operations/],
        ["gateway:publicRoutes", '["/heartbeat"]', /METHOD \/path/],
        ["gateway:publicRoutes", '["FETCH /heartbeat"]', /METHOD \/path/],
        ["gateway:stageVariables", '{"landing page":"https://a.example.edu"}', /stage variable name/],
        ["gateway:stageVariables", '{"landing_page":"https://a.example.edu/<x>"}', /characters API Gateway allows in stage variables/],
        ["gateway:stageVariables", '{"id":"x"}', /the stage variable `id` is the release id/],
        ["gateway:stageVariables", '{"edxapp_host":"courses.example.edu"}', /which gateway:hosts already sets/],
        ["gateway:binaryMediaTypes", '"multipart/form-data"', /list of media types/],
        ["gateway:binaryMediaTypes", '["form data"]', /media type such as multipart\/form-data/],
        ["gateway:releaseId", "release one!", /release tag/],
        ["ring:order", "[]", /non-empty list of distinct stack names/],
        ["ring:order", '["red","red","black"]', /non-empty list of distinct stack names/],
        ["ring:order", "red", /non-empty list of slot/],
        ["ring:primary", "blue", /a slot of ring:order \(red, black\)/],
        ["ring:allowLiveUpdate", "maybe", /true or false/],
        ["threescale:serviceId", "two words", /3scale service id/],
        ["threescale:backendUrl", "http://su1.3scale.net", /https:\/\/ URL/],
        ["threescale:timeoutMs", "50", /from 100 to 10000/],
        ["cache:engine", "memcached", /one of redis, valkey/],
        ["cache:engineVersion", "latest", /one of 4\.0\.10, .*7\.1 for engine redis/],
        ["cache:nodeType", "t2.micro", /ElastiCache node type/],
        ["cache:nodes", "9", /from 1 to 6/],
        ["network:cidrBlock", "10.0.0.0/8", /an IPv4 network address from \/16 to \/24/],
        ["network:availabilityZones", "5", /from 2 to 3/],
        ["authorizer:identityHeader", "Bad Header", /HTTP header name/],
        ["authorizer:tokenPattern", "([a-z", /regular expression/],
        ["authorizer:cacheTtlSeconds", "0", /from 1 to 86400/],
        ["authorizer:negativeTtlSeconds", "0", /from 1 to 3600/],
        ["authorizer:staleTtlSeconds", "60", /at least authorizer:cacheTtlSeconds \(300\)/],
        ["authorizer:failureMode", "yolo", /one of strict, resilient, allow/],
        ["authorizer:planRoutes", '["discovery/*"]', /map of 3scale plan name to a list of route patterns/],
        ["authorizer:planRoutes", '{"Basic":["/discovery/*"]}', /a route pattern/],
        ["authorizer:planRoutes", '{"Basic":["FETCH discovery/*"]}', /a route pattern/],
        ["authorizer:defaultRoutes", '"discovery/*"', /a list of route patterns/],
        ["authorizer:reportingWindowSeconds", "-1", /from 0 to 3600/],
        ["authorizer:resultTtlSeconds", "7200", /from 0 to 3600/],
        ["authorizer:redisTimeoutMs", "1", /from 10 to 5000/],
        ["authorizer:flushSchedule", "every minute", /EventBridge schedule expression/],
        ["ring:bakeMinutes", "-1", /a number from 0 to 180/],
        ["ring:bakeMinutes", "a day", /a number from 0 to 180/],
        ["ring:smokeTest", "discovery/v1/catalogs", /GET or HEAD, a path starting with \//],
        ["ring:smokeTest", "DELETE /discovery/v1/catalogs", /GET or HEAD/],
        ["ring:live", "red", /is now the state of the live pointer's stack .*`npm run ring -- migrate`/],
        ["ring:previousLive", "black", /is now the state of the live pointer's stack/],
        ["ring:history", "[]", /is now the state of the live pointer's stack/],
        ["ring:historyLimit", "20", /is now the config of the live pointer's stack \(live\/Pulumi\.live\.yaml\)/],
        ["domain:name", "api.example.edu", /the custom domain belongs to the live pointer's stack .*`npm run ring -- migrate`/],
        ["domain:basePath", "v1", /the custom domain belongs to the live pointer's stack/],
        ["alarms:serverErrorRate", "5", /a number from 0.001 to 1/],
        ["alarms:latencyP99Ms", "30000", /a whole number from 10 to 29000/],
        ["alarms:authorizerErrors", "0", /a whole number from 1 to 100000/],
        ["alarms:authorizerThrottles", "many", /a whole number from 1 to 100000/],
        ["alarms:deadLetterMessages", "0.5", /a whole number from 1 to 100000/],
        ["alarms:minRequests", "-1", /a whole number from 0 to 1000000/],
        ["alarms:periodSeconds", "30", /a whole number from 60 to 3600/],
        ["alarms:periodSeconds", "90", /a multiple of 60/],
        ["alarms:evaluationPeriods", "0", /a whole number from 1 to 60/],
        ["alarms:datapointsToAlarm", "4", /at most alarms:evaluationPeriods \(3\)/],
        ["alarms:actionsTopicArn", "ops-topic", /an SNS topic ARN/],
        ["alarms:threshold", "1", /one of the documented keys \(alarms:serverErrorRate/],
        ["gateway:hostz", "x", /one of the documented keys/],
        // Accepted silently before: hosts that are URLs or carry more than a host.
        ["gateway:hosts", '{"edxapp_host":"https://evil.example"}', /a host name, optionally with :port/],
        ["gateway:hosts", '{"edxapp_host":"evil.example/#"}', /a host name, optionally with :port/],
        ["gateway:hosts", '{"edxapp_host":"evil.example/path"}', /a host name, optionally with :port/],
        ["gateway:hosts", '{"edxapp_host":"evil.example?x=1"}', /a host name, optionally with :port/],
        ["gateway:hosts", '{"edxapp_host":"user:pass@evil.example"}', /a host name, optionally with :port/],
        ["gateway:hosts", '{"edxapp_host":"evil.example:99999"}', /a host name, optionally with :port/],
        // Numbers only in plain decimal.
        ["gateway:rateLimit", "0x10", /a number from 1 to 10000, written in decimal/],
        ["gateway:burstLimit", " 5 ", /a whole number from 1 to 5000, written in decimal/],
        ["threescale:timeoutMs", "", /a whole number from 100 to 10000, written in decimal/],
        ["authorizer:cacheTtlSeconds", "1e3", /written in decimal/],
        // Schedule expressions EventBridge refuses.
        ["authorizer:flushSchedule", "rate(0 minutes)", /a positive whole number/],
        ["authorizer:flushSchedule", "rate(5 minute)", /"minutes" for a value other than 1/],
        ["authorizer:flushSchedule", "rate(1 minutes)", /"minute" for a value of 1/],
        ["authorizer:flushSchedule", "rate(2 weeks)", /minute\(s\), hour\(s\) or day\(s\)/],
        ["authorizer:flushSchedule", "cron(nonsense)", /six fields/],
        ["authorizer:flushSchedule", "cron(0 12 * * * *)", /one of day-of-month and day-of-week must be \?/],
        ["authorizer:flushSchedule", "cron(61 * * * ? *)", /minutes field/],
        ["authorizer:flushSchedule", "cron(0/5 * ? * MON-FRY *)", /day-of-week field/],
        // CIDR blocks that are not network addresses.
        ["network:cidrBlock", "999.999.999.999/16", /an IPv4 network address/],
        ["network:cidrBlock", "10.40.0.1/16", /the network address 10\.40\.0\.0\/16/],
        // Engine versions ElastiCache does not have.
        ["cache:engineVersion", "7.9", /one of 4\.0\.10, 5\.0\.6, 6\.0, 6\.2, 7\.0, 7\.1 for engine redis/],
        ["cache:engineVersion", "8.0", /for engine redis/],
        // A backend URL with credentials, a path, a query or a fragment.
        ["threescale:backendUrl", "https://user:pass@su1.3scale.net", /no user name or password/],
        ["threescale:backendUrl", "https://su1.3scale.net/admin?x=1", /https:\/\/ URL/],
        // A token pattern that can backtrack catastrophically (ReDoS before any authentication).
        ["authorizer:tokenPattern", "^(a+)+$", /linear-time pattern.*exponential/],
        ["authorizer:tokenPattern", "^(\\w+\\s?)*$", /linear-time pattern/],
        ["authorizer:tokenPattern", "^a*a*b$", /linear-time pattern.*polynomial/],
    ];
    for (const [key, value, expected] of cases) {
        it(`${key} = ${value}`, () => {
            const e = problemsOf("red", primary({ [key]: value }));
            const problem = e.problems.find((p) => p.key === key || p.key.startsWith(`${key}.`));
            assert.ok(problem, `no problem reported for ${key}: ${e.message}`);
            assert.match(problem.expected, expected);
            assert.ok(e.message.includes(key), "the message names the key");
            assert.ok(!e.message.includes(TOKEN) && !e.message.includes(AUTH), "no secret in the message");
        });
    }

    it("reports every problem at once", () => {
        const e = problemsOf("red", primary({ "gateway:logLevel": "LOUD", "gateway:rateLimit": "0", "authorizer:failureMode": "yolo" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["authorizer:failureMode", "gateway:logLevel", "gateway:rateLimit"]);
        assert.match(e.message, /has 3 invalid config values/);
    });

    it("requires the hosts, the service id and both secrets on the primary", () => {
        const e = problemsOf("red", {}, []);
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(),
            ["cache:authToken", "gateway:hosts", "threescale:serviceId", "threescale:serviceToken"]);
        assert.match(e.message, /pulumi config set --secret threescale:serviceToken/);
    });

    it("refuses a secret set in plain text without echoing it", () => {
        const e = problemsOf("red", primary(), ["cache:authToken"]);
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["threescale:serviceToken"]);
        assert.match(e.problems[0].got, /plain-text value/);
        assert.ok(!e.message.includes(TOKEN));
    });

    it("refuses a malformed secret without echoing it", () => {
        const e = problemsOf("red", primary({ "cache:authToken": "short@" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["cache:authToken"]);
        assert.match(e.problems[0].got, /a secret of 6 characters/);
        assert.ok(!e.message.includes("short@"));
    });

    it("reads porta's URL and access token together, the token as a secret never echoed (issue 20 item 2)", async () => {
        const PORTA = "porta-access-token-0123456789";
        const c = read("red", primary({ "threescale:adminUrl": "https://acme-admin.3scale.net", "threescale:accessToken": PORTA }), [...SECRETS, "threescale:accessToken"]);
        assert.strictEqual(c.threescale.porta?.adminUrl, "https://acme-admin.3scale.net");
        assert.strictEqual(await new Promise((r) => c.threescale.porta?.accessToken.apply(r)), PORTA);
        assert.strictEqual(read("red", primary()).threescale.porta, undefined, "neither: no porta");
        let e = problemsOf("red", primary({ "threescale:adminUrl": "https://acme-admin.3scale.net", "threescale:accessToken": PORTA }));
        assert.deepStrictEqual(e.problems.map((p) => [p.key, p.got]), [["threescale:accessToken", "a plain-text value"]]);
        assert.ok(!e.message.includes(PORTA), "the token is never echoed");
        e = problemsOf("red", primary({ "threescale:adminUrl": "https://acme-admin.3scale.net" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["threescale:accessToken"]);
        assert.match(e.message, /pulumi config set --secret threescale:accessToken/);
        e = problemsOf("red", primary({ "threescale:accessToken": PORTA }), [...SECRETS, "threescale:accessToken"]);
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["threescale:adminUrl"]);
        for (const [url, expected] of [["http://acme-admin.3scale.net", /an https:\/\/ URL of the 3scale admin portal/], ["https://me:pw@acme-admin.3scale.net", /no user name or password \(the access token is threescale:accessToken/],
            ["https://acme-admin.3scale.net/admin", /with no path/]] as const) {
            e = problemsOf("red", primary({ "threescale:adminUrl": url, "threescale:accessToken": PORTA }), [...SECRETS, "threescale:accessToken"]);
            assert.deepStrictEqual(e.problems.map((p) => p.key), ["threescale:adminUrl"], url);
            assert.match(e.problems[0].expected, expected);
        }
        e = problemsOf("red", primary({ "threescale:adminUrl": "https://acme-admin.3scale.net", "threescale:accessToken": "short" }), [...SECRETS, "threescale:accessToken"]);
        assert.deepStrictEqual(e.problems.map((p) => [p.key, p.got]), [["threescale:accessToken", "a secret of 5 characters"]]);
    });

    it("wants the smoke test's key as a secret, and the key and the request together", () => {
        let e = problemsOf("red", primary({ "ring:smokeTest": "GET /discovery/v1/catalogs", "ring:smokeTestKey": "test-key-0123456789abcdef" }));
        assert.deepStrictEqual(e.problems.map((p) => [p.key, p.got]), [["ring:smokeTestKey", "a plain-text value"]]);
        assert.ok(!e.message.includes("test-key-0123456789abcdef"), "the key is never echoed");
        e = problemsOf("red", primary({ "ring:smokeTest": "/discovery/v1/catalogs" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["ring:smokeTestKey"]);
        assert.match(e.message, /pulumi config set --secret ring:smokeTestKey/);
        e = problemsOf("red", primary({ "ring:smokeTestKey": "test-key-0123456789abcdef" }), [...SECRETS, "ring:smokeTestKey"]);
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["ring:smokeTest"]);
        const c = readRingCommandConfig(mapSource("red", primary({ "ring:smokeTest": "/discovery/v1/catalogs?page=1", "ring:smokeTestKey": "test-key-0123456789abcdef" }),
            [...SECRETS, "ring:smokeTestKey"]));
        assert.deepStrictEqual(c.procedure.smokeTest, { method: "GET", path: "/discovery/v1/catalogs?page=1" });
        assert.strictEqual(c.procedure.smokeTestKey, "test-key-0123456789abcdef");
    });

    it("refuses a burst below the rate", () => {
        const e = problemsOf("red", primary({ "gateway:rateLimit": "800", "gateway:burstLimit": "400" }));
        assert.match(e.problems[0].expected, /no smaller than gateway:rateLimit \(800\)/);
    });

    it("refuses a stack that is not a slot of the ring, naming the fix", () => {
        const e = problemsOf("blue", secondary());
        assert.match(e.message, /ring:order: .*contains this stack "blue" \(add it to ring:order in Pulumi.yaml/);
    });

    it("refuses the smoke-test key on a secondary slot: the ring commands read it from the primary", () => {
        const e = problemsOf("black", secondary({ "ring:smokeTest": "/heartbeat", "ring:smokeTestKey": "test-key-0123456789abcdef" }),
            [...SECRETS, "ring:smokeTestKey"]);
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["ring:smokeTestKey"]);
        assert.match(e.message, /read ring:smokeTestKey from the primary "red" only/);
    });

    it("refuses what is live, the history and the domain on every slot, naming where they went and the command that moves them", () => {
        for (const stack of ["red", "black"]) {
            const values = stack === "red" ? primary : secondary;
            const e = problemsOf(stack, values({ "ring:live": "red", "ring:previousLive": "black", "ring:history": "[]", "ring:historyLimit": "20", "domain:name": "api.example.edu" }));
            assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["domain:name", "ring:history", "ring:historyLimit", "ring:live", "ring:previousLive"]);
            assert.match(e.message, /ring:live: got "red"; expected no value on "\w+": ring:live is now the state of the live pointer's stack \(the project in live\/\), changed by the ring commands/);
            assert.match(e.message, /npm run ring -- migrate/);
        }
    });

    it("accepts routes with a method, as the authorizer grants them", () => {
        const c = read("red", primary({ "authorizer:planRoutes": '{"Enterprise":["discovery/*","GET enterprise/v1/*"],"All":["*"],"None":[]}' }));
        assert.deepStrictEqual(c.authorizer.planRoutes.Enterprise, ["discovery/*", "GET enterprise/v1/*"]);
    });

    it("accepts the schedules, versions and hosts EventBridge, ElastiCache and API Gateway accept", () => {
        for (const schedule of ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
            "cron(0/5 * * * ? *)", "cron(15 10 ? * MON-FRI *)", "cron(0 18 L * ? *)", "cron(0 8 ? * 2#1 2026-2030)", "cron(0 0 1 JAN,JUL ? *)"]) {
            assert.strictEqual(read("red", primary({ "authorizer:flushSchedule": schedule })).authorizer.flushSchedule, schedule);
        }
        assert.strictEqual(read("red", primary({ "cache:engine": "valkey", "cache:engineVersion": "8.0" })).cache?.engineVersion, "8.0");
        assert.strictEqual(read("red", primary({ "cache:engineVersion": "6.2" })).cache?.engineVersion, "6.2");
        assert.strictEqual(read("red", primary({ "network:cidrBlock": "10.40.128.0/17" })).network?.cidrBlock, "10.40.128.0/17");
        const hosts = { edxapp_host: "courses.example.edu:8443", discovery_host: "Discovery.Example.edu" };
        assert.deepStrictEqual(read("red", primary({ "gateway:hosts": JSON.stringify(hosts) })).gateway.hosts, hosts);
        assert.strictEqual(read("red", primary({ "gateway:rateLimit": "12.5" })).gateway.rateLimit, 12.5);
        assert.strictEqual(read("red", primary({ "authorizer:tokenPattern": "^[A-Za-z0-9._~+/-]{16,512}=*$" })).authorizer.tokenPattern, "^[A-Za-z0-9._~+/-]{16,512}=*$");
    });

    it("refuses an engine version of the other engine, naming both", () => {
        const e = problemsOf("red", primary({ "cache:engine": "valkey", "cache:engineVersion": "7.1" }));
        assert.match(e.problems[0].expected, /for engine valkey/);
    });

    it("names the project's namespace a typo was meant for", () => {
        const e = problemsOf("red", primary({ "authoriser:failureMode": "allow", "gatway:rateLimit": "5", "aws:region": "eu-west-1" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["authoriser:failureMode", "gatway:rateLimit"]);
        assert.match(e.problems.find((p) => p.key === "authoriser:failureMode")?.expected ?? "", /authorizer:failureMode/);
        assert.match(e.problems.find((p) => p.key === "gatway:rateLimit")?.expected ?? "", /gateway:rateLimit/);
    });

    it("refuses every network and cache key on a slot that is not the primary", () => {
        const e = problemsOf("black", secondary({ "network:availabilityZones": "3", "cache:nodeType": "cache.t4g.small" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["cache:nodeType", "network:availabilityZones"]);
        assert.match(e.message, /belongs to the primary slot "red"/);
    });

    it("refuses plan routes that push the Lambda environment over AWS's 4 KB, naming the sizes", () => {
        const planRoutes = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`Plan${i}`, [`discovery/v1/catalogs/${i}/*`, `GET enterprise/v1/${i}/*`]]));
        const e = problemsOf("red", primary({ "authorizer:planRoutes": JSON.stringify(planRoutes) }));
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["authorizer:planRoutes"]);
        assert.match(e.problems[0].got, /a Lambda environment of \d{4} bytes \(authorizer:planRoutes \d{4}/);
        assert.match(e.problems[0].expected, /at most 4096 bytes/);
        const fits = Object.fromEntries(Object.entries(planRoutes).slice(0, 20));
        assert.deepStrictEqual(read("red", primary({ "authorizer:planRoutes": JSON.stringify(fits) })).authorizer.planRoutes, fits);
    });

    it("reads the credential kinds and locations with APIcast's defaults", () => {
        const query = read("red", primary({ "authorizer:credentialsLocation": "query" })).authorizer.credentials;
        assert.deepStrictEqual([query.kind, query.location, query.name], ["user_key", "query", "user_key"]);
        const pair = read("red", primary({ "authorizer:credentials": "app_id_app_key", "authorizer:appIdName": "X-App-Id", "authorizer:appKeyName": "X-App-Key" })).authorizer.credentials;
        assert.deepStrictEqual([pair.kind, pair.appIdName, pair.appKeyName], ["app_id_app_key", "X-App-Id", "X-App-Key"]);
        const jwt = read("red", primary({
            "authorizer:credentials": "jwt", "authorizer:jwksUrl": "https://courses.example.edu/oauth2/jwks",
            "authorizer:jwtIssuer": "https://courses.example.edu/oauth2", "authorizer:jwtAudience": "api-ring", "authorizer:jwtAppClaim": "preferred_username",
        })).authorizer;
        assert.deepStrictEqual([jwt.credentials.kind, jwt.credentials.name], ["jwt", "Authorization"], "Open edX clients send Authorization: JWT <token>");
        assert.deepStrictEqual(jwt.jwt, { jwksUrl: "https://courses.example.edu/oauth2/jwks", issuer: "https://courses.example.edu/oauth2", audience: "api-ring",
            appClaim: "preferred_username", timeoutMs: 1000, refreshCooldownMs: 30_000, keySetMaxAgeMs: 3_600_000 });
    });

    it("authorizer:jwksMaxAgeSeconds: how long the last good key set serves while the JWKS endpoint fails (issue 17, item 3)", () => {
        const JWT = {
            "authorizer:credentials": "jwt", "authorizer:jwksUrl": "https://courses.example.edu/oauth2/jwks",
            "authorizer:jwtIssuer": "https://courses.example.edu/oauth2", "authorizer:jwtAudience": "api-ring", "authorizer:jwtAppClaim": "preferred_username",
        };
        assert.strictEqual(read("red", primary({ ...JWT, "authorizer:jwksMaxAgeSeconds": "86400" })).authorizer.jwt?.keySetMaxAgeMs, 86_400_000);
        for (const bad of ["30", "604801", "an hour"]) {
            const e = problemsOf("red", primary({ ...JWT, "authorizer:jwksMaxAgeSeconds": bad }));
            assert.deepStrictEqual(e.problems.map((p) => p.key), ["authorizer:jwksMaxAgeSeconds"], bad);
            assert.match(e.message, /from 60 to 604800/);
        }
        const stray = problemsOf("red", primary({ "authorizer:jwksMaxAgeSeconds": "3600" }));
        assert.match(stray.problems[0].expected, /no value unless authorizer:credentials is jwt/);
    });

    it("reads routes with the authorizer's own reader: what API Gateway's wildcards cannot express segment by segment is refused (issue 17, item 1)", () => {
        for (const bad of ["a/*/b", "disc*", "*/x", "discovery/../admin", "discovery//x", "discovery/", "a?b"]) {
            const e = problemsOf("red", primary({ "authorizer:planRoutes": JSON.stringify({ Basic: [bad] }) }));
            assert.deepStrictEqual(e.problems.map((p) => p.key), ["authorizer:planRoutes.Basic"], bad);
            assert.match(e.message, /a route pattern/);
        }
        assert.deepStrictEqual(read("red", primary({ "authorizer:planRoutes": '{"Basic":["discovery/*","GET *","heartbeat"]}' })).authorizer.planRoutes, { Basic: ["discovery/*", "GET *", "heartbeat"] });
    });

    it("refuses credential settings that cannot work, naming each key", () => {
        const jwt = problemsOf("red", primary({ "authorizer:credentials": "jwt", "authorizer:jwksUrl": "http://courses.example.edu/jwks" }));
        assert.deepStrictEqual(jwt.problems.map((p) => p.key).sort(), ["authorizer:jwksUrl", "authorizer:jwtAppClaim", "authorizer:jwtAudience", "authorizer:jwtIssuer"]);
        assert.match(jwt.message, /authorizer:jwtIssuer: got nothing; expected the issuer .*authorizer:credentials is jwt/);
        const stray = problemsOf("red", primary({ "authorizer:jwtIssuer": "https://courses.example.edu/oauth2" }));
        assert.match(stray.problems[0].expected, /no value unless authorizer:credentials is jwt \(it is user_key\)/);
        const misplaced = problemsOf("red", primary({ "authorizer:credentialsLocation": "query", "authorizer:identityHeader": "X-Api-Key" }));
        assert.deepStrictEqual(misplaced.problems.map((p) => p.key), ["authorizer:identityHeader"]);
        assert.match(misplaced.problems[0].expected, /set authorizer:queryParameter instead/);
        const same = problemsOf("red", primary({ "authorizer:credentials": "app_id_app_key", "authorizer:appIdName": "key", "authorizer:appKeyName": "KEY" }));
        assert.match(same.problems[0].expected, /a name other than authorizer:appIdName's/);
        for (const [key, value, expected] of [
            ["authorizer:credentials", "oauth", /one of user_key, app_id_app_key, jwt/],
            ["authorizer:credentialsLocation", "cookie", /one of header, query/],
            ["authorizer:identityHeader", "X Api Key", /HTTP header name/],
        ] as const) {
            assert.match(problemsOf("red", primary({ [key]: value })).problems[0].expected, expected);
        }
        assert.match(problemsOf("red", primary({ "authorizer:credentialsLocation": "query", "authorizer:queryParameter": "user key" })).problems[0].expected, /query parameter name/);
    });

    it("refuses bounds that together do not fit inside the authorizer's timeout, naming the keys and the sum", () => {
        const e = problemsOf("red", primary({ "threescale:timeoutMs": "10000", "authorizer:redisTimeoutMs": "5000" }));
        assert.deepStrictEqual(e.problems.map((p) => p.key), ["threescale:timeoutMs + authorizer:redisTimeoutMs"]);
        // The secrets' read at cold start counts too (issue 17 item 6): a first request waits for it.
        assert.match(e.problems[0].got, /a worst case of 26003 ms per decision \(3 Redis round trips x authorizer:redisTimeoutMs 5000 ms \+ threescale:timeoutMs 10000 ms \+ secrets read at cold start 1000 ms \+ usage nudge 3 ms\)/);
        assert.match(e.problems[0].expected, /at most 4500 ms, so the authorizer answers inside its 6 s Lambda timeout/);
        assert.strictEqual(read("red", primary({ "threescale:timeoutMs": "3000" })).threescale.timeoutMs, 3000, "4453 ms fits");
        assert.match(problemsOf("red", primary({ "threescale:timeoutMs": "3100" })).problems[0].got, /a worst case of 4553 ms/);
    });

    describe("refusals of issue 17 (item 5), each naming the key, what it got and what it expected", () => {
        const problem = (e: ConfigError, key: string) => {
            const p = e.problems.find((x) => x.key === key);
            assert.ok(p, `a problem for ${key}: ${e.message}`);
            return p;
        };
        const JWT = {
            "authorizer:credentials": "jwt", "authorizer:jwksUrl": "https://courses.example.edu/oauth2/jwks",
            "authorizer:jwtIssuer": "https://courses.example.edu/oauth2", "authorizer:jwtAudience": "api-ring", "authorizer:jwtAppClaim": "preferred_username",
        };

        for (const name of ["__proto__", "constructor", "prototype"]) {
            it(`refuses ${name} as a name wherever config becomes object keys`, () => {
                for (const [key, value] of [
                    ["authorizer:planRoutes", `{"${name}": ["*"], "Basic": ["discovery/*"]}`],
                    ["gateway:hosts", `{"${name}": "evil.example.edu", "edxapp_host": "courses.example.edu"}`],
                    ["gateway:stageVariables", `{"${name}": "x"}`],
                    ["gateway:specMirrors", `{"${name}": "vendor/"}`],
                ]) {
                    const p = problem(problemsOf("red", primary({ [key]: value })), `${key}.${name}`);
                    assert.strictEqual(p.got, JSON.stringify(name));
                    assert.match(p.expected, /a name other than __proto__, constructor or prototype/);
                }
            });
        }

        it("refuses a tokenPattern that matches the empty string", () => {
            for (const pattern of ["x|", "[a-z]*", "(abc)?", "^$"]) {
                const p = problem(problemsOf("red", primary({ "authorizer:tokenPattern": pattern })), "authorizer:tokenPattern");
                assert.match(p.expected, /a pattern that does not match the empty string/, pattern);
            }
        });

        it("blames a 5,000-character tokenPattern on authorizer:tokenPattern, not on authorizer:planRoutes", () => {
            const e = problemsOf("red", primary({ "authorizer:tokenPattern": `(?:${"a".repeat(4990)})` }));
            assert.deepStrictEqual(e.problems.map((p) => p.key), ["authorizer:tokenPattern"]);
            assert.match(e.problems[0].got, /a pattern of 4994 characters/);
            assert.match(e.problems[0].expected, /at most 512 characters/);
        });

        it("blames the Lambda environment's size on the key that fills it", () => {
            const routes = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`Plan${i}`, ["discovery/*"]]));
            const e = problemsOf("red", primary({ "authorizer:defaultRoutes": JSON.stringify(Array.from({ length: 200 }, (_, i) => `discovery/v${i}/*`)), "authorizer:planRoutes": JSON.stringify(Object.fromEntries(Object.entries(routes).slice(0, 2))) }));
            assert.deepStrictEqual(e.problems.map((p) => p.key), ["authorizer:defaultRoutes"]);
            assert.match(e.problems[0].got, /a Lambda environment of \d{4} bytes/);
        });

        it("refuses an identityHeader API Gateway or a proxy sets or rewrites, in any spelling", () => {
            for (const header of ["Host", "host", "X-Forwarded-For", "x-forwarded-proto", "Forwarded", "Via", "X-Amzn-Trace-Id", "x-amz-date",
                "x-api-ring-plan", "X-API-RING-APP-ID", "Content-Length", "Connection", "Transfer-Encoding", "Proxy-Authorization", "User-Agent"]) {
                const p = problem(problemsOf("red", primary({ "authorizer:identityHeader": header })), "authorizer:identityHeader");
                assert.strictEqual(p.got, JSON.stringify(header));
                assert.match(p.expected, /a header no client can be trusted to send and API Gateway passes to the authorizer as sent/, header);
            }
            assert.match(problem(problemsOf("red", primary({ "authorizer:identityHeader": "X_Api_Ring_Plan" })), "authorizer:identityHeader").expected, /HTTP header name/,
                "an underscore spelling is no header name API Gateway maps");
            assert.strictEqual(read("red", primary({ "authorizer:identityHeader": "X-Edx-Api-Key" })).authorizer.credentials.name, "X-Edx-Api-Key");
        });

        it("reads jwtAudience as a string or a JSON list of strings", () => {
            assert.strictEqual(read("red", primary(JWT)).authorizer.jwt?.audience, "api-ring");
            assert.deepStrictEqual(read("red", primary({ ...JWT, "authorizer:jwtAudience": '["api-ring","lms"]' })).authorizer.jwt?.audience, ["api-ring", "lms"]);
            for (const bad of ["[]", "[1]", '["a", ""]', '["a b"]', '{"a": 1}']) {
                const p = problem(problemsOf("red", primary({ ...JWT, "authorizer:jwtAudience": bad })), "authorizer:jwtAudience");
                assert.match(p.expected, /an audience, or a JSON list of audiences/, bad);
            }
        });

        it("refuses a jwtAppClaim naming a claim that is not a string, or an object's own machinery", () => {
            for (const claim of ["exp", "iat", "nbf", "aud", "__proto__", "constructor", "prototype"]) {
                const p = problem(problemsOf("red", primary({ ...JWT, "authorizer:jwtAppClaim": claim })), "authorizer:jwtAppClaim");
                assert.match(p.expected, /a claim whose value is a string naming the application/, claim);
            }
        });

        it("reads gateway:allowPublicCatchAll, default false", () => {
            assert.strictEqual(read("red", primary()).gateway.allowPublicCatchAll, false);
            assert.strictEqual(read("red", primary({ "gateway:allowPublicCatchAll": "true" })).gateway.allowPublicCatchAll, true);
            assert.match(problem(problemsOf("red", primary({ "gateway:allowPublicCatchAll": "yes" })), "gateway:allowPublicCatchAll").expected, /true or false/);
        });
    });

    it("documents every key it reads", () => {
        assert.ok(KNOWN_KEYS.length >= 40);
        assert.strictEqual(new Set(KNOWN_KEYS).size, KNOWN_KEYS.length);
    });
});

describe("config: the live pointer's stack", () => {
    const source = (values: Record<string, string>, project = "api-ring-live") =>
        ({ project, stack: "live", get: (k: string) => values[k], isSecret: () => false, keys: () => Object.keys(values) });

    it("live/Pulumi.live.yaml validates: the domain, the history kept, the slots' project", () => {
        const file = loadStackConfig(path.join(PROJECT, "live"), "live", []);
        const c = readLivePointerConfig({ ...source(file.values), project: file.project });
        assert.deepStrictEqual([c.project, c.slotProject, c.domain.name, c.domain.basePath, c.historyLimit], ["api-ring-live", "api-ring", "api.example.edu", "", 20]);
        assert.deepStrictEqual(readLivePointerCommandConfig({ ...source(file.values), project: file.project }).region, "us-east-1");
    });

    it("requires the domain, and refuses bad domain keys naming each", () => {
        const e = (() => { try { readLivePointerConfig(source({ "domain:basePath": "/v1", "domain:hostedZoneId": "Z0123456789ABC", "ring:historyLimit": "0" })); } catch (x) { return x as ConfigError; } throw new Error("accepted"); })();
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["domain:basePath", "domain:hostedZoneId", "domain:name", "ring:historyLimit"]);
        assert.match(e.message, /domain:name: got nothing; expected a lower-case DNS name, e\.g\. api\.example\.edu \(the live pointer maps the custom domain to the live slot/);
        assert.match(e.message, /domain:hostedZoneId: .*together with domain:certificateArn/);
        assert.match(e.message, /ring:historyLimit: got "0"; expected a whole number from 1 to 200/);
    });

    it("refuses the slots' keys and a project not named after the slots'", () => {
        const e = (() => { try { readLivePointerConfig(source({ "domain:name": "api.example.edu", "ring:order": "[\"red\"]", "gateway:rateLimit": "5" }, "api-pointer")); } catch (x) { return x as ConfigError; } throw new Error("accepted"); })();
        assert.deepStrictEqual(e.problems.map((p) => p.key).sort(), ["name (live/Pulumi.yaml)", "ring:order"]);
        assert.match(e.message, /ring:order: got a value; expected no value on the live pointer's stack: ring:order is the slots'/);
        assert.match(e.message, /"api-pointer"; expected the slots' project name with "-live" after it/);
    });
});
