// The contract between the Pulumi program and the authorizer pair at run time.
// The program turns validated stack config into Lambda environment variables with
// `settingsToEnvironment`; the handlers read them back with `settingsFromEnvironment`.
// One module owns both directions so the two sides can never drift apart.
// The secrets (3scale service token, Redis AUTH token, the reporter's porta access token) are never in the
// environment: it names the Parameter Store parameters that hold them, which each container reads at cold
// start (secrets.ts).
import { routeProblem } from "./routes";
import { CREDENTIAL_KINDS, CREDENTIAL_LOCATIONS, CredentialSource } from "./credentials";
import type { JwtSettings } from "./jwt";
import { metricsEnvironment } from "./metrics";
import { PairSecrets, SECRET_PARAMETER_VARIABLES, SecretParameters } from "./secrets";

/** What the authorizer does when 3scale cannot answer (down, slow, 5xx, unparseable). */
export type FailureMode = "strict" | "resilient" | "allow";
export const FAILURE_MODES: readonly FailureMode[] = ["strict", "resilient", "allow"];

/** A plan grants every route ("*"), nothing ([]), or a list of route patterns such as "discovery/*". */
export type PlanRoutes = Record<string, string[]>;

export interface AuthorizerSettings {
    threescale: {
        /** Service Management API base URL, e.g. https://su1.3scale.net */
        backendUrl: string;
        serviceId: string;
        /** Secret. */
        serviceToken: string;
        /** Bound on one call to 3scale, in milliseconds. */
        timeoutMs: number;
        /**
         * porta (the admin portal, e.g. https://ACME-admin.3scale.net) and an access token with the
         * Analytics and Account Management read scopes (secret): when both are set, the reporter reads
         * applications' hourly usage there to settle reports of applications without limits (porta.ts).
         */
        adminUrl?: string;
        accessToken?: string;
    };
    redis: {
        host: string;
        port: number;
        tls: boolean;
        /** Secret; empty when the server has no AUTH. */
        authToken: string;
        /** Bound on one Redis round trip, in milliseconds. */
        timeoutMs: number;
    };
    /** Tokens failing this pattern are rejected before any I/O. */
    tokenPattern: string;
    /** Seconds an allowed decision is served from the cache. */
    cacheTtlSeconds: number;
    /** Seconds a denial is served from the cache. */
    negativeTtlSeconds: number;
    /** Seconds a decision is kept as the last known answer for the `resilient` mode. */
    staleTtlSeconds: number;
    failureMode: FailureMode;
    /** Plan name (as 3scale reports it) to the routes it grants. */
    planRoutes: PlanRoutes;
    /** Routes for a plan missing from `planRoutes`. */
    defaultRoutes: string[];
    /** Seconds between usage reports; 0 reports every request as it happens. */
    usageWindowSeconds: number;
    /** SNS topic that wakes the usage reporter; empty disables publishing. */
    usageTopicArn: string;
    /** What callers send and where (user_key, app_id + app_key or a JWT; header or query). */
    credentials: CredentialSource;
    /** With credentials jwt: how tokens are verified. */
    jwt?: JwtSettings;
    /** The stage (slot) this authorizer serves; a method ARN of another stage is denied. Empty: any. */
    stage: string;
}

/**
 * The settings as the functions' environment carries them: everything but the secrets, which are
 * named by the parameters that hold them.
 */
export interface DeployedSettings extends Omit<AuthorizerSettings, "threescale" | "redis"> {
    threescale: Omit<AuthorizerSettings["threescale"], "serviceToken" | "accessToken">;
    redis: Omit<AuthorizerSettings["redis"], "authToken">;
    secretParameters: SecretParameters;
}

/** The settings a container runs with, once it has read its secrets. */
export function withSecrets(s: DeployedSettings, secrets: PairSecrets): AuthorizerSettings {
    const { secretParameters: _, ...rest } = s;
    // porta is used with both its URL and its token, never one alone.
    const porta = s.threescale.adminUrl && secrets.portaAccessToken ? { accessToken: secrets.portaAccessToken } : {};
    return { ...rest, threescale: { ...s.threescale, serviceToken: secrets.serviceToken, ...porta }, redis: { ...s.redis, authToken: secrets.redisAuthToken } };
}

/** The settings to deploy: the secrets taken out, named by their parameters instead. */
export function withoutSecrets(s: AuthorizerSettings, secretParameters: SecretParameters): DeployedSettings {
    const { serviceToken: _token, accessToken: _porta, ...threescale } = s.threescale;
    const { authToken: _auth, ...redis } = s.redis;
    return { ...s, threescale, redis, secretParameters };
}

/**
 * Longest the usage nudge may hold a decision: the publish goes on in the background (in Lambda,
 * across the freeze until the next invocation), and a failed one is not retried before the next
 * window: the schedule flushes anyway. Here because config/authorizer.ts counts it among the bounds.
 */
export const NUDGE_WAIT_MS = 3;

/** The credential source when none is configured: DESIGN's default, a user_key in X-Api-Key. */
export const DEFAULT_CREDENTIALS: CredentialSource = { kind: "user_key", location: "header", name: "X-Api-Key", appIdName: "app_id", appKeyName: "app_key" };

export type Environment = Record<string, string | undefined>;

function isCredentialSource(value: unknown): value is CredentialSource {
    const v = value as Partial<CredentialSource> | null;
    return typeof v === "object" && v !== null && (CREDENTIAL_KINDS as readonly unknown[]).includes(v.kind) &&
        (CREDENTIAL_LOCATIONS as readonly unknown[]).includes(v.location) &&
        [v.name, v.appIdName, v.appKeyName].every((n) => typeof n === "string" && n !== "");
}

function isJwtSettings(value: unknown): value is JwtSettings {
    const v = value as Partial<JwtSettings> | null;
    const audiences = Array.isArray(v?.audience) ? v.audience : [v?.audience];
    return typeof v === "object" && v !== null && [v.jwksUrl, v.issuer, v.appClaim, ...audiences].every((t) => typeof t === "string" && t !== "") && audiences.length > 0 &&
        [v.timeoutMs, v.refreshCooldownMs].every((n) => typeof n === "number" && n >= 0) &&
        (v.keySetMaxAgeMs === undefined || (typeof v.keySetMaxAgeMs === "number" && v.keySetMaxAgeMs >= 0));
}

/** Serializes settings into Lambda environment variables; the secrets go as the names of their parameters. */
export function settingsToEnvironment(s: DeployedSettings): Record<string, string> {
    return {
        THREESCALE_BACKEND_URL: s.threescale.backendUrl,
        THREESCALE_SERVICE_ID: s.threescale.serviceId,
        [SECRET_PARAMETER_VARIABLES.serviceToken]: s.secretParameters.serviceToken,
        THREESCALE_TIMEOUT_MS: String(s.threescale.timeoutMs),
        ...(s.threescale.adminUrl ? { THREESCALE_ADMIN_URL: s.threescale.adminUrl } : {}),
        ...(s.secretParameters.portaAccessToken ? { [SECRET_PARAMETER_VARIABLES.portaAccessToken]: s.secretParameters.portaAccessToken } : {}),
        REDIS_HOST: s.redis.host,
        REDIS_PORT: String(s.redis.port),
        REDIS_TLS: String(s.redis.tls),
        ...(s.secretParameters.redisAuthToken !== "" ? { [SECRET_PARAMETER_VARIABLES.redisAuthToken]: s.secretParameters.redisAuthToken } : {}),
        REDIS_TIMEOUT_MS: String(s.redis.timeoutMs),
        TOKEN_PATTERN: s.tokenPattern,
        CACHE_TTL_SECONDS: String(s.cacheTtlSeconds),
        NEGATIVE_TTL_SECONDS: String(s.negativeTtlSeconds),
        STALE_TTL_SECONDS: String(s.staleTtlSeconds),
        FAILURE_MODE: s.failureMode,
        PLAN_ROUTES: JSON.stringify(s.planRoutes),
        DEFAULT_ROUTES: JSON.stringify(s.defaultRoutes),
        USAGE_WINDOW_SECONDS: String(s.usageWindowSeconds),
        USAGE_TOPIC_ARN: s.usageTopicArn,
        CREDENTIALS: JSON.stringify(s.credentials),
        ...(s.jwt ? { JWT: JSON.stringify(s.jwt) } : {}),
        STAGE_NAME: s.stage,
    };
}

/**
 * The functions' whole environment as the program writes it: the settings, and the metrics
 * library's variables when a `service` is named. The program's 4 KB check sizes this same map.
 */
export function functionEnvironment(s: DeployedSettings, metricsService?: string): Record<string, string> {
    return { ...settingsToEnvironment(s), ...(metricsService ? metricsEnvironment(metricsService) : {}) };
}

/** The longest name the program gives a secret's parameter (Pulumi's auto-name of the pair's parameters); the 4 KB check counts it. */
export const PARAMETER_NAME_BOUND = 128;

/** Variables that would put a secret in the functions' configuration, readable by anyone who can read it. */
const SECRET_VARIABLES: Record<string, string> = {
    THREESCALE_SERVICE_TOKEN: SECRET_PARAMETER_VARIABLES.serviceToken,
    REDIS_AUTH_TOKEN: SECRET_PARAMETER_VARIABLES.redisAuthToken,
    THREESCALE_ACCESS_TOKEN: SECRET_PARAMETER_VARIABLES.portaAccessToken,
};

/** Reads settings back from the environment; throws one error naming every bad variable. */
export function settingsFromEnvironment(env: Environment): DeployedSettings {
    const problems: string[] = [];
    const text = (name: string, fallback?: string): string => {
        const value = env[name];
        if (value === undefined || value === "") {
            if (fallback !== undefined) return fallback;
            problems.push(`${name}: missing, expected a non-empty string`);
            return "";
        }
        return value;
    };
    const integer = (name: string, fallback: number): number => {
        const raw = env[name];
        if (raw === undefined || raw === "") return fallback;
        const value = Number(raw);
        if (!Number.isInteger(value) || value < 0) {
            problems.push(`${name}: got "${raw}", expected a whole number >= 0`);
            return fallback;
        }
        return value;
    };
    const json = <T>(name: string, fallback: T, check: (v: unknown) => v is T, expected: string): T => {
        const raw = env[name];
        if (raw === undefined || raw === "") return fallback;
        try {
            const value: unknown = JSON.parse(raw);
            if (check(value)) return value;
        } catch {
            // reported below
        }
        problems.push(`${name}: got ${JSON.stringify(raw)}, expected ${expected}`);
        return fallback;
    };
    const failureMode = text("FAILURE_MODE", "strict");
    if (!(FAILURE_MODES as readonly string[]).includes(failureMode)) {
        problems.push(`FAILURE_MODE: got "${failureMode}", expected one of ${FAILURE_MODES.join(", ")}`);
    }
    const tokenPattern = text("TOKEN_PATTERN", "^[A-Za-z0-9_-]{16,128}$");
    try {
        new RegExp(tokenPattern);
    } catch (e) {
        problems.push(`TOKEN_PATTERN: got "${tokenPattern}", expected a regular expression (${(e as Error).message})`);
    }
    for (const [name, instead] of Object.entries(SECRET_VARIABLES)) {
        if (env[name] !== undefined) problems.push(`${name}: set, but a secret must not be in the function's configuration (anyone who can read it reads the secret); store it as a SecureString parameter and name that in ${instead}`);
    }
    const settings: DeployedSettings = {
        threescale: {
            backendUrl: text("THREESCALE_BACKEND_URL", "https://su1.3scale.net"),
            serviceId: text("THREESCALE_SERVICE_ID"),
            timeoutMs: integer("THREESCALE_TIMEOUT_MS", 2000),
            ...(env.THREESCALE_ADMIN_URL ? { adminUrl: env.THREESCALE_ADMIN_URL } : {}),
        },
        redis: {
            host: text("REDIS_HOST"),
            port: integer("REDIS_PORT", 6379),
            tls: text("REDIS_TLS", "false") === "true",
            timeoutMs: integer("REDIS_TIMEOUT_MS", 150),
        },
        secretParameters: {
            serviceToken: text(SECRET_PARAMETER_VARIABLES.serviceToken),
            redisAuthToken: env[SECRET_PARAMETER_VARIABLES.redisAuthToken] ?? "",
            ...(env[SECRET_PARAMETER_VARIABLES.portaAccessToken] ? { portaAccessToken: env[SECRET_PARAMETER_VARIABLES.portaAccessToken] } : {}),
        },
        tokenPattern,
        cacheTtlSeconds: integer("CACHE_TTL_SECONDS", 300),
        negativeTtlSeconds: integer("NEGATIVE_TTL_SECONDS", 30),
        staleTtlSeconds: integer("STALE_TTL_SECONDS", 86400),
        failureMode: failureMode as FailureMode,
        planRoutes: json("PLAN_ROUTES", {}, isPlanRoutes, "a JSON object of plan name to a list of route patterns"),
        defaultRoutes: json("DEFAULT_ROUTES", [], isRouteList, "a JSON list of route patterns"),
        usageWindowSeconds: integer("USAGE_WINDOW_SECONDS", 60),
        usageTopicArn: env.USAGE_TOPIC_ARN ?? "",
        credentials: json("CREDENTIALS", DEFAULT_CREDENTIALS, isCredentialSource, "a JSON credential source (kind, location, name, appIdName, appKeyName)"),
        jwt: env.JWT ? json<JwtSettings | undefined>("JWT", undefined, isJwtSettings, "JSON JWT settings (jwksUrl, issuer, audience, appClaim, timeoutMs, refreshCooldownMs, keySetMaxAgeMs)") : undefined,
        stage: env.STAGE_NAME ?? "",
    };
    const routeLists: [string, string[]][] = [
        ...Object.entries(settings.planRoutes).map(([plan, routes]): [string, string[]] => [`PLAN_ROUTES ${JSON.stringify(plan)}`, routes]),
        ["DEFAULT_ROUTES", settings.defaultRoutes],
    ];
    for (const [where, routes] of routeLists) {
        for (const route of routes) {
            const problem = routeProblem(route);
            if (problem) problems.push(`${where}: got ${JSON.stringify(route)}, expected ${problem}`);
        }
    }
    if (!settings.threescale.adminUrl !== !settings.secretParameters.portaAccessToken) {
        const [set, unset] = settings.threescale.adminUrl ? ["THREESCALE_ADMIN_URL", SECRET_PARAMETER_VARIABLES.portaAccessToken] : [SECRET_PARAMETER_VARIABLES.portaAccessToken, "THREESCALE_ADMIN_URL"];
        problems.push(`${unset}: missing while ${set} is set, expected both (porta's URL and its access token's parameter) or neither`);
    }
    if (settings.credentials.kind === "jwt" && !settings.jwt) problems.push("JWT: missing, expected JWT settings with CREDENTIALS of kind jwt");
    if (problems.length > 0) {
        throw new Error(`authorizer settings are invalid:\n  - ${problems.join("\n  - ")}`);
    }
    return settings;
}

export function isRouteList(value: unknown): value is string[] {
    return Array.isArray(value) && value.every((v) => typeof v === "string");
}

export function isPlanRoutes(value: unknown): value is PlanRoutes {
    return typeof value === "object" && value !== null && !Array.isArray(value) &&
        Object.values(value).every(isRouteList);
}
