// cache:* (primary only): the ElastiCache replication group the authorizers share.
import type * as pulumi from "@pulumi/pulumi";
import { Reader } from "./reader";

export interface CacheConfig {
    engine: "redis" | "valkey";
    engineVersion: string;
    nodeType: string;
    /** Cache nodes (primary + replicas); automatic failover needs 2 or more. */
    nodes: number;
    authToken: pulumi.Output<string>;
}

export const CACHE_KEYS: readonly string[] = ["cache:engine", "cache:engineVersion", "cache:nodeType", "cache:nodes", "cache:authToken"];

/** ElastiCache's engine versions for node-based replication groups (AWS ElastiCache user guide, "Supported engines and versions"). */
export const ENGINE_VERSIONS = {
    redis: ["4.0.10", "5.0.6", "6.0", "6.2", "7.0", "7.1"],
    valkey: ["7.2", "8.0", "8.1", "8.2", "9.0", "9.1"],
} as const;
// ElastiCache AUTH token: 16-128 printable ASCII characters whose only specials are ! & # $ ^ < > -.
const AUTH_TOKEN = /^[A-Za-z0-9!&#$^<>-]{16,128}$/;

/** The cache:* keys of the primary. */
export function cacheConfig(r: Reader): CacheConfig {
    const nodes = r.number("cache:nodes", 2, 1, 6, true);
    const engine = r.oneOf("cache:engine", "redis", ["redis", "valkey"] as const);
    return {
        engine,
        engineVersion: r.oneOf("cache:engineVersion", engine === "redis" ? "7.1" : "8.0", ENGINE_VERSIONS[engine], `for engine ${engine}`),
        nodeType: r.string("cache:nodeType", "cache.t4g.micro", /^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type such as cache.t4g.micro"),
        nodes,
        authToken: r.secret("cache:authToken", AUTH_TOKEN, "16-128 letters, digits and ! & # $ ^ < > - (ElastiCache's AUTH token rules, CreateReplicationGroup AuthToken: the only special characters it takes)"),
    };
}
