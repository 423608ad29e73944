// The pair's secrets are read from Parameter Store once per container (issue 17 item 6), through the
// Parameters and Secrets Lambda Extension: its development stand-in, which reads the Parameter Store
// stand-in with the real AWS SDK as the extension reads Parameter Store.
import * as assert from "assert";
import { createSecretsReader, SecretsUnavailable } from "../../handlers/secrets";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";
import { ParametersExtension, startParametersExtension } from "../../dev-servers/parameters-extension";
import { settingsFromEnvironment, withSecrets } from "../../handlers/settings";
import { SECRET_PARAMETER_NAMES } from "../support/settings";

const SERVICE_TOKEN = "st-0123456789abcdef-secret";
const AUTH_TOKEN = "redis-auth-token-0123456789-secret";

describe("secrets from Parameter Store through the Parameters and Secrets extension (handlers/secrets.ts)", () => {
    let store: ParameterStore;
    let extension: ParametersExtension;
    let clock: number;
    let logs: string[];
    beforeEach(async () => {
        store = await startParameterStore({ parameters: [
            { name: SECRET_PARAMETER_NAMES.serviceToken, value: SERVICE_TOKEN },
            { name: SECRET_PARAMETER_NAMES.redisAuthToken, value: AUTH_TOKEN },
        ] });
        extension = await startParametersExtension({ store });
        clock = 1_000_000;
        logs = [];
    });
    afterEach(async () => Promise.all([extension.close(), store.close()]));

    const reader = (parameters: { serviceToken: string; redisAuthToken: string; portaAccessToken?: string } = SECRET_PARAMETER_NAMES, timeoutMs = 500) =>
        createSecretsReader(parameters, { env: extension.functionEnvironment(), timeoutMs, now: () => clock, log: (m) => logs.push(m) });
    const refused = (pattern: RegExp) => (e: Error): boolean => {
        assert.ok(e instanceof SecretsUnavailable, `${e.name}: ${e.message}`);
        assert.match(e.message, pattern);
        assert.ok(![SERVICE_TOKEN, AUTH_TOKEN].some((t) => e.message.includes(t)), "no value in the message");
        return true;
    };

    const names = () => extension.calls.map((c) => c.name).sort();

    it("reads each through the extension, decrypted, with the session token, once per container; no AWS SDK in the function", async () => {
        const secrets = reader();
        for (let i = 0; i < 5; i++) assert.deepStrictEqual(await secrets.get(), { serviceToken: SERVICE_TOKEN, redisAuthToken: AUTH_TOKEN });
        assert.deepStrictEqual(extension.calls.map((c) => [c.name, c.withDecryption, c.token, c.status]).sort(),
            [[SECRET_PARAMETER_NAMES.redisAuthToken, true, true, 200], [SECRET_PARAMETER_NAMES.serviceToken, true, true, 200]]);
        // The extension, not the function, calls Parameter Store: GetParameter, one parameter a call.
        assert.deepStrictEqual(store.calls.map((c) => [c.operation, c.names, c.withDecryption]).sort(),
            [["GetParameter", [SECRET_PARAMETER_NAMES.redisAuthToken], true], ["GetParameter", [SECRET_PARAMETER_NAMES.serviceToken], true]]);
        await extension.setFault("down");
        assert.strictEqual((await secrets.get()).serviceToken, SERVICE_TOKEN, "kept for the container's life");
    });

    it("concurrent first requests share one read", async () => {
        const secrets = reader();
        const all = await Promise.all(Array.from({ length: 20 }, () => secrets.get()));
        assert.ok(all.every((s) => s.serviceToken === SERVICE_TOKEN));
        assert.strictEqual(extension.calls.length, 2, "one GET a parameter");
    });

    it("a Redis without AUTH names no parameter: only the service token is read", async () => {
        const secrets = reader({ serviceToken: SECRET_PARAMETER_NAMES.serviceToken, redisAuthToken: "" });
        assert.deepStrictEqual(await secrets.get(), { serviceToken: SERVICE_TOKEN, redisAuthToken: "" });
        assert.deepStrictEqual(names(), [SECRET_PARAMETER_NAMES.serviceToken]);
    });

    it("a parameter name with characters a query must escape reaches the extension whole", async () => {
        const odd = "/api-ring/test/a b&c=d+e%2F";
        store.put(odd, SERVICE_TOKEN);
        assert.strictEqual((await reader({ serviceToken: odd, redisAuthToken: "" }).get()).serviceToken, SERVICE_TOKEN);
        assert.deepStrictEqual(names(), [odd]);
    });

    it("the reporter's porta access token: its own parameter, read beside the others, reaching the settings with porta's URL; never from the environment", async () => {
        const PORTA_TOKEN = "porta-access-token-0123456789-secret";
        const portaParameter = "/api-ring/test/porta-access-token";
        store.put(portaParameter, PORTA_TOKEN);
        const env = {
            THREESCALE_SERVICE_ID: "2555417777820",
            THREESCALE_SERVICE_TOKEN_PARAMETER: SECRET_PARAMETER_NAMES.serviceToken,
            REDIS_AUTH_TOKEN_PARAMETER: SECRET_PARAMETER_NAMES.redisAuthToken,
            THREESCALE_ADMIN_URL: "https://acme-admin.3scale.net",
            THREESCALE_ACCESS_TOKEN_PARAMETER: portaParameter,
            REDIS_HOST: "127.0.0.1",
        };
        const deployed = settingsFromEnvironment(env);
        const settings = withSecrets(deployed, await reader(deployed.secretParameters).get());
        assert.deepStrictEqual([settings.threescale.adminUrl, settings.threescale.accessToken, settings.threescale.serviceToken], ["https://acme-admin.3scale.net", PORTA_TOKEN, SERVICE_TOKEN]);
        assert.deepStrictEqual(extension.calls.map((c) => c.name).sort(), [portaParameter, SECRET_PARAMETER_NAMES.redisAuthToken, SECRET_PARAMETER_NAMES.serviceToken].sort());
        // The authorizer's environment names no porta parameter: it reads only its two.
        const { THREESCALE_ADMIN_URL: _url, THREESCALE_ACCESS_TOKEN_PARAMETER: _parameter, ...authorizerEnv } = env;
        assert.strictEqual(withSecrets(settingsFromEnvironment(authorizerEnv), await reader(settingsFromEnvironment(authorizerEnv).secretParameters).get()).threescale.accessToken, undefined);
        assert.deepStrictEqual(extension.calls.slice(3).map((c) => c.name).sort(), [SECRET_PARAMETER_NAMES.redisAuthToken, SECRET_PARAMETER_NAMES.serviceToken].sort());
        assert.throws(() => settingsFromEnvironment({ ...env, THREESCALE_ACCESS_TOKEN: PORTA_TOKEN }), /THREESCALE_ACCESS_TOKEN: set, but a secret must not be in the function's configuration.*THREESCALE_ACCESS_TOKEN_PARAMETER/);
        assert.throws(() => settingsFromEnvironment(authorizerEnv) && settingsFromEnvironment({ ...authorizerEnv, THREESCALE_ADMIN_URL: "https://acme-admin.3scale.net" }),
            /THREESCALE_ACCESS_TOKEN_PARAMETER: missing while THREESCALE_ADMIN_URL is set, expected both/);
    });

    it("a parameter the store does not hold (or the role may not read) is named, with the variable that named it and the extension's answer", async () => {
        store.remove(SECRET_PARAMETER_NAMES.redisAuthToken);
        await assert.rejects(reader().get(), refused(/REDIS_AUTH_TOKEN_PARAMETER names \/api-ring\/test\/redis-auth-token, which could not be read: the extension answered 400/));
    });

    it("an empty value is refused", async () => {
        // Parameter Store refuses an empty value itself; a store answering one is not trusted either.
        store.put(SECRET_PARAMETER_NAMES.serviceToken, " ");
        await assert.rejects(reader().get(), refused(/THREESCALE_SERVICE_TOKEN_PARAMETER.*empty/));
    });

    it("a reply over 64 KiB is cut off as it streams in and refused (a parameter holds at most 8 KB)", async () => {
        store.put(SECRET_PARAMETER_NAMES.serviceToken, "x".repeat(70_000));
        await assert.rejects(reader().get(), refused(/THREESCALE_SERVICE_TOKEN_PARAMETER.*a reply over 65536 bytes/));
    });

    for (const fault of ["down", "5xx", "denied", "throttle"] as const) {
        it(`Parameter Store ${fault} behind the extension: refused with the extension's answer, within the bound`, async () => {
            await store.setFault(fault);
            const started = Date.now();
            await assert.rejects(reader().get(), refused(/the extension answered 400/));
            assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
        });
    }

    it("no extension listening (no layer, or it crashed): refused naming the extension, within the bound", async () => {
        await extension.setFault("down");
        await assert.rejects(reader().get(), refused(/extension is not listening \(ECONNREFUSED\): is its layer on the function\?/));
    });

    it("without AWS_SESSION_TOKEN nothing is asked: the extension would refuse it", async () => {
        const { AWS_SESSION_TOKEN: _token, ...env } = extension.functionEnvironment();
        await assert.rejects(createSecretsReader(SECRET_PARAMETER_NAMES, { env, now: () => clock, log: () => undefined }).get(), refused(/AWS_SESSION_TOKEN is not set/));
        assert.strictEqual(extension.calls.length, 0);
    });

    it("a wrong session token is refused by the extension, and the message never quotes a token", async () => {
        const env = { ...extension.functionEnvironment(), AWS_SESSION_TOKEN: "another-session-token" };
        await assert.rejects(createSecretsReader(SECRET_PARAMETER_NAMES, { env, now: () => clock, log: () => undefined }).get(), (e: Error) =>
            refused(/answered 403/)(e) && !e.message.includes("another-session-token"));
        assert.ok(extension.calls.every((c) => !c.token));
    });

    it("a port that is not a port is named", async () => {
        const env = { ...extension.functionEnvironment(), PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: "27x3" };
        await assert.rejects(createSecretsReader(SECRET_PARAMETER_NAMES, { env, now: () => clock, log: () => undefined }).get(), refused(/PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is "27x3", expected a port from 1 to 65535/));
    });

    it("an extension that hangs is given up on at the bound", async () => {
        await extension.setFault("hang");
        const started = Date.now();
        await assert.rejects(reader(SECRET_PARAMETER_NAMES, 300).get(), refused(/no answer within 300 ms/));
        const took = Date.now() - started;
        assert.ok(took >= 290 && took < 800, `${took} ms`);
    });

    it("a Parameter Store that hangs hangs the extension (no timeout by default): given up on at the bound", async () => {
        await store.setFault("hang");
        const started = Date.now();
        await assert.rejects(reader(SECRET_PARAMETER_NAMES, 300).get(), refused(/no answer within 300 ms/));
        assert.ok(Date.now() - started < 800);
    });

    it("after a failure, no new read before the back-off ends (doubling, at most 30 s); the first success ends it", async () => {
        await store.setFault("5xx");
        const secrets = reader();
        await assert.rejects(secrets.get());
        for (let i = 0; i < 10; i++) await assert.rejects(secrets.get(), refused(/answered 400.*next read in/));
        assert.strictEqual(extension.calls.length, 2, "one read (a GET a parameter)");
        clock += 1_000;
        await assert.rejects(secrets.get());
        assert.strictEqual(extension.calls.length, 4);
        clock += 1_000; // the back-off is 2 s now
        await assert.rejects(secrets.get());
        assert.strictEqual(extension.calls.length, 4);
        clock += 1_000;
        await store.setFault("none");
        assert.strictEqual((await secrets.get()).serviceToken, SERVICE_TOKEN);
        assert.strictEqual(extension.calls.length, 6);
        assert.ok(logs.every((l) => !l.includes(SERVICE_TOKEN) && !l.includes(AUTH_TOKEN)));
    });

    it("the back-off stops growing at 30 s", async () => {
        await store.setFault("5xx");
        const secrets = reader();
        for (let i = 0; i < 8; i++) {
            await assert.rejects(secrets.get());
            clock += 30_000;
        }
        assert.strictEqual(extension.calls.length, 16, "one read every 30 s at most, and at least");
    });
});
