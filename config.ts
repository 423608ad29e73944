// All configuration of a slot, read and validated in one place, up front.
// Every problem is collected, so one run reports every bad key at once with what it got
// and what it expected; nothing is created until the whole config is valid.
import * as pulumi from "@pulumi/pulumi";
import { checkSync as checkBacktracking } from "recheck";
import { CREDENTIAL_KINDS, CREDENTIAL_LOCATIONS, CredentialSource } from "./handlers/credentials";
import type { JwtSettings } from "./handlers/jwt";
import { serviceName } from "./handlers/metrics";
import { AuthorizerSettings, FAILURE_MODES, NUDGE_WAIT_MS, functionEnvironment, isPlanRoutes, isRouteList } from "./handlers/settings";
import { GATE_OUTCOMES, RING_EVENT_KINDS, RingHistoryEntry } from "./outputs";

export type LogLevel = "OFF" | "ERROR" | "INFO";
const LOG_LEVELS: readonly LogLevel[] = ["OFF", "ERROR", "INFO"];
const CACHE_CLUSTER_SIZES = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"] as const;
export type CacheClusterSize = (typeof CACHE_CLUSTER_SIZES)[number];

export interface GatewayConfig {
    logLevel: LogLevel;
    metrics: boolean;
    caching: boolean;
    cacheClusterSize: CacheClusterSize;
    /** Requests per second, steady state. */
    rateLimit: number;
    /** Requests admitted at once above the steady rate. */
    burstLimit: number;
    /** Stage variables naming backend hosts (edxapp_host, discovery_host, ...). */
    hosts: Record<string, string>;
    /** Path of the OpenAPI document, relative to the project. */
    specPath: string;
    /** URL prefix of remote `$ref`s to the local folder (relative to the project) that mirrors it. */
    specMirrors: Record<string, string>;
    /** Operations served without the authorizer, as "METHOD /path" (ANY for x-amazon-apigateway-any-method). */
    publicRoutes: string[];
    /** Stage variables other than hosts the document uses (e.g. landing_page, a URL). */
    stageVariables: Record<string, string>;
    /** Media types API Gateway passes through as binary. */
    binaryMediaTypes: string[];
    /** Release id (stage variable `id`); defaults to one derived from the spec hash. */
    releaseId?: string;
}

export interface RingSettings {
    order: string[];
    primary: string;
    /** The live slot; set only on the primary, which owns the mapping. */
    live?: string;
    /** The slot live before the last flip, recorded by `ring flip` for `ring rollback`. */
    previousLive?: string;
    allowLiveUpdate: boolean;
    /** The ring's history (ring:history, written by the ring commands), its newest ring:historyLimit entries. */
    history: RingHistoryEntry[];
}

/** The smoke test's authorized probe: one request through the target slot's stage with the test key. */
export interface SmokeProbe {
    method: "GET" | "HEAD";
    /** Path below the stage URL, e.g. /discovery/v1/catalogs. */
    path: string;
}

/** How `ring flip` gates and watches a flip; read from the primary (or Pulumi.yaml). */
export interface FlipProcedure {
    /** Minutes `ring flip` watches the new live slot's alarms; 0 skips the watch. */
    bakeMinutes: number;
    smokeTest?: SmokeProbe;
    /** The test key the probe sends (a secret): plain here, because only the ring commands read it. */
    smokeTestKey?: string;
    /** Every recorded move of the live pointer, oldest first. */
    history: RingHistoryEntry[];
    /** How many history entries are kept. */
    historyLimit: number;
}

/** Thresholds of a slot's CloudWatch alarms (alarms:*). */
export interface AlarmThresholds {
    /** 5XX responses / requests above which the API alarm fires (0.05 = 5 %). */
    serverErrorRate: number;
    /** p99 latency, in milliseconds, above which the latency alarm fires. */
    latencyP99Ms: number;
    /** Authorizer faults per period (Lambda errors minus the tokens it refused on purpose) at which its alarm fires. */
    authorizerErrors: number;
    /** Authorizer throttles per period at which its alarm fires. */
    authorizerThrottles: number;
    /** Messages in the slot's reporter dead-letter queue at which its alarm fires. */
    deadLetterMessages: number;
    /** Requests per period below which the rate and latency alarms stay quiet (too few to judge). */
    minRequests: number;
    periodSeconds: number;
    evaluationPeriods: number;
    /** Breaching periods among evaluationPeriods that fire an alarm. */
    datapointsToAlarm: number;
    /** SNS topic notified when an alarm fires or clears; none when unset. */
    actionsTopicArn?: string;
}

export interface DomainConfig {
    name: string;
    /** Base path of the mapping; "" is API Gateway's `(none)`. */
    basePath: string;
    /** When set, the program creates the custom domain with this regional ACM certificate. */
    certificateArn?: string;
    /** With certificateArn: the Route 53 zone that gets the alias record. */
    hostedZoneId?: string;
}

export interface ThreescaleConfig {
    serviceId: string;
    backendUrl: string;
    serviceToken: pulumi.Output<string>;
    timeoutMs: number;
}

export interface CacheConfig {
    engine: "redis" | "valkey";
    engineVersion: string;
    nodeType: string;
    /** Cache nodes (primary + replicas); automatic failover needs 2 or more. */
    nodes: number;
    authToken: pulumi.Output<string>;
}

export interface NetworkConfig {
    cidrBlock: string;
    availabilityZones: number;
}

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
}

export interface SlotConfig {
    project: string;
    /** This stack's slot name. */
    slot: string;
    isPrimary: boolean;
    ring: RingSettings;
    gateway: GatewayConfig;
    threescale: ThreescaleConfig;
    authorizer: AuthorizerConfig;
    alarms: AlarmThresholds;
    /** Primary only. */
    domain?: DomainConfig;
    /** Primary only. */
    cache?: CacheConfig;
    /** Primary only. */
    network?: NetworkConfig;
}

/** One bad key: which, what it got, what was expected. */
export interface ConfigProblem {
    key: string;
    got: string;
    expected: string;
}

export class ConfigError extends Error {
    constructor(readonly stack: string, readonly problems: ConfigProblem[]) {
        super(`stack "${stack}" has ${problems.length} invalid config value${problems.length === 1 ? "" : "s"}:\n` +
            problems.map((p) => `  - ${p.key}: got ${p.got}; expected ${p.expected}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** Where raw config comes from: the Pulumi runtime in a deployment, a plain map in tests. */
export interface ConfigSource {
    project: string;
    stack: string;
    /** Raw value as Pulumi stores it (objects and lists as JSON text). */
    get(key: string): string | undefined;
    isSecret(key: string): boolean;
    /** Every key present, when the source can list them (enables typo detection). */
    keys?(): string[];
}

/** Config keys whose values must be Pulumi secrets. */
export const SECRET_KEYS = ["threescale:serviceToken", "cache:authToken"] as const;

/** Every key the program reads, for typo detection. */
export const KNOWN_KEYS: readonly string[] = [
    "ring:order", "ring:primary", "ring:live", "ring:previousLive", "ring:allowLiveUpdate",
    "ring:bakeMinutes", "ring:smokeTest", "ring:smokeTestKey", "ring:history", "ring:historyLimit",
    "alarms:serverErrorRate", "alarms:latencyP99Ms", "alarms:authorizerErrors", "alarms:authorizerThrottles",
    "alarms:deadLetterMessages", "alarms:minRequests", "alarms:periodSeconds", "alarms:evaluationPeriods",
    "alarms:datapointsToAlarm", "alarms:actionsTopicArn",
    "gateway:logLevel", "gateway:metrics", "gateway:caching", "gateway:cacheClusterSize", "gateway:rateLimit",
    "gateway:burstLimit", "gateway:hosts", "gateway:spec", "gateway:releaseId",
    "gateway:specMirrors", "gateway:publicRoutes", "gateway:stageVariables", "gateway:binaryMediaTypes",
    "domain:name", "domain:basePath", "domain:certificateArn", "domain:hostedZoneId",
    "threescale:serviceId", "threescale:serviceToken", "threescale:backendUrl", "threescale:timeoutMs",
    "cache:engine", "cache:engineVersion", "cache:nodeType", "cache:nodes", "cache:authToken",
    "network:cidrBlock", "network:availabilityZones",
    "authorizer:credentials", "authorizer:credentialsLocation", "authorizer:identityHeader", "authorizer:queryParameter",
    "authorizer:appIdName", "authorizer:appKeyName",
    "authorizer:jwksUrl", "authorizer:jwtIssuer", "authorizer:jwtAudience", "authorizer:jwtAppClaim",
    "authorizer:tokenPattern", "authorizer:cacheTtlSeconds",
    "authorizer:negativeTtlSeconds", "authorizer:staleTtlSeconds", "authorizer:failureMode",
    "authorizer:planRoutes", "authorizer:defaultRoutes", "authorizer:reportingWindowSeconds",
    "authorizer:resultTtlSeconds", "authorizer:redisTimeoutMs", "authorizer:flushSchedule",
];
const OWNED_NAMESPACES = ["ring", "gateway", "domain", "threescale", "cache", "network", "authorizer", "alarms"];
/** Namespaces whose resources the primary slot owns; no other slot may set them. */
const PRIMARY_NAMESPACES = ["domain", "cache", "network"];

// Stage variable rules from API Gateway: names [A-Za-z0-9_], values [A-Za-z0-9-._~:/?#&=,]{1,2048}.
const STAGE_VARIABLE_NAME = /^[A-Za-z0-9_]+$/;
const STAGE_VARIABLE_VALUE = /^[A-Za-z0-9\-._~:/?#&=,]{1,2048}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** A backend host as integration URIs embed it (`https://${stageVariables.x}/...`): a DNS name, optionally :port. */
const BACKEND_HOST = /^(?=[^:]{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+(:([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;
/** Plain decimal numbers: no hex, exponent, sign, padding or empty string. */
const DECIMAL = /^\d+(\.\d+)?$/;
/** ElastiCache's engine versions for node-based replication groups (AWS ElastiCache user guide, "Supported engines and versions"). */
export const ENGINE_VERSIONS = {
    redis: ["4.0.10", "5.0.6", "6.0", "6.2", "7.0", "7.1"],
    valkey: ["7.2", "8.0", "8.1", "8.2", "9.0", "9.1"],
} as const;
/** AWS Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
// "GET /discovery/v1/catalogs", "ANY /{proxy+}": an operation as the preview lists it.
const PUBLIC_ROUTE = /^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|ANY) \/\S*$/;
// type/subtype, wildcards allowed (API Gateway's binaryMediaTypes, e.g. image/*, */*).
const MEDIA_TYPE = /^[A-Za-z0-9*!#$&^_.+-]+\/[A-Za-z0-9*!#$&^_.+-]+$/;
// A URL prefix that ends at a path segment, so a mirror never matches half a segment.
const MIRROR_PREFIX = /^https?:\/\/[^\s/]+\/(\S*\/)?$/;
const BASE_PATH = /^[A-Za-z0-9._-]+$/;
// ElastiCache AUTH token: 16-128 printable ASCII characters, none of space, ", / or @.
const AUTH_TOKEN = /^[!#-.0-?A-~]{16,128}$/;

/** A quoted rendering of a raw value for messages. */
function shown(raw: string): string {
    return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
}

/** Reads and checks keys, collecting every problem instead of stopping at the first. */
class Reader {
    readonly problems: ConfigProblem[] = [];
    constructor(private readonly source: ConfigSource) {}

    problem(key: string, got: string, expected: string): void {
        this.problems.push({ key, got, expected });
    }

    raw(key: string): string | undefined {
        const value = this.source.get(key);
        return value === undefined || value === "" ? undefined : value;
    }

    string(key: string, fallback: string, pattern?: RegExp, expected?: string): string;
    string(key: string, fallback: undefined, pattern?: RegExp, expected?: string): string | undefined;
    string(key: string, fallback: string | undefined, pattern?: RegExp, expected = "a non-empty string"): string | undefined {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if (pattern && !pattern.test(raw)) {
            this.problem(key, shown(raw), expected);
            return fallback;
        }
        return raw;
    }

    required(key: string, pattern: RegExp, expected: string, why: string): string {
        const raw = this.raw(key);
        if (raw === undefined) {
            this.problem(key, "nothing", `${expected} (${why}; set it with \`pulumi config set ${key} <value>\`)`);
            return "";
        }
        return this.string(key, "", pattern, expected);
    }

    boolean(key: string, fallback: boolean): boolean {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if (raw === "true" || raw === "false") return raw === "true";
        this.problem(key, shown(raw), "true or false");
        return fallback;
    }

    number(key: string, fallback: number, min: number, max: number, integer: boolean): number {
        // An empty value is a mistake here, not "unset": Number("") is 0, Number("0x10") 16, Number(" 5 ") 5.
        const raw = this.source.get(key);
        if (raw === undefined) return fallback;
        const value = DECIMAL.test(raw) ? Number(raw) : NaN;
        if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
            this.problem(key, shown(raw), `${integer ? "a whole number" : "a number"} from ${min} to ${max}, written in decimal`);
            return fallback;
        }
        return value;
    }

    /** One of `allowed`; `context` qualifies the list in the message (e.g. "for engine redis"). */
    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[], context?: string): T {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if ((allowed as readonly string[]).includes(raw)) return raw as T;
        this.problem(key, shown(raw), `one of ${allowed.join(", ")}${context ? ` ${context}` : ""}`);
        return fallback;
    }

    json<T>(key: string, fallback: T, check: (v: unknown) => v is T, expected: string): T {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            value = raw; // a bare string where structured config was expected
        }
        if (check(value)) return value;
        this.problem(key, shown(raw), expected);
        return fallback;
    }

    /** A secret: must be set as a Pulumi secret; its value is never echoed in messages. */
    secret(key: string, pattern: RegExp, expected: string): pulumi.Output<string> {
        const raw = this.raw(key);
        const setIt = `set it with \`pulumi config set --secret ${key} <value>\``;
        if (raw === undefined) {
            this.problem(key, "nothing", `${expected}, as a secret (${setIt})`);
        } else if (!this.source.isSecret(key)) {
            this.problem(key, "a plain-text value", `a secret (${setIt}, and remove the plain value)`);
        } else if (!pattern.test(raw)) {
            this.problem(key, `a secret of ${raw.length} characters`, expected);
        }
        return pulumi.secret(raw ?? "");
    }

    /** An optional secret: when set, it must be a Pulumi secret; its value is never echoed in messages. */
    optionalSecret(key: string, pattern: RegExp, expected: string): string | undefined {
        const raw = this.raw(key);
        if (raw === undefined) return undefined;
        if (!this.source.isSecret(key)) {
            this.problem(key, "a plain-text value", `a secret (set it with \`pulumi config set --secret ${key} <value>\`, and remove the plain value)`);
            return undefined;
        }
        if (!pattern.test(raw)) {
            this.problem(key, `a secret of ${raw.length} characters`, expected);
            return undefined;
        }
        return raw;
    }
}

function isHistoryEntry(value: unknown): value is RingHistoryEntry {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const e = value as Record<string, unknown>;
    const text = (v: unknown) => typeof v === "string" && v !== "";
    const optionalText = (v: unknown) => v === undefined || typeof v === "string";
    return text(e.at) && !Number.isNaN(Date.parse(String(e.at))) &&
        (RING_EVENT_KINDS as readonly unknown[]).includes(e.kind) &&
        (e.from === null || text(e.from)) && text(e.to) &&
        optionalText(e.fromRelease) && optionalText(e.toRelease) &&
        typeof e.by === "string" && typeof e.why === "string" &&
        (GATE_OUTCOMES as readonly unknown[]).includes(e.gate);
}

function isHistory(value: unknown): value is RingHistoryEntry[] {
    return Array.isArray(value) && value.every(isHistoryEntry);
}

const SMOKE_TEST = /^(?:(GET|HEAD) )?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?)$/;

/** The flip procedure's keys (ring:bakeMinutes, ring:smokeTest, ring:smokeTestKey, ring:history, ring:historyLimit). */
function flipProcedure(r: Reader): FlipProcedure {
    let smokeTest: SmokeProbe | undefined;
    const probe = r.string("ring:smokeTest", undefined, SMOKE_TEST, "a request through the slot's stage, e.g. \"GET /discovery/v1/catalogs\" (GET or HEAD, a path starting with /)");
    if (probe !== undefined) {
        const m = SMOKE_TEST.exec(probe) as RegExpExecArray;
        smokeTest = { method: (m[1] ?? "GET") as SmokeProbe["method"], path: m[2] };
    }
    const smokeTestKey = r.optionalSecret("ring:smokeTestKey", /^\S{1,512}$/, "an API key the slot's authorizer accepts (1-512 characters, no spaces)");
    if (smokeTest && r.raw("ring:smokeTestKey") === undefined) {
        r.problem("ring:smokeTestKey", "nothing", "the test key the smoke test sends with ring:smokeTest, as a secret (set it with `pulumi config set --secret ring:smokeTestKey <key>`)");
    }
    if (!smokeTest && r.raw("ring:smokeTestKey") !== undefined) {
        r.problem("ring:smokeTest", "nothing", "the request the test key is sent with, e.g. \"GET /discovery/v1/catalogs\" (or remove ring:smokeTestKey)");
    }
    return {
        bakeMinutes: r.number("ring:bakeMinutes", 10, 0, 180, false),
        smokeTest,
        smokeTestKey,
        history: r.json("ring:history", [], isHistory,
            "a list of history entries as the ring commands write them ({at, kind, from, to, by, why, gate}); fix or remove it with `pulumi config rm ring:history`"),
        historyLimit: r.number("ring:historyLimit", 20, 1, 200, true),
    };
}

/** What the ring commands read from a stack's config, validated with the program's rules. */
export interface RingCommandConfig {
    procedure: FlipProcedure;
    /** The custom domain whose mapping is the live pointer (set on the primary). */
    domain?: Pick<DomainConfig, "name" | "basePath">;
    /** Where the slot's authorizer reads the caller's credential. */
    credentials: CredentialSource;
}

/** Reads the keys the ring commands use from one stack's config; throws a ConfigError naming every bad one. */
export function readRingCommandConfig(source: ConfigSource): RingCommandConfig {
    const r = new Reader(source);
    const procedure = flipProcedure(r);
    const name = r.string("domain:name", undefined, HOSTNAME, "a lower-case DNS name, e.g. api.example.edu");
    const basePath = r.string("domain:basePath", "", BASE_PATH, "a base path of letters, digits, . _ and - (leave unset for the root)");
    // The program's own reading, so the probe uses the same defaults (X-Api-Key) as the deployed authorizer.
    const { credentials } = credentialConfig(r);
    if (r.problems.length > 0) throw new ConfigError(source.stack, r.problems);
    return { procedure, domain: name === undefined ? undefined : { name, basePath }, credentials };
}

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

function alarmThresholds(r: Reader): AlarmThresholds {
    const evaluationPeriods = r.number("alarms:evaluationPeriods", 3, 1, 60, true);
    const datapointsToAlarm = r.number("alarms:datapointsToAlarm", Math.min(2, evaluationPeriods), 1, 60, true);
    if (datapointsToAlarm > evaluationPeriods) {
        r.problem("alarms:datapointsToAlarm", String(datapointsToAlarm), `at most alarms:evaluationPeriods (${evaluationPeriods})`);
    }
    const periodSeconds = r.number("alarms:periodSeconds", 60, 60, 3600, true);
    if (periodSeconds % 60 !== 0) r.problem("alarms:periodSeconds", String(periodSeconds), "a multiple of 60 (API Gateway and Lambda publish one-minute metrics)");
    return {
        serverErrorRate: r.number("alarms:serverErrorRate", 0.05, 0.001, 1, false),
        latencyP99Ms: r.number("alarms:latencyP99Ms", 3000, 10, 29000, true),
        authorizerErrors: r.number("alarms:authorizerErrors", 1, 1, 100000, true),
        authorizerThrottles: r.number("alarms:authorizerThrottles", 1, 1, 100000, true),
        deadLetterMessages: r.number("alarms:deadLetterMessages", 1, 1, 100000, true),
        minRequests: r.number("alarms:minRequests", 20, 0, 1000000, true),
        periodSeconds,
        evaluationPeriods,
        datapointsToAlarm,
        actionsTopicArn: r.string("alarms:actionsTopicArn", undefined, SNS_TOPIC_ARN, "an SNS topic ARN, e.g. arn:aws:sns:us-east-1:123456789012:ops"),
    };
}

function isStringList(value: unknown): value is string[] {
    return isRouteList(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
    return typeof value === "object" && value !== null && !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "string");
}

/** Validates the whole configuration of one slot; throws a ConfigError listing every problem. */
export function readSlotConfig(source: ConfigSource): SlotConfig {
    const r = new Reader(source);
    const slot = source.stack;

    // Typos in our own namespaces would otherwise be silently ignored.
    for (const key of source.keys?.() ?? []) {
        const [namespace, name] = key.split(":");
        if (OWNED_NAMESPACES.includes(namespace) && !KNOWN_KEYS.includes(key)) {
            r.problem(key, "an unknown key", `one of the documented keys (${KNOWN_KEYS.filter((k) => k.startsWith(`${namespace}:`)).join(", ")})`);
            continue;
        }
        const meant = OWNED_NAMESPACES.find((owned) => owned !== namespace && editDistance(owned, namespace) <= 2);
        if (meant !== undefined) {
            const intended = `${meant}:${name}`;
            r.problem(key, "a key in an unknown namespace", KNOWN_KEYS.includes(intended) ? intended : `a key of namespace ${meant}:`);
        }
    }

    const order = r.json("ring:order", ["red", "black"], isStringList, "a non-empty list of slot (stack) names, e.g. [red, black]");
    const slotsOk = order.length > 0 && new Set(order).size === order.length && order.every((s) => /^[A-Za-z0-9_.-]+$/.test(s));
    if (!slotsOk) r.problem("ring:order", shown(JSON.stringify(order)), "a non-empty list of distinct stack names");
    const inRing = (key: string, fallback: string | undefined): string | undefined => {
        const value = r.string(key, undefined);
        if (value !== undefined && !order.includes(value)) {
            r.problem(key, shown(value), `a slot of ring:order (${order.join(", ")})`);
            return fallback;
        }
        return value ?? fallback;
    };
    const primary = inRing("ring:primary", order[0]) ?? order[0];
    if (!order.includes(slot)) {
        r.problem("ring:order", shown(JSON.stringify(order)), `a list that contains this stack "${slot}" ` +
            `(add it to ring:order in Pulumi.yaml, or select a stack of the ring: ${order.join(", ")})`);
    }
    const isPrimary = slot === primary;
    const live = inRing("ring:live", undefined);
    if (isPrimary && live === undefined && r.raw("ring:live") === undefined) {
        r.problem("ring:live", "nothing", `the live slot, one of ${order.join(", ")} (set it with \`pulumi config set ring:live ${primary}\`)`);
    }
    if (!isPrimary && r.raw("ring:live") !== undefined) {
        r.problem("ring:live", shown(r.raw("ring:live") ?? ""), `no value on "${slot}": the live slot is set on the primary "${primary}" only`);
    }
    const procedure = flipProcedure(r);
    for (const key of ["ring:history", "ring:smokeTestKey"]) {
        if (!isPrimary && r.raw(key) !== undefined) {
            r.problem(key, "a value", `no value on "${slot}": the ring commands read ${key} from the primary "${primary}" only`);
        }
    }
    const ring: RingSettings = {
        order,
        primary,
        live: isPrimary ? live ?? primary : undefined,
        previousLive: inRing("ring:previousLive", undefined),
        allowLiveUpdate: r.boolean("ring:allowLiveUpdate", false),
        history: procedure.history.slice(-procedure.historyLimit),
    };

    const hosts = r.json("gateway:hosts", {}, isStringMap,
        "a map of stage variable names to host names, e.g. {edxapp_host: courses.example.edu, discovery_host: discovery.example.edu}");
    if (r.raw("gateway:hosts") === undefined) {
        r.problem("gateway:hosts", "nothing", "a map of stage variables to backend hosts, e.g. {edxapp_host: ..., discovery_host: ...}");
    }
    for (const [name, value] of Object.entries(hosts)) {
        if (!STAGE_VARIABLE_NAME.test(name)) r.problem(`gateway:hosts.${name}`, shown(name), "a stage variable name of letters, digits and _");
        if (name === "id") r.problem("gateway:hosts.id", shown(value), "no `id` entry: the stage variable `id` is the release id (gateway:releaseId)");
        if (!BACKEND_HOST.test(value)) {
            r.problem(`gateway:hosts.${name}`, shown(value), "a host name, optionally with :port, e.g. courses.example.edu " +
                "(no scheme, path, query, fragment or credentials: the document's integration URIs add those)");
        }
    }
    const stageVariables = r.json("gateway:stageVariables", {}, isStringMap,
        "a map of stage variable names to values, e.g. {landing_page: https://www.example.edu/api}");
    for (const [name, value] of Object.entries(stageVariables)) {
        const key = `gateway:stageVariables.${name}`;
        if (!STAGE_VARIABLE_NAME.test(name)) r.problem(key, shown(name), "a stage variable name of letters, digits and _");
        if (name === "id") r.problem(key, shown(value), "no `id` entry: the stage variable `id` is the release id (gateway:releaseId)");
        if (name in hosts) r.problem(key, shown(value), `no entry for ${name}, which gateway:hosts already sets (one source per stage variable)`);
        if (!STAGE_VARIABLE_VALUE.test(value)) r.problem(key, shown(value), "a value of the characters API Gateway allows in stage variables (A-Z a-z 0-9 - . _ ~ : / ? # & = ,), 1-2048 long");
    }
    const specMirrors = r.json("gateway:specMirrors", {}, isStringMap,
        "a map of URL prefixes to local folders, e.g. {\"https://raw.githubusercontent.com/\": \"vendor/raw.githubusercontent.com/\"}");
    for (const [prefix, folder] of Object.entries(specMirrors)) {
        if (!MIRROR_PREFIX.test(prefix)) r.problem(`gateway:specMirrors.${prefix}`, shown(prefix), "an http(s) URL prefix ending with / (e.g. https://raw.githubusercontent.com/)");
        if (folder.trim() === "") r.problem(`gateway:specMirrors.${prefix}`, shown(folder), "a folder, relative to the project, that mirrors the URLs under the prefix");
    }
    const publicRoutes = r.json("gateway:publicRoutes", [], isStringList, "a list of operations, e.g. [\"GET /heartbeat\", \"ANY /registrar/login\"]");
    for (const route of publicRoutes) {
        if (!PUBLIC_ROUTE.test(route)) r.problem("gateway:publicRoutes", shown(route), "an operation as METHOD /path (GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH or ANY, then the path as the document writes it)");
    }
    const binaryMediaTypes = r.json("gateway:binaryMediaTypes", ["multipart/form-data"], isStringList, "a list of media types, e.g. [multipart/form-data, image/*]");
    for (const type of binaryMediaTypes) {
        if (!MEDIA_TYPE.test(type)) r.problem("gateway:binaryMediaTypes", shown(type), "a media type such as multipart/form-data or image/*");
    }
    const rateLimit = r.number("gateway:rateLimit", 500, 1, 10000, false);
    const burstLimit = r.number("gateway:burstLimit", 1000, 1, 5000, true);
    if (burstLimit < rateLimit) r.problem("gateway:burstLimit", String(burstLimit), `a burst no smaller than gateway:rateLimit (${rateLimit})`);
    const gateway: GatewayConfig = {
        logLevel: r.oneOf("gateway:logLevel", "OFF", LOG_LEVELS),
        metrics: r.boolean("gateway:metrics", false),
        caching: r.boolean("gateway:caching", false),
        cacheClusterSize: r.oneOf("gateway:cacheClusterSize", "0.5", CACHE_CLUSTER_SIZES),
        rateLimit,
        burstLimit,
        hosts,
        specPath: r.string("gateway:spec", "api/openapi.yaml", /\.(ya?ml|json)$/, "a path to a .yaml, .yml or .json OpenAPI document"),
        specMirrors,
        publicRoutes,
        stageVariables,
        binaryMediaTypes,
        releaseId: r.string("gateway:releaseId", undefined, STAGE_VARIABLE_VALUE, "a release tag of A-Z a-z 0-9 - . _ ~ : / ? # & = ,"),
    };

    const threescale: ThreescaleConfig = {
        serviceId: r.required("threescale:serviceId", /^[A-Za-z0-9_-]{1,64}$/, "the 3scale service id (letters, digits, - and _)", "the authorizer checks keys against this service"),
        backendUrl: backendUrl(r),
        serviceToken: r.secret("threescale:serviceToken", /^\S{8,256}$/, "a 3scale service token (8-256 characters, no spaces)"),
        timeoutMs: r.number("threescale:timeoutMs", 2000, 100, 10000, true),
    };

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
    };
    for (const [plan, routes] of Object.entries(authorizer.planRoutes)) {
        for (const route of routes) checkRoute(r, `authorizer:planRoutes.${plan}`, route);
    }
    for (const route of authorizer.defaultRoutes) checkRoute(r, "authorizer:defaultRoutes", route);

    let domain: DomainConfig | undefined;
    let cache: CacheConfig | undefined;
    let network: NetworkConfig | undefined;
    if (isPrimary) {
        domain = {
            name: r.required("domain:name", HOSTNAME, "a lower-case DNS name, e.g. api.example.edu", "the primary maps the custom domain to the live slot"),
            basePath: r.string("domain:basePath", "", BASE_PATH, "a base path of letters, digits, . _ and - (leave unset for the root)"),
            certificateArn: r.string("domain:certificateArn", undefined, /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, "an ACM certificate ARN"),
            hostedZoneId: r.string("domain:hostedZoneId", undefined, /^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ"),
        };
        if (domain.hostedZoneId && !domain.certificateArn) {
            r.problem("domain:hostedZoneId", shown(domain.hostedZoneId), "to be set together with domain:certificateArn (the alias record points at a domain the program creates)");
        }
        const nodes = r.number("cache:nodes", 2, 1, 6, true);
        const engine = r.oneOf("cache:engine", "redis", ["redis", "valkey"] as const);
        cache = {
            engine,
            engineVersion: r.oneOf("cache:engineVersion", engine === "redis" ? "7.1" : "8.0", ENGINE_VERSIONS[engine], `for engine ${engine}`),
            nodeType: r.string("cache:nodeType", "cache.t4g.micro", /^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type such as cache.t4g.micro"),
            nodes,
            authToken: r.secret("cache:authToken", AUTH_TOKEN, "16-128 printable ASCII characters without spaces, \", / or @ (ElastiCache's AUTH token rules)"),
        };
        network = {
            cidrBlock: networkCidr(r),
            availabilityZones: r.number("network:availabilityZones", 2, 2, 3, true),
        };
    } else {
        const primaryOnly = (key: string): boolean => PRIMARY_NAMESPACES.includes(key.split(":")[0]);
        for (const key of (source.keys?.() ?? KNOWN_KEYS).filter(primaryOnly)) {
            if (r.raw(key) !== undefined) {
                r.problem(key, "a value", `no value on "${slot}": ${key.split(":")[0]} belongs to the primary slot "${primary}"`);
            }
        }
    }

    const alarms = alarmThresholds(r);
    const config: SlotConfig = { project: source.project, slot, isPrimary, ring, gateway, threescale, authorizer, alarms, domain, cache, network };
    checkEnvironmentSize(r, config);
    checkAuthorizerBounds(r, config);
    if (r.problems.length > 0) throw new ConfigError(slot, r.problems);
    return config;
}

function checkRoute(r: Reader, key: string, route: string): void {
    // "*", or an optional method and a path pattern: discovery/*, GET enterprise/v1/* (no leading /).
    const pattern = /^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?[A-Za-z0-9._~{}+-]+(\/[A-Za-z0-9._~{}+-]+)*(\/\*)?$/;
    if (route !== "*" && !pattern.test(route)) {
        r.problem(key, shown(route), "a route pattern: \"*\", or a path such as discovery/* or GET enterprise/v1/* (no leading /)");
    }
}

/** A query parameter name API Gateway can map (method.request.querystring.<name>). */
const QUERY_NAME = /^[A-Za-z0-9_.~-]+$/;

/** Where callers send their credential (APIcast's credential settings) and, for JWTs, how they are verified. */
function credentialConfig(r: Reader): { credentials: CredentialSource; jwt?: JwtSettings } {
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
    const jwtKeys = ["authorizer:jwksUrl", "authorizer:jwtIssuer", "authorizer:jwtAudience", "authorizer:jwtAppClaim"];
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
            audience: r.required("authorizer:jwtAudience", /^\S{1,512}$/, "the audience the tokens carry in aud", why),
            appClaim: r.required("authorizer:jwtAppClaim", /^[A-Za-z0-9_.:-]{1,128}$/, "the claim naming the 3scale application, e.g. client_id or preferred_username", why),
            timeoutMs: JWKS_TIMEOUT_MS,
            refreshCooldownMs: JWKS_REFRESH_COOLDOWN_MS,
        },
    };
}

/** Bound on one JWKS fetch, and least time between refetches for unknown kids. */
export const JWKS_TIMEOUT_MS = 1000;
export const JWKS_REFRESH_COOLDOWN_MS = 30_000;

/** The 3scale Service Management API's base URL: https, a host and optional port, nothing else. */
function backendUrl(r: Reader): string {
    const key = "threescale:backendUrl";
    const fallback = "https://su1.3scale.net";
    const expected = "an https:// URL of the Service Management API with no path, query or fragment, e.g. https://su1.3scale.net";
    const raw = r.raw(key);
    if (raw === undefined) return fallback;
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        r.problem(key, shown(raw), expected);
        return fallback;
    }
    if (url.username !== "" || url.password !== "") {
        // The URL ends up in the Lambda environment and in logs; the credential is threescale:serviceToken.
        r.problem(key, "a URL with credentials", `${expected}, with no user name or password (the service token is threescale:serviceToken, a secret)`);
        return fallback;
    }
    if (url.protocol !== "https:" || !/^\/?$/.test(url.pathname) || url.search !== "" || url.hash !== "" || /[\s]/.test(raw)) {
        r.problem(key, shown(raw), expected);
        return fallback;
    }
    return raw;
}

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

/** The VPC's block: an IPv4 network address (no host bits set) from /16 to /24. */
function networkCidr(r: Reader): string {
    const key = "network:cidrBlock";
    const fallback = "10.40.0.0/16";
    const raw = r.raw(key);
    if (raw === undefined) return fallback;
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw);
    const octets = match?.slice(1, 5).map(Number) ?? [];
    const prefix = Number(match?.[5]);
    if (!match || octets.some((o, i) => o > 255 || String(o) !== match[i + 1]) || prefix < 16 || prefix > 24) {
        r.problem(key, shown(raw), "an IPv4 network address from /16 to /24, e.g. 10.40.0.0/16");
        return fallback;
    }
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const network = address - (address % 2 ** (32 - prefix));
    if (network !== address) {
        const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
        r.problem(key, shown(raw), `the network address ${dotted}/${prefix} (host bits must be zero)`);
        return fallback;
    }
    return raw;
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
    try {
        new RegExp(pattern);
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
    return pattern;
}

/** Damerau-free Levenshtein distance, for telling a namespace typo from a foreign namespace. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

/** The longest values the deploy-time parts of the Lambda environment take (ElastiCache endpoint, topic ARN). */
const DEPLOY_TIME_VALUE = { redisHost: "r".repeat(128), topicArn: "a".repeat(256) };

/** AWS refuses a function whose environment variables (names and values) exceed 4 KB. */
function checkEnvironmentSize(r: Reader, config: SlotConfig): void {
    const secretLength = (key: string): number => r.raw(key)?.length ?? 0;
    const environment = functionEnvironment({
        ...handlerSettings(config),
        threescale: { ...config.threescale, serviceToken: "s".repeat(secretLength("threescale:serviceToken")) },
        redis: { host: DEPLOY_TIME_VALUE.redisHost, port: 65535, tls: true, authToken: "t".repeat(128), timeoutMs: config.authorizer.redisTimeoutMs },
        usageTopicArn: DEPLOY_TIME_VALUE.topicArn,
    }, serviceName(config.project, config.slot));
    const bytes = environmentBytes(environment);
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
        const planRoutes = Buffer.byteLength(environment.PLAN_ROUTES ?? "");
        r.problem("authorizer:planRoutes", `a Lambda environment of ${bytes} bytes (authorizer:planRoutes ${planRoutes}, ` +
            `authorizer:defaultRoutes ${Buffer.byteLength(environment.DEFAULT_ROUTES ?? "")}, authorizer:tokenPattern ${Buffer.byteLength(environment.TOKEN_PATTERN ?? "")})`,
        `at most ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes of environment variables (AWS Lambda's limit): shorten the route lists, e.g. with patterns such as discovery/*`);
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
function checkAuthorizerBounds(r: Reader, config: SlotConfig): void {
    const redisMs = config.authorizer.redisTimeoutMs;
    const threescaleMs = config.threescale.timeoutMs;
    const jwksMs = config.authorizer.jwt?.timeoutMs ?? 0;
    const sum = REDIS_ROUND_TRIPS * redisMs + threescaleMs + jwksMs + NUDGE_WAIT_MS;
    const limit = AUTHORIZER_TIMEOUT_SECONDS * 1000 - AUTHORIZER_TIMEOUT_MARGIN_MS;
    if (sum > limit) {
        r.problem("threescale:timeoutMs + authorizer:redisTimeoutMs",
            `a worst case of ${sum} ms per decision (${REDIS_ROUND_TRIPS} Redis round trips x authorizer:redisTimeoutMs ${redisMs} ms + threescale:timeoutMs ${threescaleMs} ms` +
            `${jwksMs > 0 ? ` + JWKS fetch ${jwksMs} ms` : ""} + usage nudge ${NUDGE_WAIT_MS} ms)`,
            `at most ${limit} ms, so the authorizer answers inside its ${AUTHORIZER_TIMEOUT_SECONDS} s Lambda timeout with ${AUTHORIZER_TIMEOUT_MARGIN_MS} ms left for a cold start; lower either key`);
    }
}

/** Size of Lambda environment variables as AWS counts them: names and values, in bytes. */
export function environmentBytes(environment: Record<string, string>): number {
    return Object.entries(environment).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
}

/** The handlers' settings a slot's config decides; connections are added where they are known. */
export function handlerSettings(config: SlotConfig): Omit<AuthorizerSettings, "threescale" | "redis" | "usageTopicArn"> {
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

/** ConfigSource over the Pulumi runtime's configuration of the running stack. */
export function runtimeConfigSource(): ConfigSource {
    const all = pulumi.runtime.allConfig();
    // isConfigSecret is exported by the runtime but marked internal in its typings.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    return {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        get: (key) => all[key],
        isSecret: (key) => runtime.isConfigSecret?.(key) ?? false,
        keys: () => Object.keys(all),
    };
}
