// Redis key layout, in one place. Raw API keys never appear in a key or a value:
// decisions are addressed by sha256(token) (API keys are long random strings, so the
// digest cannot be reversed by guessing), usage records name the 3scale application
// id, or, only when 3scale did not send one, the key sealed with AES-256-GCM.
//
// All keys of a service are touched together by Lua scripts, so the cache must run with
// cluster mode disabled (one shard, as AuthCacheNetwork creates it).
import { createHash } from "crypto";

export function tokenHash(token: string): string {
    return createHash("sha256").update(token, "utf8").digest("hex");
}

export const keys = {
    /** Hash: the cached decision for one token (fields in decision-cache.ts). */
    decision: (serviceId: string, hash: string): string => `authz:v1:${serviceId}:${hash}`,
    /** Hash: usage field -> hits counted but not yet reported. */
    pending: (serviceId: string): string => `usage:v1:${serviceId}:pending`,
    /** String with a TTL of one usage window: set by the request that nudged the reporter. */
    window: (serviceId: string): string => `usage:v1:${serviceId}:window`,
    /** Hash: a batch taken by one reporter run (pending renamed), until 3scale accepts it. */
    batch: (serviceId: string, batchId: string): string => `usage:v1:${serviceId}:batch:${batchId}`,
    /** Sorted set: batch ids in flight, scored by the time they were taken (ms). */
    batches: (serviceId: string): string => `usage:v1:${serviceId}:batches`,
    /** String: an SNS message already handled (or being handled) by a reporter. */
    message: (serviceId: string, messageId: string): string => `usage:v1:${serviceId}:msg:${messageId}`,
};

/**
 * A pending-usage field names what to report and which decision to refresh afterwards:
 * `<tokenHash>|<limited 0|1>|a:<appId>` or `<tokenHash>|<limited>|k:<sealed user key>`.
 * `limited` says the plan has usage limits, i.e. the key can run out and is worth re-checking.
 */
export interface UsageField {
    hash: string;
    limited: boolean;
    uid: string;
}

export function formatUsageField(f: UsageField): string {
    return `${f.hash}|${f.limited ? 1 : 0}|${f.uid}`;
}

export function parseUsageField(field: string): UsageField | undefined {
    const first = field.indexOf("|");
    const second = field.indexOf("|", first + 1);
    if (first !== 64 || second !== 66) return undefined;
    const uid = field.slice(second + 1);
    if (!uid.startsWith("a:") && !uid.startsWith("k:")) return undefined;
    return { hash: field.slice(0, first), limited: field[first + 1] === "1", uid };
}
