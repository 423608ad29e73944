// The pair's secrets are read from Parameter Store once per container (issue 17 item 6), through the
// real AWS SDK against the development stand-in, which speaks Parameter Store's JSON protocol.
import * as assert from "assert";
import { createSecretsReader, SecretsUnavailable } from "../../handlers/secrets";
import { ParameterStore, startParameterStore } from "../../dev-servers/parameter-store";
import { settingsFromEnvironment, withSecrets } from "../../handlers/settings";
import { SECRET_PARAMETER_NAMES } from "../support/settings";

const SERVICE_TOKEN = "st-0123456789abcdef-secret";
const AUTH_TOKEN = "redis-auth-token-0123456789-secret";

describe("secrets from Parameter Store (handlers/secrets.ts)", () => {
    let store: ParameterStore;
    let clock: number;
    let logs: string[];
    beforeEach(async () => {
        store = await startParameterStore({ parameters: [
            { name: SECRET_PARAMETER_NAMES.serviceToken, value: SERVICE_TOKEN },
            { name: SECRET_PARAMETER_NAMES.redisAuthToken, value: AUTH_TOKEN },
        ] });
        clock = 1_000_000;
        logs = [];
    });
    afterEach(async () => store.close());

    const reader = (parameters: { serviceToken: string; redisAuthToken: string; portaAccessToken?: string } = SECRET_PARAMETER_NAMES, timeoutMs = 500) =>
        createSecretsReader(parameters, { env: store.clientEnvironment(), timeoutMs, now: () => clock, log: (m) => logs.push(m) });
    const refused = (pattern: RegExp) => (e: Error): boolean => {
        assert.ok(e instanceof SecretsUnavailable, `${e.name}: ${e.message}`);
        assert.match(e.message, pattern);
        assert.ok(![SERVICE_TOKEN, AUTH_TOKEN].some((t) => e.message.includes(t)), "no value in the message");
        return true;
    };

    it("reads both in one GetParameters call, decrypted, once per container", async () => {
        const secrets = reader();
        for (let i = 0; i < 5; i++) assert.deepStrictEqual(await secrets.get(), { serviceToken: SERVICE_TOKEN, redisAuthToken: AUTH_TOKEN });
        assert.deepStrictEqual(store.calls.map((c) => [c.operation, [...c.names].sort(), c.withDecryption]),
            [["GetParameters", [SECRET_PARAMETER_NAMES.redisAuthToken, SECRET_PARAMETER_NAMES.serviceToken], true]]);
        await store.setFault("down");
        assert.strictEqual((await secrets.get()).serviceToken, SERVICE_TOKEN, "kept for the container's life");
    });

    it("concurrent first requests share one read", async () => {
        const secrets = reader();
        const all = await Promise.all(Array.from({ length: 20 }, () => secrets.get()));
        assert.ok(all.every((s) => s.serviceToken === SERVICE_TOKEN));
        assert.strictEqual(store.calls.length, 1);
    });

    it("a Redis without AUTH names no parameter: only the service token is read", async () => {
        const secrets = reader({ serviceToken: SECRET_PARAMETER_NAMES.serviceToken, redisAuthToken: "" });
        assert.deepStrictEqual(await secrets.get(), { serviceToken: SERVICE_TOKEN, redisAuthToken: "" });
        assert.deepStrictEqual(store.calls[0].names, [SECRET_PARAMETER_NAMES.serviceToken]);
    });

    it("the reporter's porta access token: its own parameter, read in the same call, reaching the settings with porta's URL; never from the environment", async () => {
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
        assert.deepStrictEqual(store.calls.map((c) => [...c.names].sort()), [[portaParameter, SECRET_PARAMETER_NAMES.redisAuthToken, SECRET_PARAMETER_NAMES.serviceToken].sort()]);
        // The authorizer's environment names no porta parameter: it reads only its two.
        const { THREESCALE_ADMIN_URL: _url, THREESCALE_ACCESS_TOKEN_PARAMETER: _parameter, ...authorizerEnv } = env;
        assert.strictEqual(withSecrets(settingsFromEnvironment(authorizerEnv), await reader(settingsFromEnvironment(authorizerEnv).secretParameters).get()).threescale.accessToken, undefined);
        assert.deepStrictEqual(store.calls[1].names.slice().sort(), [SECRET_PARAMETER_NAMES.redisAuthToken, SECRET_PARAMETER_NAMES.serviceToken].sort());
        assert.throws(() => settingsFromEnvironment({ ...env, THREESCALE_ACCESS_TOKEN: PORTA_TOKEN }), /THREESCALE_ACCESS_TOKEN: set, but a secret must not be in the function's configuration.*THREESCALE_ACCESS_TOKEN_PARAMETER/);
        assert.throws(() => settingsFromEnvironment(authorizerEnv) && settingsFromEnvironment({ ...authorizerEnv, THREESCALE_ADMIN_URL: "https://acme-admin.3scale.net" }),
            /THREESCALE_ACCESS_TOKEN_PARAMETER: missing while THREESCALE_ADMIN_URL is set, expected both/);
    });

    it("a parameter the store does not hold is named, with the variable that named it", async () => {
        store.remove(SECRET_PARAMETER_NAMES.redisAuthToken);
        await assert.rejects(reader().get(), refused(/REDIS_AUTH_TOKEN_PARAMETER.*\/api-ring\/test\/redis-auth-token.*not found/));
    });

    it("an empty value is refused", async () => {
        // Parameter Store refuses an empty value itself; a store answering one is not trusted either.
        store.put(SECRET_PARAMETER_NAMES.serviceToken, " ");
        await assert.rejects(reader().get(), refused(/THREESCALE_SERVICE_TOKEN_PARAMETER.*empty/));
    });

    for (const [fault, pattern] of [["down", /ECONNREFUSED|unreachable/], ["5xx", /InternalServerError/], ["denied", /AccessDeniedException/], ["throttle", /ThrottlingException/]] as const) {
        it(`store ${fault}: refused with the cause, within the bound`, async () => {
            await store.setFault(fault);
            const started = Date.now();
            await assert.rejects(reader().get(), refused(pattern));
            assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
        });
    }

    it("a store that hangs is given up on at the bound", async () => {
        await store.setFault("hang");
        const started = Date.now();
        await assert.rejects(reader(SECRET_PARAMETER_NAMES, 300).get(), refused(/no answer within 300 ms/));
        const took = Date.now() - started;
        assert.ok(took >= 290 && took < 800, `${took} ms`);
    });

    it("after a failure, no new read before the back-off ends (doubling, at most 30 s); the first success ends it", async () => {
        await store.setFault("5xx");
        const secrets = reader();
        await assert.rejects(secrets.get());
        for (let i = 0; i < 10; i++) await assert.rejects(secrets.get(), refused(/InternalServerError.*next read in/));
        assert.strictEqual(store.calls.length, 1);
        clock += 1_000;
        await assert.rejects(secrets.get());
        assert.strictEqual(store.calls.length, 2);
        clock += 1_000; // the back-off is 2 s now
        await assert.rejects(secrets.get());
        assert.strictEqual(store.calls.length, 2);
        clock += 1_000;
        await store.setFault("none");
        assert.strictEqual((await secrets.get()).serviceToken, SERVICE_TOKEN);
        assert.strictEqual(store.calls.length, 3);
        assert.ok(logs.every((l) => !l.includes(SERVICE_TOKEN) && !l.includes(AUTH_TOKEN)));
    });

    it("the back-off stops growing at 30 s", async () => {
        await store.setFault("5xx");
        const secrets = reader();
        for (let i = 0; i < 8; i++) {
            await assert.rejects(secrets.get());
            clock += 30_000;
        }
        assert.strictEqual(store.calls.length, 8, "one read every 30 s at most, and at least");
    });
});
