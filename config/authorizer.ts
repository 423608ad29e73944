// authorizer:*: where callers send their credential and how it is verified, how long decisions are
// cached, what the authorizer does when 3scale or Redis fail, which plan may call which route, and
// how usage is reported; with the checks that span the slot's config: the Lambda environment's size
// and the bounds one decision waits on.
import { checkSync as checkBacktracking } from "recheck";
import { CREDENTIAL_KINDS, CREDENTIAL_LOCATIONS, CredentialSource } from "../handlers/credentials";
import { DEFAULT_KEY_SET_MAX_AGE_MS, JwtSettings } from "../handlers/jwt";
import { routeProblem } from "../handlers/routes";
import { serviceName } from "../handlers/metrics";
import { SECRETS_TIMEOUT_MS } from "../handlers/secrets";
import { AuthorizerSettings, FAILURE_MODES, NUDGE_WAIT_MS, PARAMETER_NAME_BOUND, functionEnvironment, isPlanRoutes } from "../handlers/settings";
import { Reader, isStringList, shown } from "./reader";
import { otherRegion } from "./region";
import type { ThreescaleConfig } from "./threescale";

/** The authorizer's config: the handlers' settings it shares (documented there) plus the program's own. */
export interface AuthorizerConfig extends Pick<AuthorizerSettings,
    "tokenPattern" | "cacheTtlSeconds" | "negativeTtlSeconds" | "staleTtlSeconds" | "failureMode" | "planRoutes" | "defaultRoutes"> {
    /** What callers send and where: user_key, app_id + app_key or a JWT, in a header or the query string. */
    credentials: CredentialSource;
    /** With credentials jwt: the issuer, its JWKS and the claim naming the 3scale application. */
    jwt?: JwtSettings;
    reportingWindowSeconds: number;
    /** API Gateway's own authorizer result cache; 0 (off) keeps every request visible to 3scale. */
    resultTtlSeconds: number;
    redisTimeoutMs: number;
    /** How often the reporter flushes pending usage even without an SNS nudge. */
    flushSchedule: string;
    /** The Parameters and Secrets extension layer version the functions carry; unset: the latest for the region. */
    secretsExtensionLayerArn?: string;
}

export const AUTHORIZER_KEYS: readonly string[] = [
    "authorizer:credentials", "authorizer:credentialsLocation", "authorizer:identityHeader", "authorizer:queryParameter",
    "authorizer:appIdName", "authorizer:appKeyName",
    "authorizer:jwksUrl", "authorizer:jwtIssuer", "authorizer:jwtAudience", "authorizer:jwtAppClaim", "authorizer:jwksMaxAgeSeconds",
    "authorizer:tokenPattern", "authorizer:cacheTtlSeconds",
    "authorizer:negativeTtlSeconds", "authorizer:staleTtlSeconds", "authorizer:failureMode",
    "authorizer:planRoutes", "authorizer:defaultRoutes", "authorizer:reportingWindowSeconds",
    "authorizer:resultTtlSeconds", "authorizer:redisTimeoutMs", "authorizer:flushSchedule", "authorizer:secretsExtensionLayerArn",
];

/** What the authorizer's settings and the checks across namespaces read of a slot's config (a SlotConfig has it all). */
export interface AuthorizerSlot {
    project: string;
    slot: string;
    threescale: ThreescaleConfig;
    authorizer: AuthorizerConfig;
}

/** The authorizer:* keys of one slot. */
export function authorizerConfig(r: Reader): AuthorizerConfig {
    const cacheTtlSeconds = r.number("authorizer:cacheTtlSeconds", 300, 1, 86400, true);
    const staleTtlSeconds = r.number("authorizer:staleTtlSeconds", 86400, 1, 604800, true);
    if (staleTtlSeconds < cacheTtlSeconds) {
        r.problem("authorizer:staleTtlSeconds", String(staleTtlSeconds), `at least authorizer:cacheTtlSeconds (${cacheTtlSeconds}): the last known decision must outlive the fresh one`);
    }
    const tokenPattern = checkedTokenPattern(r);
    const authorizer: AuthorizerConfig = {
        ...credentialConfig(r),
        tokenPattern,
        cacheTtlSeconds,
        negativeTtlSeconds: r.number("authorizer:negativeTtlSeconds", 30, 1, 3600, true),
        staleTtlSeconds,
        failureMode: r.oneOf("authorizer:failureMode", "strict", FAILURE_MODES),
        planRoutes: r.json("authorizer:planRoutes", {}, isPlanRoutes, "a map of 3scale plan name to a list of route patterns, e.g. {Basic: [discovery/*], Unlimited: ['*']}"),
        defaultRoutes: r.json("authorizer:defaultRoutes", [], isStringList, "a list of route patterns for plans missing from authorizer:planRoutes, e.g. [] (none)"),
        reportingWindowSeconds: r.number("authorizer:reportingWindowSeconds", 60, 0, 3600, true),
        resultTtlSeconds: r.number("authorizer:resultTtlSeconds", 0, 0, 3600, true),
        redisTimeoutMs: r.number("authorizer:redisTimeoutMs", 150, 10, 5000, true),
        flushSchedule: flushSchedule(r),
        secretsExtensionLayerArn: secretsExtensionLayer(r),
    };
    for (const [plan, routes] of Object.entries(authorizer.planRoutes)) {
        for (const route of routes) checkRoute(r, `authorizer:planRoutes.${plan}`, route);
    }
    for (const route of authorizer.defaultRoutes) checkRoute(r, "authorizer:defaultRoutes", route);
    return authorizer;
}

/**
 * A Lambda layer version ARN as CreateFunction takes one (AWS Lambda API reference, CreateFunction, Layers:
 * `arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+`, 1 to 140 characters).
 */
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$/;
const MAX_LAYER_ARN_LENGTH = 140;
const LAYER_EXPECTED = `a Lambda layer version ARN (arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>, at most ${MAX_LAYER_ARN_LENGTH} characters), ` +
    "e.g. the AWS Parameters and Secrets Lambda Extension's arm64 layer for the region; or nothing, for the latest AWS publishes";

/** authorizer:secretsExtensionLayerArn: pins the extension's layer version (components/authorizerPair.ts reads the latest otherwise). */
function secretsExtensionLayer(r: Reader): string | undefined {
    const arn = r.string("authorizer:secretsExtensionLayerArn", undefined, LAYER_VERSION_ARN, LAYER_EXPECTED);
    if (arn !== undefined && arn.length > MAX_LAYER_ARN_LENGTH) {
        r.problem("authorizer:secretsExtensionLayerArn", shown(arn), LAYER_EXPECTED);
        return undefined;
    }
    return arn;
}

/**
 * A pinned layer must be in the functions' region: layers are regional, and a function takes only its own
 * region's. The region as the provider finds it (config/region.ts); none known, nothing refused on a guess.
 */
export function checkSecretsExtensionRegion(r: Reader, config: AuthorizerSlot, env: NodeJS.ProcessEnv): void {
    const arn = config.authorizer.secretsExtensionLayerArn;
    const elsewhere = otherRegion(arn, r.raw("aws:region"), env);
    if (elsewhere) {
        r.problem("authorizer:secretsExtensionLayerArn", shown(arn ?? ""),
            `a layer in ${elsewhere.deployed.region} (${elsewhere.deployed.from}), the functions' region (this one is in ${elsewhere.arnRegion})`);
    }
}

/** A route as the authorizer reads it (handlers/routes.ts): what it refuses, config refuses. */
function checkRoute(r: Reader, key: string, route: string): void {
    const problem = routeProblem(route);
    if (problem) r.problem(key, shown(route), problem);
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/**
 * Headers API Gateway or a proxy in front of it sets, drops or rewrites, and the ring's own context
 * headers: a credential there is not what the client sent, or is what anyone can forge past a proxy.
 * Compared as a backend reads them (WSGI: case folded, _ for -). From "Amazon API Gateway important
 * notes" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html),
 * RFC 9110's connection-specific headers, and openapi/authorizer.ts's CONTEXT_HEADERS.
 */
const RESERVED_HEADERS = new Set(["host", "connection", "content-length", "content-md5", "content-type", "date", "expect", "forwarded",
    "keep-alive", "max-forwards", "proxy-authenticate", "proxy-authorization", "proxy-connection", "server", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "via", "www-authenticate"]);
const RESERVED_HEADER_PREFIXES = ["x-forwarded-", "x-amzn-", "x-amz-", "x-api-ring-"];

function isReservedHeader(name: string): boolean {
    const folded = name.toLowerCase().replace(/_/g, "-");
    return RESERVED_HEADERS.has(folded) || RESERVED_HEADER_PREFIXES.some((p) => folded.startsWith(p));
}

/** Registered JWT claims (RFC 7519) that are never a string naming an application, and names of an object's own machinery. */
const NOT_AN_APP_CLAIM = new Set(["exp", "iat", "nbf", "aud", "__proto__", "constructor", "prototype"]);
/** A query parameter name API Gateway can map (method.request.querystring.<name>). */
const QUERY_NAME = /^[A-Za-z0-9_.~-]+$/;

/** Where callers send their credential (APIcast's credential settings) and, for JWTs, how they are verified. */
export function credentialConfig(r: Reader): { credentials: CredentialSource; jwt?: JwtSettings } {
    const kind = r.oneOf("authorizer:credentials", "user_key", CREDENTIAL_KINDS);
    const location = r.oneOf("authorizer:credentialsLocation", "header", CREDENTIAL_LOCATIONS);
    const headerExpected = "an HTTP header name (letters, digits and -)";
    const queryExpected = "a query parameter name (letters, digits, _ . ~ -)";
    const nameOf = (key: string, fallback: string) => location === "header"
        ? r.string(key, fallback, HEADER_NAME, headerExpected)
        : r.string(key, fallback, QUERY_NAME, queryExpected);
    // A JWT travels in Authorization (Open edX clients send `JWT <token>`); a key in X-Api-Key, or 3scale's user_key parameter.
    const name = location === "header"
        ? r.string("authorizer:identityHeader", kind === "jwt" ? "Authorization" : "X-Api-Key", HEADER_NAME, headerExpected)
        : r.string("authorizer:queryParameter", kind === "jwt" ? "access_token" : "user_key", QUERY_NAME, queryExpected);
    if (location === "header" && isReservedHeader(name)) {
        r.problem("authorizer:identityHeader", shown(name), "a header no client can be trusted to send and API Gateway passes to the authorizer as sent " +
            "(not Host, Forwarded, Via, X-Forwarded-*, X-Amz(n)-*, x-api-ring-*, or a connection header), e.g. X-Api-Key");
    }
    const misplaced = location === "header" ? "authorizer:queryParameter" : "authorizer:identityHeader";
    if (r.raw(misplaced) !== undefined) {
        r.problem(misplaced, shown(r.raw(misplaced) ?? ""), `no value while authorizer:credentialsLocation is ${location} (set ${location === "header" ? "authorizer:identityHeader" : "authorizer:queryParameter"} instead)`);
    }
    const credentials: CredentialSource = {
        kind, location, name,
        appIdName: nameOf("authorizer:appIdName", "app_id"),
        appKeyName: nameOf("authorizer:appKeyName", "app_key"),
    };
    if (kind === "app_id_app_key" && credentials.appIdName.toLowerCase() === credentials.appKeyName.toLowerCase()) {
        r.problem("authorizer:appKeyName", shown(credentials.appKeyName), "a name other than authorizer:appIdName's");
    }
    const jwtKeys = ["authorizer:jwksUrl", "authorizer:jwtIssuer", "authorizer:jwtAudience", "authorizer:jwtAppClaim", "authorizer:jwksMaxAgeSeconds"];
    if (kind !== "jwt") {
        for (const key of jwtKeys.filter((k) => r.raw(k) !== undefined)) {
            r.problem(key, "a value", `no value unless authorizer:credentials is jwt (it is ${kind})`);
        }
        return { credentials };
    }
    const why = "authorizer:credentials is jwt";
    const jwksUrl = r.required("authorizer:jwksUrl", /^https:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/, "an https:// URL of the issuer's JWKS, e.g. https://courses.example.edu/oauth2/jwks", why);
    return {
        credentials,
        jwt: {
            jwksUrl,
            issuer: r.required("authorizer:jwtIssuer", /^\S{1,512}$/, "the issuer the tokens carry in iss, e.g. https://courses.example.edu/oauth2", why),
            audience: jwtAudience(r, why),
            appClaim: jwtAppClaim(r, why),
            timeoutMs: JWKS_TIMEOUT_MS,
            refreshCooldownMs: JWKS_REFRESH_COOLDOWN_MS,
            // How long the last good key set serves while the JWKS endpoint fails (handlers/jwt.ts).
            keySetMaxAgeMs: r.number("authorizer:jwksMaxAgeSeconds", DEFAULT_KEY_SET_MAX_AGE_MS / 1000, 60, 604800, true) * 1000,
        },
    };
}

/** authorizer:jwtAudience: one audience, or a JSON list of them (a token must carry one of them in aud). */
function jwtAudience(r: Reader, why: string): string | string[] {
    const key = "authorizer:jwtAudience";
    const expected = "an audience, or a JSON list of audiences, each 1-512 characters without spaces (the token's aud must hold one of them)";
    const raw = r.required(key, /^\S[\s\S]*$/, expected, why);
    const audience = /^\s*\[/.test(raw) ? (() => {
        try {
            return JSON.parse(raw) as unknown;
        } catch {
            return undefined;
        }
    })() : raw;
    const one = (a: unknown): a is string => typeof a === "string" && /^\S{1,512}$/.test(a);
    if (one(audience) || (Array.isArray(audience) && audience.length > 0 && audience.every(one))) return audience;
    if (raw !== "") r.problem(key, shown(raw), expected);
    return "";
}

/** authorizer:jwtAppClaim: a claim whose value names the application, read as a string at run time. */
function jwtAppClaim(r: Reader, why: string): string {
    const key = "authorizer:jwtAppClaim";
    const expected = "a claim whose value is a string naming the application, e.g. client_id or preferred_username (not exp, iat, nbf or aud, " +
        "which are never such a string, nor __proto__, constructor or prototype)";
    const claim = r.required(key, /^[A-Za-z0-9_.:-]{1,128}$/, expected, why);
    if (NOT_AN_APP_CLAIM.has(claim)) r.problem(key, shown(claim), expected);
    return claim;
}

/** Bound on one JWKS fetch, and least time between refetches for unknown kids. */
export const JWKS_TIMEOUT_MS = 1000;
export const JWKS_REFRESH_COOLDOWN_MS = 30_000;

const SCHEDULE_KEY = "authorizer:flushSchedule";

/** The flush schedule, checked as EventBridge checks rate() and cron() expressions. */
function flushSchedule(r: Reader): string {
    const raw = r.raw(SCHEDULE_KEY);
    if (raw === undefined) return "rate(1 minute)";
    const problem = scheduleProblem(raw);
    if (problem === undefined) return raw;
    r.problem(SCHEDULE_KEY, shown(raw), `an EventBridge schedule expression such as rate(1 minute) or cron(0/5 * * * ? *): ${problem}`);
    return "rate(1 minute)";
}

/** What EventBridge would refuse in a schedule expression, or undefined when it is valid. */
export function scheduleProblem(expression: string): string | undefined {
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
    if (rate) {
        const value = Number(rate[1]);
        const singular = !rate[2].endsWith("s");
        if (value < 1 || rate[1].startsWith("0")) return "the rate needs a positive whole number";
        if (value === 1 && !singular) return `the unit is "${rate[2].slice(0, -1)}" for a value of 1`;
        if (value !== 1 && singular) return `the unit is "${rate[2]}s" for a value other than 1`;
        return undefined;
    }
    if (expression.startsWith("rate(")) return "rate(value unit) takes a whole number and minute(s), hour(s) or day(s)";
    const cron = /^cron\((.*)\)$/.exec(expression);
    if (!cron) return "rate(...) or cron(...)";
    return cronProblem(cron[1].trim().split(/\s+/));
}

/** EventBridge's cron fields: name, range, names allowed, extra characters allowed (besides , - * /). */
const CRON_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: string[]; extra: RegExp }> = [
    { name: "minutes", min: 0, max: 59, extra: /^$/ },
    { name: "hours", min: 0, max: 23, extra: /^$/ },
    { name: "day-of-month", min: 1, max: 31, extra: /^(\?|L|L-\d{1,2}|\d{1,2}W|LW)$/ },
    { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], extra: /^$/ },
    { name: "day-of-week", min: 1, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], extra: /^(\?|[1-7]?L|[1-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])$/ },
    { name: "year", min: 1970, max: 2199, extra: /^$/ },
];

function cronProblem(fields: string[]): string | undefined {
    if (fields.length !== CRON_FIELDS.length) {
        return "cron(...) takes six fields: minutes hours day-of-month month day-of-week year";
    }
    for (const [i, spec] of CRON_FIELDS.entries()) {
        const field = fields[i];
        const value = (text: string): number | undefined => {
            const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
            if (named >= 0) return named + 1;
            return /^\d+$/.test(text) ? Number(text) : undefined;
        };
        const inRange = (text: string): boolean => {
            const v = value(text);
            return v !== undefined && v >= spec.min && v <= spec.max;
        };
        const part = (text: string): boolean => {
            if (spec.extra.test(text)) return true;
            const [range, step, ...rest] = text.split("/");
            if (rest.length > 0 || (step !== undefined && !/^[1-9]\d*$/.test(step))) return false;
            if (range === "*") return true;
            const [from, to, ...more] = range.split("-");
            return more.length === 0 && inRange(from) && (to === undefined || inRange(to));
        };
        if (field === "" || !field.split(",").every(part)) {
            return `the ${spec.name} field "${field}" is not ${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : ""} with , - * /`;
        }
    }
    if ((fields[2] === "?") === (fields[4] === "?")) return "one of day-of-month and day-of-week must be ?, and only one";
    return undefined;
}

/**
 * The token pattern runs on every request before any authentication, so it must be linear-time:
 * recheck (a ReDoS checker combining automata theory and fuzzing) refuses anything it cannot prove
 * safe, polynomial patterns included.
 */
function checkedTokenPattern(r: Reader): string {
    const key = "authorizer:tokenPattern";
    const fallback = "^[A-Za-z0-9_-]{16,128}$";
    const pattern = r.string(key, fallback);
    if (pattern.length > MAX_TOKEN_PATTERN_LENGTH) {
        r.problem(key, `a pattern of ${pattern.length} characters`, `at most ${MAX_TOKEN_PATTERN_LENGTH} characters: a pattern for 3scale keys (the default is ${fallback})`);
        return fallback;
    }
    let compiled: RegExp;
    try {
        compiled = new RegExp(`^(?:${pattern})$`);
    } catch (e) {
        r.problem(key, shown(pattern), `a JavaScript regular expression (${(e as Error).message})`);
        return fallback;
    }
    if (pattern === fallback) return pattern;
    const diagnosis = checkBacktracking(pattern, "");
    if (diagnosis.status !== "safe") {
        const why = diagnosis.status === "vulnerable"
            ? `${diagnosis.complexity.type} backtracking, e.g. on ${JSON.stringify(diagnosis.attack.string.slice(0, 40))}`
            : "it could not be proven linear";
        r.problem(key, shown(pattern), `a linear-time pattern (this one has ${why}; avoid nested or overlapping quantifiers such as (a+)+)`);
        return fallback;
    }
    // The authorizer matches whole values (handlers/credentials.ts wholeValue): an empty key must never pass.
    if (compiled.test("")) {
        r.problem(key, shown(pattern), "a pattern that does not match the empty string (e.g. with a length such as {16,128})");
        return fallback;
    }
    return pattern;
}

/** Longest token pattern accepted: a 3scale key's shape fits in far less, and the pattern is checked and matched on every request. */
const MAX_TOKEN_PATTERN_LENGTH = 512;

/** AWS Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** The longest values the deploy-time parts of the Lambda environment take (ElastiCache endpoint, topic ARN). */
const DEPLOY_TIME_VALUE = { redisHost: "r".repeat(128), topicArn: "a".repeat(256) };

/** AWS refuses a function whose environment variables (names and values) exceed 4 KB. */
export function checkEnvironmentSize(r: Reader, config: AuthorizerSlot): void {
    // The reporter's is the larger environment: with porta it also carries porta's URL and its token's parameter.
    const { porta } = config.threescale;
    const environment = functionEnvironment({
        ...handlerSettings(config),
        threescale: { ...config.threescale, ...(porta ? { adminUrl: porta.adminUrl } : {}) },
        redis: { host: DEPLOY_TIME_VALUE.redisHost, port: 65535, tls: true, timeoutMs: config.authorizer.redisTimeoutMs },
        usageTopicArn: DEPLOY_TIME_VALUE.topicArn,
        // The secrets are not in the environment: their parameters' names are.
        secretParameters: {
            serviceToken: "p".repeat(PARAMETER_NAME_BOUND),
            redisAuthToken: "p".repeat(PARAMETER_NAME_BOUND),
            ...(porta ? { portaAccessToken: "p".repeat(PARAMETER_NAME_BOUND) } : {}),
        },
    }, serviceName(config.project, config.slot));
    const bytes = environmentBytes(environment);
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
        // Blame the key that fills it, with every key's share.
        const shares: [string, number][] = [
            ["authorizer:planRoutes", Buffer.byteLength(environment.PLAN_ROUTES ?? "")],
            ["authorizer:defaultRoutes", Buffer.byteLength(environment.DEFAULT_ROUTES ?? "")],
            ["authorizer:tokenPattern", Buffer.byteLength(environment.TOKEN_PATTERN ?? "")],
        ];
        const [largest] = [...shares].sort((a, b) => b[1] - a[1])[0];
        r.problem(largest, `a Lambda environment of ${bytes} bytes (${shares.map(([k, n]) => `${k} ${n}`).join(", ")})`,
            `at most ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes of environment variables (AWS Lambda's limit): shorten ${largest}` +
            (largest === "authorizer:tokenPattern" ? "" : ", e.g. with route patterns such as discovery/*"));
    }
}

/** The authorizer function's Lambda timeout: far inside API Gateway's 29 s for an authorizer. */
export const AUTHORIZER_TIMEOUT_SECONDS = 6;
/** What a decision must leave of the timeout: a cold start (init, TLS handshake to Redis) on top of it. */
export const AUTHORIZER_TIMEOUT_MARGIN_MS = 1500;
/** Redis round trips one decision can wait for at most: lookup, store (or count), and a count on the failure path. */
const REDIS_ROUND_TRIPS = 3;

/**
 * Every bound one decision can wait on, together, must end inside the function's timeout with a
 * margin: past the timeout Lambda kills the function and API Gateway answers 500, and the failure
 * mode never applies.
 */
export function checkAuthorizerBounds(r: Reader, config: AuthorizerSlot): void {
    const redisMs = config.authorizer.redisTimeoutMs;
    const threescaleMs = config.threescale.timeoutMs;
    const jwksMs = config.authorizer.jwt?.timeoutMs ?? 0;
    // A cold start's first decision waits for the secrets (handlers/secrets.ts) before anything else.
    const sum = REDIS_ROUND_TRIPS * redisMs + threescaleMs + jwksMs + SECRETS_TIMEOUT_MS + NUDGE_WAIT_MS;
    const limit = AUTHORIZER_TIMEOUT_SECONDS * 1000 - AUTHORIZER_TIMEOUT_MARGIN_MS;
    if (sum > limit) {
        r.problem("threescale:timeoutMs + authorizer:redisTimeoutMs",
            `a worst case of ${sum} ms per decision (${REDIS_ROUND_TRIPS} Redis round trips x authorizer:redisTimeoutMs ${redisMs} ms + threescale:timeoutMs ${threescaleMs} ms` +
            `${jwksMs > 0 ? ` + JWKS fetch ${jwksMs} ms` : ""} + secrets read at cold start ${SECRETS_TIMEOUT_MS} ms + usage nudge ${NUDGE_WAIT_MS} ms)`,
            `at most ${limit} ms, so the authorizer answers inside its ${AUTHORIZER_TIMEOUT_SECONDS} s Lambda timeout with ${AUTHORIZER_TIMEOUT_MARGIN_MS} ms left for a cold start; lower either key`);
    }
}

/** Size of Lambda environment variables as AWS counts them: names and values, in bytes. */
export function environmentBytes(environment: Record<string, string>): number {
    return Object.entries(environment).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
}

/** The handlers' settings a slot's config decides; connections are added where they are known. */
export function handlerSettings(config: Pick<AuthorizerSlot, "slot" | "authorizer">): Omit<AuthorizerSettings, "threescale" | "redis" | "usageTopicArn"> {
    const a = config.authorizer;
    return {
        tokenPattern: a.tokenPattern,
        cacheTtlSeconds: a.cacheTtlSeconds,
        negativeTtlSeconds: a.negativeTtlSeconds,
        staleTtlSeconds: a.staleTtlSeconds,
        failureMode: a.failureMode,
        planRoutes: a.planRoutes,
        defaultRoutes: a.defaultRoutes,
        usageWindowSeconds: a.reportingWindowSeconds,
        credentials: a.credentials,
        jwt: a.jwt,
        stage: config.slot,
    };
}

