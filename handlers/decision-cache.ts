// The decision cache. One Redis hash per token at authz:v1:<serviceId>:<sha256(token)>:
//   a  "1" allowed / "0" denied        f  fresh-until (ms since epoch)
//   p  plan name                       id 3scale application id ("" if unknown)
//   u  usage field the hits count under (allowed only)   r  denial reason (denied only)
// An allowed decision is fresh for the cache TTL but the key lives for the stale TTL, so
// the `resilient` failure mode can still read the last known answer; a denial lives for
// the negative TTL. The lookup and the hit count (plus the reporting-window marker) are
// one Lua script: a cache hit costs exactly one round trip.
import type { Redis } from "ioredis";
import { keys } from "./keys";
import { runScript, script } from "./lua";

export interface CachedDecision {
    allowed: boolean;
    /** Within the cache TTL (allowed) or the negative TTL (denied). */
    fresh: boolean;
    freshUntil: number;
    plan: string;
    appId: string;
    reason: string;
    usageField: string;
}

export interface LookupResult {
    decision?: CachedDecision;
    /** A hit was counted for usage reporting (fresh allowed decision). */
    counted: boolean;
    /** This request opened a new reporting window: nudge the reporter. */
    publish: boolean;
}

export interface CacheSettings {
    serviceId: string;
    cacheTtlSeconds: number;
    negativeTtlSeconds: number;
    staleTtlSeconds: number;
    usageWindowSeconds: number;
}

export interface DecisionCache {
    /** Reads the decision; on a fresh allowed one counts the hit in the same round trip. */
    lookup(hash: string): Promise<LookupResult>;
    storeAllowed(hash: string, d: { plan: string; appId: string; usageField: string }): Promise<void>;
    storeDenied(hash: string, reason: string): Promise<void>;
    /** Counts a hit that 3scale has not seen (served from a stale decision or failing open). */
    countHit(usageField: string): Promise<{ publish: boolean }>;
    /** Gives the window back after a failed nudge so the next request tries again. */
    releaseWindow(): Promise<void>;
}

// KEYS: decision, pending, window. ARGV: now (ms), window seconds.
const LOOKUP = script(`
local d = redis.call('HMGET', KEYS[1], 'a', 'f', 'p', 'id', 'u', 'r')
if not d[1] then return false end
local publish = 0
local counted = 0
if d[1] == '1' and tonumber(d[2] or '0') > tonumber(ARGV[1]) and d[5] then
  redis.call('HINCRBY', KEYS[2], d[5], 1)
  counted = 1
  if tonumber(ARGV[2]) == 0 then publish = 1
  elseif redis.call('SET', KEYS[3], ARGV[1], 'NX', 'EX', ARGV[2]) then publish = 1 end
end
return {d[1], d[2] or '0', d[3] or '', d[4] or '', d[5] or '', d[6] or '', counted, publish}
`);

// KEYS: pending, window. ARGV: field, now (ms), window seconds.
const COUNT = script(`
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if tonumber(ARGV[3]) == 0 then return 1 end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then return 1 end
return 0
`);

export function createDecisionCache(client: Redis, settings: CacheSettings, now: () => number = Date.now): DecisionCache {
    const pendingKey = keys.pending(settings.serviceId);
    const windowKey = keys.window(settings.serviceId);
    return {
        async lookup(hash) {
            const reply = await runScript(client, LOOKUP, [keys.decision(settings.serviceId, hash), pendingKey, windowKey], [now(), settings.usageWindowSeconds]);
            if (!Array.isArray(reply)) return { counted: false, publish: false };
            const [a, f, p, id, u, r, counted, publish] = reply as [string, string, string, string, string, string, number, number];
            const freshUntil = Number(f);
            return {
                decision: { allowed: a === "1", fresh: freshUntil > now(), freshUntil, plan: p, appId: id, usageField: u, reason: r },
                counted: counted === 1,
                publish: publish === 1,
            };
        },
        async storeAllowed(hash, d) {
            const ttl = Math.max(settings.cacheTtlSeconds, settings.staleTtlSeconds);
            if (settings.cacheTtlSeconds <= 0 && ttl <= 0) return;
            const key = keys.decision(settings.serviceId, hash);
            await client.multi()
                .del(key)
                .hset(key, { a: "1", f: String(now() + settings.cacheTtlSeconds * 1000), p: d.plan, id: d.appId, u: d.usageField })
                .expire(key, ttl)
                .exec();
        },
        async storeDenied(hash, reason) {
            if (settings.negativeTtlSeconds <= 0) return;
            const key = keys.decision(settings.serviceId, hash);
            await client.multi()
                .del(key)
                .hset(key, { a: "0", f: String(now() + settings.negativeTtlSeconds * 1000), r: reason })
                .expire(key, settings.negativeTtlSeconds)
                .exec();
        },
        async countHit(usageField) {
            const reply = await runScript(client, COUNT, [pendingKey, windowKey], [usageField, now(), settings.usageWindowSeconds]);
            return { publish: reply === 1 };
        },
        async releaseWindow() {
            await client.del(windowKey);
        },
    };
}
