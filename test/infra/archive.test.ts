// The code that ships is the code tested: the archives CallbackFunction built (the factory Pulumi
// serialized, and the bundles of handler-archive.ts its code paths packed) for the authorizer and
// the reporter (from the program under mocks, by the offline preview) are unpacked and their
// handlers invoked in a fresh Node process, as Lambda would: only the archive's own
// node_modules plus the AWS SDK the Lambda runtime provides, env vars from the program's
// contract, against real Redis (TLS + AUTH, as ElastiCache runs) and the 3scale stand-in.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { metricsEnvironment } from "../../handlers/metrics";
import { OfflineRun, previewStack } from "../../preview/cli";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { deployedEnvironment, testSettings } from "../support/settings";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";
import { ParametersExtension, startParametersExtension } from "../../dev-servers/parameters-extension";
import { LocalSns, startLocalSns } from "../support/sns";
import { invokeArchive as invoke, lambdaRuntimeModules, runInLambdaProcess } from "../support/lambda";
import { Issuer, startIssuer } from "../support/jwks";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";
import { HTTP_METHODS } from "../../handlers/routes";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:red-authorizer-pair-usage";
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/red/GET/discovery/v1/catalogs";

describe("the shipped Lambda archives", function () {
    this.timeout(120_000);
    let run: OfflineRun;
    let redis: RedisServer;
    let threescale: FakeThreescale;
    let sns: LocalSns;
    let store: ParameterStore;
    let extension: ParametersExtension;
    let env: Record<string, string>;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-shipped-"));
    let runtimeModules: string;

    before(async () => {
        run = previewStack("red", { archiveDir: path.join(work, "archives") });
        // The Lambda Node runtime provides AWS SDK v3 and nothing else.
        runtimeModules = lambdaRuntimeModules(path.join(work, "runtime"));
        redis = await startRedis({ tls: true, password: "shipped-auth-token-0123456789" });
        threescale = await startThreescale({ apps: [{ id: "app-1", userKey: "shipped-key-0123456789abcdef", plan: "Basic" }] });
        sns = await startLocalSns();
        store = await startParameterStore();
        extension = await startParametersExtension({ store });
        const caFile = path.join(work, "ca.pem");
        fs.writeFileSync(caFile, redis.ca ?? "");
        env = {
            // A cold process on a loaded 2-core machine needs more than the handler tests' 100 ms for its
            // first TLS handshake; the bounds themselves are tested in test/handlers.
            // The tokens go to the Parameter Store stand-in, read through the extension's; the environment names
            // the parameters (issue 17 item 6).
            ...deployedEnvironment(testSettings(redis, threescale, {
                usageTopicArn: TOPIC, planRoutes: { Basic: ["discovery/*"] },
                redis: { host: redis.host, port: redis.port, tls: true, authToken: redis.password, timeoutMs: 1000 },
                threescale: { backendUrl: threescale.url, serviceId: threescale.serviceId, serviceToken: threescale.serviceToken, timeoutMs: 2000 },
            }), extension),
            ...metricsEnvironment("api-ring-red"),
            NODE_EXTRA_CA_CERTS: caFile,
            AWS_ENDPOINT_URL_SNS: sns.url,
        };
    });
    after(async () => {
        await Promise.all([redis?.close(), threescale?.close(), sns?.close(), extension?.close(), store?.close()]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    const archive = (suffix: string) => {
        const found = run.archives.find((a) => a.function.endsWith(suffix));
        assert.ok(found, `an archive for *${suffix}`);
        return found.dir;
    };

    it("holds its bundle and the packages it loads lazily, no Pulumi, bundler or test package", () => {
        for (const a of run.archives) {
            // Everything else the handlers load (ioredis and its dependencies) is inside the bundle.
            assert.deepStrictEqual(a.packages, ["@aws-lambda-powertools/metrics", "fast-xml-parser"], a.function);
            assert.strictEqual(a.files, 4, `${a.function}: __index.js, the bundle and one file per lazily loaded package`);
        }
    });

    it("the authorizer archive allows a good key, serves the repeat from Redis over TLS, denies a bad one and rejects a malformed one", async () => {
        const event = (token: string) => ({ type: "TOKEN", authorizationToken: token, methodArn: METHOD_ARN });
        const emf: Record<string, unknown>[] = [];
        const [first, second, bad, malformed] = await invoke(archive("-authorizer"), env, runtimeModules, [
            event("Bearer shipped-key-0123456789abcdef"), event("shipped-key-0123456789abcdef"),
            event("unknown-key-0123456789abcdef"), event("no"),
        ], emf);
        type Result = { principalId: string; policyDocument: { Statement: { Effect: string; Resource: string[] }[] }; context: Record<string, string> };
        const allowed = first.ok as Result;
        assert.strictEqual(allowed.policyDocument.Statement[0].Effect, "Allow");
        assert.deepStrictEqual(allowed.policyDocument.Statement[0].Resource, HTTP_METHODS.map((m) => `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/red/${m}/discovery/*`));
        assert.strictEqual(allowed.context.plan, "Basic");
        assert.strictEqual(allowed.context.source, "3scale");
        assert.strictEqual((second.ok as Result).context.source, "cache");
        assert.strictEqual((bad.ok as Result).policyDocument.Statement[0].Effect, "Deny");
        assert.strictEqual(malformed.error, "Unauthorized");
        assert.strictEqual(threescale.count("/transactions/authorize.xml"), 2, "3scale was asked once per distinct key");
        assert.ok(!Object.keys(env).some((k) => k === "THREESCALE_SERVICE_TOKEN" || k === "REDIS_AUTH_TOKEN"), "no token in the environment");
        assert.deepStrictEqual(extension.calls.map((c) => [c.name, c.token]).sort(), [["/api-ring/test/redis-auth-token", true], ["/api-ring/test/threescale-service-token", true]],
            "both tokens read once, on the first invocation, through the extension");
        assert.strictEqual(threescale.count("/transactions/authrep.xml"), 0, "and counted nothing itself: the hits wait in Redis");
        // What it told CloudWatch: the two 3scale calls' latency and the refused token at once. The three
        // decisions are held and written at most once a second, one line a source (handlers/metrics.ts, whose
        // test moves the clock): none is written yet when the four calls take under a second, some may be on
        // a loaded machine, never more than were made.
        const decisions = emf.filter((r) => "Decisions" in r);
        const written = (source: string) => decisions.filter((r) => r.source === source).reduce((n, r) => n + Number(r.Decisions), 0);
        assert.ok(decisions.every((r) => r.source === "3scale" || r.source === "cache") && written("3scale") <= 2 && written("cache") <= 1,
            JSON.stringify(decisions));
        assert.strictEqual(emf.filter((r) => typeof r.ThreescaleLatency === "number").length, 2);
        assert.deepStrictEqual(emf.filter((r) => "RejectedTokens" in r).map((r) => r.RejectedTokens), [1]);
    });

    it("the reporter archive reports the counted hits to 3scale once, even when SNS delivers twice", async () => {
        assert.strictEqual(sns.published.length, 1, "the authorizer archive nudged the reporter through SNS");
        const message = sns.published[0];
        const delivery = { Records: [{ EventSource: "aws:sns", Sns: { MessageId: message.messageId, TopicArn: TOPIC, Message: message.message } }] };
        const emf: Record<string, unknown>[] = [];
        const [once, twice] = await invoke(archive("-reporter"), env, runtimeModules, [delivery, delivery], emf);
        assert.ok(once.ok && !once.error, once.error);
        assert.ok(twice.ok && !twice.error, twice.error);
        assert.deepStrictEqual([...threescale.reported], [["app-1", 2]], "both allowed requests, once");
        assert.deepStrictEqual(emf.map((r) => [r.ReportedHits, r.ReportCalls]), [[2, 1], [0, 0]], "the redelivery reports nothing");
        const keys = (await redis.dump()).map((k) => `${k.key} ${k.text}`).join("\n");
        assert.ok(!keys.includes("shipped-key-0123456789abcdef"), "no raw key in Redis");
    });

    it("a cold authorizer answers a cached key without loading the XML parser or the metrics library", async () => {
        // What a container has loaded by the end of its first decision, a cache hit, and after a miss.
        const loaded = await runInLambdaProcess<{ hit: string[]; miss: string[]; sources: string[] }>(archive("-authorizer"), env, runtimeModules, `
            const { handler } = require("./__index.js");
            const packages = () => [...new Set(Object.keys(require.cache).map((f) => f.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/)?.[1]).filter(Boolean))].sort();
            const event = (token) => ({ type: "TOKEN", authorizationToken: token, methodArn: ${JSON.stringify(METHOD_ARN)} });
            (async () => {
                const hit = await handler(event("shipped-key-0123456789abcdef"), { awsRequestId: "cold-1" });
                const afterHit = packages();
                const miss = await handler(event("unknown-key-0123456789abcdef-2"), { awsRequestId: "cold-2" });
                process.stdout.write("\\nRESULT " + JSON.stringify({ hit: afterHit, miss: packages(), sources: [hit.context.source, miss.context.source] }) + "\\n");
                process.exit(0);
            })();`);
        assert.deepStrictEqual(loaded.sources, ["cache", "3scale"]);
        // ioredis and the handlers are inside the bundle: a cache hit loads no package from the archive;
        assert.ok(!loaded.hit.includes("ioredis"), loaded.hit.join(", "));
        // the secrets come through the extension, so no AWS SDK client is loaded either (the SSM client
        // alone cost a cold start 134 ms).
        for (const lazy of ["fast-xml-parser", "@aws-lambda-powertools/metrics", "@aws-sdk/client-sns", "@aws-sdk/client-ssm"]) {
            assert.ok(!loaded.hit.includes(lazy), `${lazy} is loaded by a cache hit: ${loaded.hit.join(", ")}`);
        }
        // A miss, which reads 3scale's XML and times the call, loads those two from the archive when first needed.
        for (const needed of ["fast-xml-parser", "@aws-lambda-powertools/metrics"]) assert.ok(loaded.miss.includes(needed), `${needed} after a miss: ${loaded.miss.join(", ")}`);
    });
});

describe("the shipped authorizer archive with credentials jwt", function () {
    this.timeout(120_000);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-shipped-jwt-"));
    let issuer: Issuer;
    let redis: RedisServer;
    let threescale: FakeThreescale;
    let store: ParameterStore;
    let extension: ParametersExtension;

    before(async () => {
        issuer = await startIssuer();
        redis = await startRedis();
        threescale = await startThreescale({ backendVersion: "oauth", apps: [{ id: "learner-app", plan: "Basic" }] });
        store = await startParameterStore();
        extension = await startParametersExtension({ store });
    });
    after(async () => {
        await Promise.all([issuer?.close(), redis?.close(), threescale?.close(), extension?.close(), store?.close()]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("ships jose (loaded on the first JWT) and verifies a JWT against the issuer's JWKS from the archive alone", async () => {
        const jwtConfig = {
            "authorizer:credentials": "jwt", "authorizer:jwksUrl": "https://courses.example.edu/oauth2/jwks",
            "authorizer:jwtIssuer": "https://courses.example.edu/oauth2", "authorizer:jwtAudience": "api-ring", "authorizer:jwtAppClaim": "preferred_username",
        };
        const run = previewStack("red", { archiveDir: path.join(work, "archives"), overrides: jwtConfig });
        const authorizer = run.archives.find((a) => a.function.endsWith("-authorizer"));
        assert.ok(authorizer && authorizer.packages.includes("jose"), `jose is shipped: ${authorizer?.packages.join(", ")}`);
        const plain = previewStack("red", { archiveDir: path.join(work, "plain") }).archives.find((a) => a.function.endsWith("-authorizer"));
        assert.ok(plain && !plain.packages.includes("jose"), "and only with credentials jwt");
        // The JWKS is served over http on loopback here; the program requires https (config/authorizer.ts).
        const env = deployedEnvironment(testSettings(redis, threescale, {
            planRoutes: { Basic: ["discovery/*"] },
            redis: { host: redis.host, port: redis.port, tls: false, authToken: "", timeoutMs: 1000 },
            threescale: { backendUrl: threescale.url, serviceId: threescale.serviceId, serviceToken: threescale.serviceToken, timeoutMs: 2000 },
            credentials: { kind: "jwt", location: "header", name: "Authorization", appIdName: "app_id", appKeyName: "app_key" },
            jwt: { jwksUrl: issuer.url, issuer: "https://courses.example.edu/oauth2", audience: "api-ring", appClaim: "preferred_username", timeoutMs: 2000, refreshCooldownMs: 30_000 },
        }), extension);
        const claims = { iss: "https://courses.example.edu/oauth2", aud: "api-ring", preferred_username: "learner-app" };
        const event = (jwt: string) => ({ type: "TOKEN", authorizationToken: `JWT ${jwt}`, methodArn: METHOD_ARN });
        const [ok, forged] = await invoke(authorizer.dir, env, lambdaRuntimeModules(path.join(work, "runtime")), [
            event(await issuer.sign(claims)), event(await issuer.sign({ ...claims, aud: "another-api" })),
        ]);
        type Result = { policyDocument: { Statement: { Effect: string }[] }; context: Record<string, string> };
        assert.deepStrictEqual([(ok.ok as Result).policyDocument.Statement[0].Effect, (ok.ok as Result).context.appId], ["Allow", "learner-app"], ok.error);
        assert.strictEqual(forged.error, "Unauthorized");
    });
});
