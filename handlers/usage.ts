// Usage reporting. The authorizer counts hits per usage field in one Redis hash
// (decision-cache.ts) and, at most once per usage window per service, nudges the
// reporter through SNS. The reporter:
//   1. claims the SNS message id (a redelivered message is skipped),
//   2. puts back batches left behind by a reporter that died (older than the lease),
//   3. takes the pending hash atomically (RENAME to a batch key with a fresh id),
//   4. reports it to transactions.xml in chunks; a chunk leaves Redis only after 202,
//   5. on a failed chunk merges what is left back into pending (adding to hits counted
//      meanwhile) and throws, so Lambda retries and then dead-letters the event,
//   6. re-checks applications with limited plans (authorize.xml with usage[hits]=1) and
//      caches a denial for those 3scale now refuses.
// Because a batch is taken by exactly one reporter, concurrent or redelivered runs can
// never report the same hits twice. The one remaining window is a reporter dying between
// 3scale's 202 and the HDEL that follows (milliseconds): those hits would be reported again
// after the lease; 3scale offers no idempotency key to close it.
import { randomUUID } from "crypto";
import type { Redis } from "ioredis";
import { createDecisionCache } from "./decision-cache";
import { keys, parseUsageField } from "./keys";
import { runScript, script } from "./lua";
import { KeySealer } from "./sealed-key";
import { Identity, ThreescaleClient } from "./threescale";

export interface UsageNudge {
    serviceId: string;
    /** "window": first counted hit of a window; "request": window 0, every counted hit. */
    reason: "window" | "request";
    at: string;
}

export interface UsagePublisher {
    publish(nudge: UsageNudge): Promise<void>;
}

/**
 * The SNS publisher used in Lambda. The SDK ships with the Node runtime (it is only a
 * devDependency here); it is loaded when the publisher is created (Lambda's init phase,
 * off the request path) and a missing SDK only fails the publish, never the module load.
 * The SDK honours AWS_ENDPOINT_URL_SNS, which the tests point at a local endpoint.
 */
export function createSnsPublisher(topicArn: string, timeoutMs = 1000): UsagePublisher {
    type Sns = typeof import("@aws-sdk/client-sns");
    const loading: Promise<{ sns: Sns; client: InstanceType<Sns["SNSClient"]> }> = import("@aws-sdk/client-sns").then((sns) => ({
        sns,
        client: new sns.SNSClient({ maxAttempts: 1, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs } }),
    }));
    loading.catch(() => undefined);
    return {
        async publish(nudge) {
            const { sns, client } = await loading;
            await client.send(new sns.PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(nudge) }));
        },
    };
}

// KEYS: pending, batch, batches. ARGV: batch id, now (ms).
const TAKE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[2])
`);

// KEYS: batch, pending, batches. ARGV: batch id. Merges what is left of a batch back.
const PUT_BACK = script(`
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do redis.call('HINCRBY', KEYS[2], kv[i], kv[i + 1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return #kv / 2
`);

export interface UsageReporterOptions {
    client: Redis;
    threescale: ThreescaleClient;
    sealer: KeySealer;
    serviceId: string;
    negativeTtlSeconds: number;
    /** Transactions per transactions.xml call. */
    batchSize?: number;
    /** A batch older than this is considered abandoned and put back; keep it above the reporter's timeout. */
    leaseMs?: number;
    /** How long a handled SNS message id is remembered. */
    messageTtlSeconds?: number;
    /** Parallel authorize.xml calls when re-checking applications. */
    refreshConcurrency?: number;
    now?: () => number;
    newId?: () => string;
    log?: (message: string) => void;
}

export interface ReportSummary {
    /** Set when the SNS message had been handled already. */
    duplicate: boolean;
    /** Abandoned batches put back before this run. */
    reclaimed: number;
    /** transactions.xml calls that 3scale accepted. */
    calls: number;
    transactions: number;
    hits: number;
    /** Usage fields that could not be turned into an identity (sealed with another token) and were dropped. */
    dropped: number;
    /** Cached decisions switched to denied after the report. */
    denied: number;
}

export interface UsageReporter {
    /** Reports everything pending. Throws after putting counts back when 3scale does not accept a chunk. */
    flush(messageId?: string): Promise<ReportSummary>;
}

interface Group {
    identity: Identity;
    hits: number;
    fields: string[];
    hashes: string[];
    limited: boolean;
}

export function createUsageReporter(o: UsageReporterOptions): UsageReporter {
    const now = o.now ?? Date.now;
    const newId = o.newId ?? randomUUID;
    const log = o.log ?? ((m: string) => console.log(m));
    const batchSize = Math.max(1, o.batchSize ?? 100);
    const leaseMs = o.leaseMs ?? 300_000;
    const messageTtl = o.messageTtlSeconds ?? 86_400;
    const concurrency = Math.max(1, o.refreshConcurrency ?? 8);
    const sid = o.serviceId;
    const cache = createDecisionCache(o.client, {
        serviceId: sid, cacheTtlSeconds: 0, negativeTtlSeconds: o.negativeTtlSeconds, staleTtlSeconds: 0, usageWindowSeconds: 0,
    }, now);

    const putBack = async (batchId: string): Promise<number> =>
        Number(await runScript(o.client, PUT_BACK, [keys.batch(sid, batchId), keys.pending(sid), keys.batches(sid)], [batchId]));

    const group = (entries: [string, number][], summary: ReportSummary): { groups: Group[]; unusable: string[] } => {
        const groups = new Map<string, Group>();
        const unusable: string[] = [];
        for (const [field, hits] of entries) {
            const f = parseUsageField(field);
            let identity: Identity | undefined;
            if (f?.uid.startsWith("a:")) identity = { appId: f.uid.slice(2) };
            else if (f?.uid.startsWith("k:")) {
                const userKey = o.sealer.open(f.uid.slice(2));
                if (userKey !== undefined) identity = { userKey };
            }
            if (!f || !identity || !(hits > 0)) {
                unusable.push(field);
                summary.dropped += 1;
                continue;
            }
            const g = groups.get(f.uid) ?? { identity, hits: 0, fields: [], hashes: [], limited: false };
            g.hits += hits;
            g.fields.push(field);
            g.hashes.push(f.hash);
            g.limited ||= f.limited;
            groups.set(f.uid, g);
        }
        return { groups: [...groups.values()], unusable };
    };

    const refresh = async (groups: Group[], summary: ReportSummary): Promise<void> => {
        const queue = groups.filter((g) => g.limited);
        const worker = async (): Promise<void> => {
            for (let g = queue.shift(); g; g = queue.shift()) {
                const outcome = await o.threescale.authorize(g.identity, { hits: 1 });
                if (outcome.kind !== "denied") continue;
                for (const hash of new Set(g.hashes)) {
                    await cache.storeDenied(hash, outcome.reason);
                    summary.denied += 1;
                }
            }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
    };

    return {
        async flush(messageId) {
            const summary: ReportSummary = { duplicate: false, reclaimed: 0, calls: 0, transactions: 0, hits: 0, dropped: 0, denied: 0 };
            const messageKey = messageId ? keys.message(sid, messageId) : undefined;
            if (messageKey) {
                const claimed = await o.client.set(messageKey, "running", "PX", leaseMs, "NX");
                if (claimed !== "OK") {
                    log(`usage: message ${messageId} already handled, skipped`);
                    return { ...summary, duplicate: true };
                }
            }
            try {
                const abandoned = await o.client.zrangebyscore(keys.batches(sid), "-inf", now() - leaseMs);
                for (const batchId of abandoned) {
                    await putBack(batchId);
                    summary.reclaimed += 1;
                }

                const batchId = newId();
                const batchKey = keys.batch(sid, batchId);
                const flat = (await runScript(o.client, TAKE, [keys.pending(sid), batchKey, keys.batches(sid)], [batchId, now()])) as string[];
                const entries: [string, number][] = [];
                for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i], Number(flat[i + 1])]);
                if (entries.length === 0) {
                    if (messageKey) await o.client.set(messageKey, "done", "EX", messageTtl);
                    return summary;
                }
                const { groups, unusable } = group(entries, summary);
                if (unusable.length > 0) {
                    log(`usage: dropping ${unusable.length} usage record(s) that name no reportable application`);
                    await o.client.hdel(batchKey, ...unusable);
                }
                for (let start = 0; start < groups.length; start += batchSize) {
                    const chunk = groups.slice(start, start + batchSize);
                    const outcome = await o.threescale.report(chunk.map((g) => ({ identity: g.identity, usage: { hits: g.hits } })));
                    if (outcome.kind !== "accepted") {
                        const restored = await putBack(batchId);
                        throw new Error(`usage: 3scale did not accept a report (${outcome.code}: ${outcome.reason}); ${restored} usage record(s) put back`);
                    }
                    await o.client.hdel(batchKey, ...chunk.flatMap((g) => g.fields));
                    summary.calls += 1;
                    summary.transactions += chunk.length;
                    summary.hits += chunk.reduce((n, g) => n + g.hits, 0);
                }
                await o.client.multi().del(batchKey).zrem(keys.batches(sid), batchId).exec();
                try {
                    await refresh(groups, summary);
                } catch (e) {
                    // The report itself succeeded; a missed refresh only delays a denial until the TTL.
                    log(`usage: refreshing decisions failed: ${(e as Error).message}`);
                }
                if (messageKey) await o.client.set(messageKey, "done", "EX", messageTtl);
                return summary;
            } catch (e) {
                if (messageKey) await o.client.del(messageKey).catch(() => undefined);
                throw e;
            }
        },
    };
}
