// Settings for handler tests, pointed at the test's own Redis and 3scale stand-in.
import type { Redis } from "ioredis";
import { createRedisClient } from "../../handlers/redis-client";
import { AuthorizerSettings, DEFAULT_CREDENTIALS, settingsToEnvironment, withoutSecrets } from "../../handlers/settings";
import { ParametersExtension } from "../../dev-servers/parameters-extension";
import { FakeThreescale } from "../../dev-servers/threescale";
import { RedisServer } from "../../dev-servers/redis-server";

export const PLAN_ROUTES = {
    Unlimited: ["*"],
    Basic: ["discovery/*"],
    Enterprise: ["discovery/*", "GET enterprise/v1/*"],
    Suspended: [],
};

export const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/red/GET/discovery/v1/courses";

export function testSettings(redis: RedisServer | undefined, threescale: FakeThreescale, overrides: Partial<AuthorizerSettings> = {}): AuthorizerSettings {
    return {
        threescale: { backendUrl: threescale.url, serviceId: threescale.serviceId, serviceToken: threescale.serviceToken, timeoutMs: 300 },
        redis: { host: redis?.host ?? "", port: redis?.port ?? 0, tls: redis?.tls ?? false, authToken: redis?.password ?? "", timeoutMs: 100 },
        tokenPattern: "[A-Za-z0-9_-]{16,128}",
        cacheTtlSeconds: 300,
        negativeTtlSeconds: 30,
        staleTtlSeconds: 86400,
        failureMode: "strict",
        planRoutes: PLAN_ROUTES,
        defaultRoutes: [],
        usageWindowSeconds: 60,
        usageTopicArn: "",
        credentials: DEFAULT_CREDENTIALS,
        stage: "red",
        ...overrides,
    };
}

/** The client the code under test uses, with the test CA when the server runs TLS. */
export function clientFor(server: RedisServer, settings: AuthorizerSettings, log: (m: string) => void = () => undefined): Redis {
    return createRedisClient(settings.redis, { tls: server.ca ? { ca: server.ca } : undefined, log });
}

/** The parameter names the program gives the functions for their two secrets (any names do). */
export const SECRET_PARAMETER_NAMES = { serviceToken: "/api-ring/test/threescale-service-token", redisAuthToken: "/api-ring/test/redis-auth-token" };

/**
 * The environment of a deployed function for these settings: the tokens stored in the Parameter Store
 * stand-in behind the Parameters and Secrets extension's stand-in, the environment naming only the
 * parameters, and what the function needs to reach the extension (its port and the session token).
 */
export function deployedEnvironment(settings: AuthorizerSettings, extension: ParametersExtension, extra: Record<string, string> = {}): Record<string, string> {
    const { store } = extension;
    store.put(SECRET_PARAMETER_NAMES.serviceToken, settings.threescale.serviceToken);
    if (settings.redis.authToken !== "") store.put(SECRET_PARAMETER_NAMES.redisAuthToken, settings.redis.authToken);
    const porta = settings.threescale.adminUrl && settings.threescale.accessToken ? { portaAccessToken: "/api-ring/test/porta-access-token" } : {};
    if (porta.portaAccessToken) store.put(porta.portaAccessToken, settings.threescale.accessToken ?? "");
    const parameters = { ...SECRET_PARAMETER_NAMES, redisAuthToken: settings.redis.authToken !== "" ? SECRET_PARAMETER_NAMES.redisAuthToken : "", ...porta };
    return { ...settingsToEnvironment(withoutSecrets(settings, parameters)), ...extension.functionEnvironment(), ...extra };
}
