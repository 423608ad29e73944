// All configuration of a slot, read and validated in one place, up front: this is the one reader, and
// config/ holds one module per namespace, each reading its keys through the same Reader.
// Every problem is collected, so one run reports every bad key at once with what it got
// and what it expected; nothing is created until the whole config is valid.
import * as pulumi from "@pulumi/pulumi";
import { ALARM_KEYS, AlarmThresholds, alarmThresholds } from "./config/alarms";
import { AUTHORIZER_KEYS, AuthorizerConfig, authorizerConfig, checkAuthorizerBounds, checkEnvironmentSize, checkSecretsExtensionRegion, credentialConfig } from "./config/authorizer";
import { CACHE_KEYS, CacheConfig, cacheConfig } from "./config/cache";
import { DOMAIN_KEYS, DomainConfig, domainConfig } from "./config/domain";
import { GATEWAY_KEYS, GatewayConfig, gatewayConfig } from "./config/gateway";
import { NETWORK_KEYS, NetworkConfig, networkConfig } from "./config/network";
import { ConfigError, ConfigSource, Reader } from "./config/reader";
import {
    LIVE_POINTER_RING_KEYS, LivePointerCommandConfig, MOVED_RING_KEYS, RING_KEYS, RingCommandConfig, RingSettings, flipProcedure, historyLimit, ringSettings,
} from "./config/ring";
import { LIVE_POINTER_PROJECT_SUFFIX } from "./outputs";
import { THREESCALE_KEYS, ThreescaleConfig, threescaleConfig } from "./config/threescale";

// The public face: what the program, the commands and the tests import from "./config".
export type { AlarmThresholds } from "./config/alarms";
export type { AuthorizerConfig } from "./config/authorizer";
export {
    AUTHORIZER_TIMEOUT_MARGIN_MS, AUTHORIZER_TIMEOUT_SECONDS, JWKS_REFRESH_COOLDOWN_MS, JWKS_TIMEOUT_MS,
    LAMBDA_ENVIRONMENT_LIMIT_BYTES, environmentBytes, handlerSettings, scheduleProblem,
} from "./config/authorizer";
export type { CacheConfig } from "./config/cache";
export { ENGINE_VERSIONS } from "./config/cache";
export type { DomainConfig } from "./config/domain";
export type { CacheClusterSize, GatewayConfig, LogLevel } from "./config/gateway";
export type { NetworkConfig } from "./config/network";
export type { ConfigProblem, ConfigSource } from "./config/reader";
export { ConfigError } from "./config/reader";
export type { FlipProcedure, LivePointerCommandConfig, RingCommandConfig, RingSettings, SmokeProbe } from "./config/ring";
export type { ThreescaleConfig } from "./config/threescale";

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
    cache?: CacheConfig;
    /** Primary only. */
    network?: NetworkConfig;
}

/** Config keys whose values must be Pulumi secrets. */
export const SECRET_KEYS = ["threescale:serviceToken", "cache:authToken"] as const;

/** Every key the program reads, for typo detection; each namespace's module declares its own. */
export const KNOWN_KEYS: readonly string[] = [
    ...RING_KEYS, ...ALARM_KEYS, ...GATEWAY_KEYS, ...THREESCALE_KEYS, ...CACHE_KEYS, ...NETWORK_KEYS, ...AUTHORIZER_KEYS,
];
/** Keys a slot refuses with where they went: the live pointer's (its config, or its state). */
const LIVE_POINTER_KEYS_ON_SLOTS: readonly string[] = [...MOVED_RING_KEYS, ...DOMAIN_KEYS];
const OWNED_NAMESPACES = ["ring", "gateway", "domain", "threescale", "cache", "network", "authorizer", "alarms"];
/** Namespaces whose resources the primary slot owns; no other slot may set them. */
const PRIMARY_NAMESPACES = ["cache", "network"];
/** The live pointer's own keys (its stack's config in live/). */
const LIVE_POINTER_KEYS: readonly string[] = [...DOMAIN_KEYS, ...LIVE_POINTER_RING_KEYS];

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

/**
 * Typos in our own namespaces would otherwise be silently ignored; `known` are the keys this program
 * reads, `owned` the namespaces it owns (other namespaces are other programs' and pass).
 */
function checkKeyNames(r: Reader, source: ConfigSource, known: readonly string[] = [...KNOWN_KEYS, ...LIVE_POINTER_KEYS_ON_SLOTS], owned: readonly string[] = OWNED_NAMESPACES): void {
    for (const key of source.keys?.() ?? []) {
        const [namespace, name] = key.split(":");
        if (owned.includes(namespace) && !known.includes(key)) {
            r.problem(key, "an unknown key", `one of the documented keys (${known.filter((k) => k.startsWith(`${namespace}:`)).join(", ")})`);
            continue;
        }
        const meant = owned.find((o) => o !== namespace && !OWNED_NAMESPACES.includes(namespace) && editDistance(o, namespace) <= 2);
        if (meant !== undefined) {
            const intended = `${meant}:${name}`;
            r.problem(key, "a key in an unknown namespace", known.includes(intended) ? intended : `a key of namespace ${meant}:`);
        }
    }
}

/** The namespaces only the primary sets: read there, refused on every other slot. domain:* is the live pointer's. */
function primaryConfig(r: Reader, source: ConfigSource, ring: RingSettings): Pick<SlotConfig, "cache" | "network"> {
    const slot = source.stack;
    for (const key of DOMAIN_KEYS) {
        if (r.raw(key) !== undefined) {
            r.problem(key, "a value", `no value on "${slot}": the custom domain belongs to the live pointer's stack (live/Pulumi.live.yaml), which owns its mapping; ` +
                `a ring deployed before the live pointer moves it with \`npm run ring -- migrate\` (README, "Moving a ring deployed before the live pointer")`);
        }
    }
    if (slot === ring.primary) {
        return { cache: cacheConfig(r), network: networkConfig(r) };
    }
    const primaryOnly = (key: string): boolean => PRIMARY_NAMESPACES.includes(key.split(":")[0]);
    for (const key of (source.keys?.() ?? KNOWN_KEYS).filter(primaryOnly)) {
        if (r.raw(key) !== undefined) {
            r.problem(key, "a value", `no value on "${slot}": ${key.split(":")[0]} belongs to the primary slot "${ring.primary}"`);
        }
    }
    return {};
}

/**
 * Validates the whole configuration of one slot; throws a ConfigError listing every problem. `env` is where
 * the AWS provider finds a region aws:region does not set.
 */
export function readSlotConfig(source: ConfigSource, env: NodeJS.ProcessEnv = process.env): SlotConfig {
    const r = new Reader(source);
    const slot = source.stack;
    checkKeyNames(r, source);
    // The order of the steps is the order of the problems in the error.
    const ring = ringSettings(r, slot);
    const isPrimary = slot === ring.primary;
    const gateway = gatewayConfig(r, isPrimary);
    const threescale = threescaleConfig(r);
    const authorizer = authorizerConfig(r);
    const { cache, network } = primaryConfig(r, source, ring);
    const alarms = alarmThresholds(r);
    const config: SlotConfig = { project: source.project, slot, isPrimary, ring, gateway, threescale, authorizer, alarms, cache, network };
    checkEnvironmentSize(r, config);
    checkAuthorizerBounds(r, config);
    checkSecretsExtensionRegion(r, config, env);
    if (r.problems.length > 0) throw new ConfigError(slot, r.problems);
    return config;
}

/** Reads the keys the ring commands use from one slot's config; throws a ConfigError naming every bad one. */
export function readRingCommandConfig(source: ConfigSource): RingCommandConfig {
    const r = new Reader(source);
    const procedure = flipProcedure(r);
    // The program's own reading, so the probe uses the same defaults (X-Api-Key) as the deployed authorizer.
    const { credentials } = credentialConfig(r);
    if (r.problems.length > 0) throw new ConfigError(source.stack, r.problems);
    return { procedure, credentials };
}

/** The live pointer's stack config: its domain, the history it keeps, and the slots' project it points into. */
export interface LivePointerConfig {
    project: string;
    stack: string;
    /** The project whose stacks are the slots: the live pointer's name without LIVE_POINTER_PROJECT_SUFFIX. */
    slotProject: string;
    domain: DomainConfig;
    historyLimit: number;
}

/** Validates the live pointer's stack config; throws a ConfigError listing every problem. */
export function readLivePointerConfig(source: ConfigSource, env: NodeJS.ProcessEnv = process.env): LivePointerConfig {
    const r = new Reader(source);
    checkKeyNames(r, source, [...LIVE_POINTER_KEYS, ...RING_KEYS], ["domain", "ring"]);
    for (const key of RING_KEYS) {
        if (r.raw(key) !== undefined) r.problem(key, "a value", `no value on the live pointer's stack: ${key} is the slots' (Pulumi.yaml or Pulumi.<slot>.yaml)`);
    }
    if (!source.project.endsWith(LIVE_POINTER_PROJECT_SUFFIX) || source.project === LIVE_POINTER_PROJECT_SUFFIX) {
        r.problem("name (live/Pulumi.yaml)", JSON.stringify(source.project), `the slots' project name with "${LIVE_POINTER_PROJECT_SUFFIX}" after it, e.g. api-ring${LIVE_POINTER_PROJECT_SUFFIX}: the slots read this stack by that name`);
    }
    const domain = domainConfig(r, env);
    const limit = historyLimit(r);
    if (r.problems.length > 0) throw new ConfigError(source.stack, r.problems);
    return { project: source.project, stack: source.stack, slotProject: source.project.slice(0, -LIVE_POINTER_PROJECT_SUFFIX.length), domain, historyLimit: limit };
}

/** Reads what the ring commands use of the live pointer's config (its domain and region); throws a ConfigError naming every bad key. */
export function readLivePointerCommandConfig(source: ConfigSource): LivePointerCommandConfig {
    const r = new Reader(source);
    const domain = domainConfig(r);
    if (r.problems.length > 0) throw new ConfigError(source.stack, r.problems);
    const region = source.get("aws:region");
    return { domain, region: region === undefined || region === "" ? undefined : region };
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
