// Redis key layout, in one place. Raw API keys never appear in a key or a value:
// decisions are addressed by sha256(token) (API keys are long random strings, so the
// digest cannot be reversed by guessing), usage records name the 3scale application
// id, and a credential that must be kept (to re-ask 3scale about an application, or a
// credential 3scale never confirmed) is sealed with AES-256-GCM (sealed-key.ts).
//
// All keys of a service are touched together by Lua scripts, so the cache must run with
// cluster mode disabled (one shard, as AuthCacheNetwork creates it).
import { hash } from "crypto";
import type { KeySealer } from "./sealed-key";
import type { Identity } from "./threescale";

export function tokenHash(token: string): string {
    return hash("sha256", token, "hex");
}

export const keys = {
    /** Hash: the cached decision for one token (fields in decision-cache.ts). */
    decision: (serviceId: string, hash: string): string => `authz:v1:${serviceId}:${hash}`,
    /** Hash: `<minute>|<app uid>` -> hits counted for a confirmed application, not yet taken by a reporter. */
    pending: (serviceId: string): string => `usage:v1:${serviceId}:pending`,
    /** Hash: `<minute>|<sealed identity>` -> hits of credentials 3scale never confirmed (allow mode). */
    unconfirmed: (serviceId: string): string => `usage:v1:${serviceId}:unconfirmed`,
    /** Hash: one application's ledger (fields in decision-cache.ts). */
    app: (serviceId: string, uid: string): string => `${keys.appPrefix(serviceId)}${uid}`,
    appPrefix: (serviceId: string): string => `usage:v1:${serviceId}:app:`,
    /** Counter: bumped whenever a report is sent or settled, so a sync can tell it raced one. */
    epoch: (serviceId: string): string => `usage:v1:${serviceId}:epoch`,
    /** String with a TTL: this invocation's hit is counted (replays of hits counted in a container). */
    counted: (serviceId: string, invocationId: string): string => `${keys.countedPrefix(serviceId)}${invocationId}`,
    countedPrefix: (serviceId: string): string => `usage:v1:${serviceId}:inv:`,
    /** String with a TTL of one usage window: set by the request that nudged the reporter. */
    window: (serviceId: string): string => `usage:v1:${serviceId}:window`,
    /** String with a lease: the one reporter that may report for the service right now. */
    lock: (serviceId: string): string => `usage:v1:${serviceId}:lock`,
    /** Hash: pending counts taken by a reporter, until they are cut into chunks. */
    batch: (serviceId: string, batchId: string): string => `usage:v1:${serviceId}:batch:${batchId}`,
    /** Sorted set: batch ids taken and not yet cut into chunks, scored by the time they were taken (ms). */
    batches: (serviceId: string): string => `usage:v1:${serviceId}:batches`,
    /** Hash: one transactions.xml call's content and state (fields in usage.ts). */
    chunk: (serviceId: string, chunkId: string): string => `usage:v1:${serviceId}:chunk:${chunkId}`,
    /** Sorted set: chunk ids, scored by creation time (ms). */
    chunks: (serviceId: string): string => `usage:v1:${serviceId}:chunks`,
    /** Hash: hits of one application settled in 3scale by this ring, per hour (field: hours since the epoch). */
    hours: (serviceId: string, uid: string): string => `${keys.hoursPrefix(serviceId)}${uid}`,
    hoursPrefix: (serviceId: string): string => `usage:v1:${serviceId}:hours:`,
    /** List: usage kept apart, never to be reported, newest first (JSON records with the reason; report-store.ts). */
    rejected: (serviceId: string): string => `usage:v1:${serviceId}:rejected`,
    /** String: an SNS message already handled (or being handled) by a reporter. */
    message: (serviceId: string, messageId: string): string => `usage:v1:${serviceId}:msg:${messageId}`,
};

/** The minute a hit is counted in: every 3scale period is a whole number of minutes. */
export function minuteOf(ms: number): number {
    return Math.floor(ms / 60_000);
}

/**
 * The ledger id of an application: its 3scale application id, or `~<token hash>` when the
 * backend did not name the application (no list_app_keys); usage is then reported by the
 * credential kept sealed in the ledger.
 */
export function appUid(appId: string | undefined, hash: string): string {
    return appId !== undefined && appId !== "" ? appId : `~${hash}`;
}

export function isKeyOnlyUid(uid: string): boolean {
    return uid.startsWith("~");
}

/** A usage field: `<minute>|<uid or sealed identity>`. */
export function usageField(minute: number, who: string): string {
    return `${minute}|${who}`;
}

export function parseUsageField(field: string): { minute: number; who: string } | undefined {
    const bar = field.indexOf("|");
    const minute = Number(field.slice(0, bar));
    if (bar <= 0 || !Number.isInteger(minute) || bar === field.length - 1) return undefined;
    return { minute, who: field.slice(bar + 1) };
}

export function sealIdentity(sealer: KeySealer, identity: Identity): string {
    return sealer.seal(JSON.stringify(identity));
}

/** undefined when sealed with another service token, or not an identity. */
export function openIdentity(sealer: KeySealer, sealed: string): Identity | undefined {
    const text = sealer.open(sealed);
    if (text === undefined) return undefined;
    try {
        const v = JSON.parse(text) as Record<string, unknown>;
        if (typeof v.userKey === "string") return { userKey: v.userKey };
        if (typeof v.appId === "string") return typeof v.appKey === "string" ? { appId: v.appId, appKey: v.appKey } : { appId: v.appId };
    } catch {
        // not an identity
    }
    return undefined;
}
