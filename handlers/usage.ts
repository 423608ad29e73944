// Usage reporting. The authorizer counts hits per application and minute in Redis
// (decision-cache.ts) and, at most once per usage window per service, nudges the reporter
// through SNS; a schedule flushes too. One reporter at a time holds the service's lock (a
// lease longer than the function's timeout) and:
//   1. settles what an earlier run left: counts taken but never sent go back to pending; a
//      report that got no reply (3scale may have taken it) is reconciled against 3scale's own
//      usage figures once they have settled, and re-sent only if 3scale does not have it;
//   2. asks 3scale about credentials it never confirmed (allow mode) and about applications
//      not confirmed lately: confirmed ones join the reports, refused ones are dropped apart;
//   3. takes the pending counts atomically, drops what 3scale would refuse for age, cuts them
//      into transactions.xml calls (each with its timestamps, and with applications that can
//      witness it in a reconciliation), and reports them one by one, each through a state
//      machine in Redis: ready -> sent -> settled (in 3scale) or put back (not in 3scale).
// Only confirmed applications go in a shared call: apisonator answers 202 and then drops the
// whole call if one transaction is invalid (report_job.rb). Nothing is sent while a report is in
// doubt, so a reconciliation compares 3scale's figure with what exactly one report would add.
// The application's ledger (decision-cache.ts) also keeps, for reconciliation:
//   f  hits in sent, unsettled reports
//   C  the clean baseline: 3scale's figures at a sync with no report in flight,
//      "period,startMs,endMs,current;..."; ca:<period> hits settled in 3scale since then
//      with timestamps in that period. 3scale's figure without the report in doubt is
//      current + ca:<period>; with it, that plus the report's hits in the period.
import { randomUUID } from "crypto";
import type { Redis } from "ioredis";
import { appUid, isKeyOnlyUid, keys, minuteOf, openIdentity, parseUsageField, sealIdentity, tokenHash, usageField } from "./keys";
import { runScript, script } from "./lua";
import { KeySealer } from "./sealed-key";
import { Identity, refusesCredential, ReportOutcome, ThreescaleClient, Transaction, UsageReport } from "./threescale";

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
 * devDependency here); it is loaded on the first publish, not at init: most cold starts end in a
 * cached decision that nudges nobody, and loading the client costs about 40 ms. A missing SDK only
 * fails the publish, never the module load. The SDK honours AWS_ENDPOINT_URL_SNS, which the tests
 * point at a local endpoint.
 */
export function createSnsPublisher(topicArn: string, timeoutMs = 1000): UsagePublisher {
    type Sns = typeof import("@aws-sdk/client-sns");
    let loading: Promise<{ sns: Sns; client: InstanceType<Sns["SNSClient"]> }> | undefined;
    return {
        async publish(nudge) {
            loading ??= import("@aws-sdk/client-sns").then((sns) => ({
                sns,
                // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes, and the publish hangs.
                client: new sns.SNSClient({ maxAttempts: 1, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true } }),
            }));
            const { sns, client } = await loading;
            await client.send(new sns.PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(nudge) }));
        },
    };
}

/** apisonator refuses transactions older than 86400 s (transaction.rb); keep a margin for clock skew. */
export const REPORTABLE_AGE_MS = (86_400 - 300) * 1000;

// Lowers a ledger counter, never below 0 (a ledger rebuilt after Redis lost its data starts at 0).
const LUA_LOWER = `
local function lower(key, field, n)
  if redis.call('HINCRBY', key, field, -n) < 0 then redis.call('HSET', key, field, 0) end
end`;

// KEYS: source hash, batch, batches. ARGV: batch id, now (ms). Takes the source hash whole.
const TAKE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[2])
`);

// KEYS: batch, target, batches. ARGV: batch id. Merges what is left of a batch back into its source.
const PUT_BACK = script(`
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do redis.call('HINCRBY', KEYS[2], kv[i], kv[i + 1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return #kv / 2
`);

// KEYS: batch, chunk, chunks. ARGV: now, chunk id, payload (JSON [[minute, uid, hits], ...]), fields...
// Moves fields of a batch into a chunk that is ready to send.
const CHUNK = script(`
for i = 4, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[2], 's', 'ready', 'd', ARGV[3], 'c', ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
return 1
`);

// KEYS: chunk, epoch. ARGV: now, ledger prefix. Before each attempt: the hits are in flight.
const MARK_SENT = script(`
local s = redis.call('HGET', KEYS[1], 's')
if not s then return 0 end
if s == 'ready' then
  for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do redis.call('HINCRBY', ARGV[2] .. e[2], 'f', e[3]) end
end
redis.call('HSET', KEYS[1], 's', 'sent', 't', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('INCR', KEYS[2])
return 1
`);

// KEYS: chunk, chunks, epoch. ARGV: chunk id, ledger prefix. The chunk is in 3scale: settle it.
const SETTLE = script(`${LUA_LOWER}
local s = redis.call('HGET', KEYS[1], 's')
if not s then return 0 end
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  local ledger = ARGV[2] .. e[2]
  lower(ledger, 'u', e[3])
  if s == 'sent' then lower(ledger, 'f', e[3]) end
  redis.call('HINCRBY', ledger, 'S', e[3])
  local at = e[1] * 60000
  local C = redis.call('HGET', ledger, 'C')
  for period, startms, endms in string.gmatch(C or '', '([^,;]+),([^,;]+),([^,;]+),[^;]+') do
    if (tonumber(startms) < 0 or at >= tonumber(startms)) and (tonumber(endms) < 0 or at < tonumber(endms)) then
      redis.call('HINCRBY', ledger, 'ca:' .. period, e[3])
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
`);

// KEYS: chunk, pending, chunks, epoch. ARGV: chunk id, ledger prefix. The chunk is not in 3scale: back to pending.
const UNSEND = script(`${LUA_LOWER}
local s = redis.call('HGET', KEYS[1], 's')
if not s then return 0 end
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  redis.call('HINCRBY', KEYS[2], e[1] .. '|' .. e[2], e[3])
  if s == 'sent' then lower(ARGV[2] .. e[2], 'f', e[3]) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if s == 'sent' then redis.call('INCR', KEYS[4]) end
return 1
`);

// KEYS: batch. ARGV: ledger prefix, then field, uid pairs. Drops fields that will never be
// reported (too old, refused by 3scale); they leave the ledger's unreported count.
const DROP = script(`${LUA_LOWER}
for i = 2, #ARGV, 2 do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[i])
  if ARGV[i + 1] ~= '' and n > 0 then lower(ARGV[1] .. ARGV[i + 1], 'u', n) end
end
return 1
`);

// KEYS: batch, pending, ledger. ARGV: uid, sealed credential, now, then unconfirmed field, pending field pairs.
// 3scale confirmed a credential: its hits join the application's pending counts and ledger.
const CONFIRM = script(`
local moved = 0
for i = 4, #ARGV, 2 do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[i])
  if n > 0 then
    redis.call('HINCRBY', KEYS[2], ARGV[i + 1], n)
    redis.call('HINCRBY', KEYS[3], 'u', n)
    redis.call('HINCRBY', KEYS[3], 'n', n)
    moved = moved + n
  end
end
if redis.call('HEXISTS', KEYS[3], 'k') == 0 then redis.call('HSET', KEYS[3], 'k', ARGV[2]) end
redis.call('HSET', KEYS[3], 't', ARGV[3])
redis.call('HDEL', KEYS[3], 'r')
return moved
`);

// KEYS: lock. ARGV: owner. Releases the lock only if this reporter still holds it.
const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface UsageReporterOptions {
    client: Redis;
    threescale: ThreescaleClient;
    sealer: KeySealer;
    serviceId: string;
    /** The authorizer's cache TTL: an application confirmed longer ago than this plus a margin is asked about again before a shared report. */
    cacheTtlSeconds: number;
    /** Applications per transactions.xml call. */
    batchSize?: number;
    /** Transactions per transactions.xml call (an application has one per minute with hits). */
    maxTransactions?: number;
    /** The lock's lease: keep it above the reporter function's timeout, so a holder is dead when it ends. */
    leaseMs?: number;
    /** How long after sending a report with no reply to read 3scale's figures (its report jobs must have run). */
    reconcileAfterMs?: number;
    /** How long a handled SNS message id is remembered. */
    messageTtlSeconds?: number;
    /** Credentials and applications asked about per run. */
    maxProbes?: number;
    /** Attempts per report when 3scale answers 5xx or cannot be reached (nothing was taken), and the pause before the second. */
    reportAttempts?: number;
    retryPauseMs?: number;
    now?: () => number;
    newId?: () => string;
    log?: (message: string) => void;
}

export interface ReportSummary {
    /** Set when the SNS message had been handled already. */
    duplicate: boolean;
    /** Set when another reporter held the lock; it reports what is pending. */
    busy: boolean;
    /** Counts left by a reporter that died before sending them, put back. */
    reclaimed: number;
    /** transactions.xml calls that 3scale accepted (re-sends included). */
    calls: number;
    transactions: number;
    /** Hits 3scale accepted in this run. */
    hits: number;
    /** Usage records that name nothing reportable (sealed with another service token), dropped. */
    dropped: number;
    /** Hits too old for 3scale (over a day), dropped. */
    expired: number;
    /** Hits of credentials or applications 3scale refuses, dropped. */
    refused: number;
    /** Hits of credentials 3scale had not confirmed that it now confirmed, moved into the reports. */
    confirmed: number;
    /** Hits in a report that got no reply, waiting to be reconciled. */
    inDoubt: number;
    /** Reports that got no reply, settled by 3scale's figures: hits found in 3scale, hits re-sent, hits assumed in 3scale (no witness). */
    reconciled: { applied: number; resent: number; unverified: number };
}

export interface UsageReporter {
    /** Reports everything pending. Throws after putting counts back when 3scale refuses a report or cannot be reached. */
    flush(messageId?: string): Promise<ReportSummary>;
}

/** One entry of a chunk: [minute, application uid, hits]. */
type Entry = [number, string, number];

interface Chunk {
    id: string;
    entries: Entry[];
    state: "ready" | "sent";
    sentAt: number;
}

type Verdict = "applied" | "not-applied" | "unverifiable" | "unknown";

interface Ledger {
    k?: string;
    t?: string;
    r?: string;
    C?: string;
    [field: string]: string | undefined;
}

function emptySummary(): ReportSummary {
    return {
        duplicate: false, busy: false, reclaimed: 0, calls: 0, transactions: 0, hits: 0, dropped: 0, expired: 0, refused: 0, confirmed: 0, inDoubt: 0,
        reconciled: { applied: 0, resent: 0, unverified: 0 },
    };
}

const sum = (entries: Entry[]): number => entries.reduce((n, e) => n + e[2], 0);

/** Appends to the list under `key`, without copying it. */
function push<V>(map: Map<string, V[]>, key: string, value: V): void {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
}

export function createUsageReporter(o: UsageReporterOptions): UsageReporter {
    const now = o.now ?? Date.now;
    const newId = o.newId ?? randomUUID;
    const log = o.log ?? ((m: string) => console.log(m));
    const batchSize = Math.max(1, o.batchSize ?? 100);
    const maxTransactions = Math.max(batchSize, o.maxTransactions ?? 1000);
    const leaseMs = o.leaseMs ?? 70_000;
    const reconcileAfterMs = o.reconcileAfterMs ?? 30_000;
    const messageTtl = o.messageTtlSeconds ?? 86_400;
    const maxProbes = Math.max(1, o.maxProbes ?? 100);
    const reportAttempts = Math.max(1, o.reportAttempts ?? 3);
    const retryPauseMs = o.retryPauseMs ?? 250;
    const confirmMaxAgeMs = o.cacheTtlSeconds * 1000 + 600_000;
    const sid = o.serviceId;
    const ledgerPrefix = keys.appPrefix(sid);
    const redis = o.client;

    const ledger = async (uid: string): Promise<Ledger> => (await redis.hgetall(keys.app(sid, uid))) as Ledger;
    /** Several applications' ledgers in one round trip. */
    const ledgersOf = async (uids: string[]): Promise<Map<string, Ledger>> => {
        if (uids.length === 0) return new Map();
        const reads = uids.reduce((pipe, uid) => pipe.hgetall(keys.app(sid, uid)), redis.pipeline());
        return new Map(((await reads.exec()) ?? []).map(([, l], i) => [uids[i], (l ?? {}) as Ledger]));
    };

    /** The credential to ask 3scale about an application with: the one it confirmed, else its id. */
    const identityOf = (uid: string, l: Ledger): Identity | undefined => {
        const sealed = l.k ? openIdentity(o.sealer, l.k) : undefined;
        if (sealed) return sealed;
        return isKeyOnlyUid(uid) ? undefined : { appId: uid };
    };
    /** Who a transaction is for: the application id, or the confirmed credential when 3scale named no application. */
    const transactionIdentity = (uid: string, l: Ledger): Identity | undefined =>
        isKeyOnlyUid(uid) ? identityOf(uid, l) : { appId: uid };

    const readChunk = async (id: string): Promise<Chunk | undefined> => {
        const h = await redis.hgetall(keys.chunk(sid, id));
        if (!h.s || !h.d) return undefined;
        return { id, entries: JSON.parse(h.d) as Entry[], state: h.s === "sent" ? "sent" : "ready", sentAt: Number(h.t ?? h.c ?? 0) };
    };
    const settle = (id: string): Promise<unknown> => runScript(redis, SETTLE, [keys.chunk(sid, id), keys.chunks(sid), keys.epoch(sid)], [id, ledgerPrefix]);
    const unsend = (id: string): Promise<unknown> => runScript(redis, UNSEND, [keys.chunk(sid, id), keys.pending(sid), keys.chunks(sid), keys.epoch(sid)], [id, ledgerPrefix]);
    const putBack = async (batchId: string, target: string): Promise<number> =>
        Number(await runScript(redis, PUT_BACK, [keys.batch(sid, batchId), target, keys.batches(sid)], [batchId]));

    /** One transactions.xml call for a chunk, through the chunk's state machine. */
    const send = async (chunk: Chunk, summary: ReportSummary): Promise<"accepted" | "in-doubt" | Error> => {
        const ledgers = await ledgersOf([...new Set(chunk.entries.map((e) => e[1]).filter(isKeyOnlyUid))]);
        const transactions: Transaction[] = [];
        for (const [minute, uid, hits] of chunk.entries) {
            const identity = transactionIdentity(uid, ledgers.get(uid) ?? {});
            if (identity) transactions.push({ identity, usage: { hits }, timestamp: minute * 60_000 });
        }
        let outcome: ReportOutcome = { kind: "failed", code: "not_sent", reason: "not sent" };
        for (let attempt = 1; attempt <= reportAttempts; attempt++) {
            if (attempt > 1) await new Promise((r) => setTimeout(r, retryPauseMs * (attempt - 1)));
            await runScript(redis, MARK_SENT, [keys.chunk(sid, chunk.id), keys.epoch(sid)], [now(), ledgerPrefix]);
            outcome = await o.threescale.report(transactions);
            // Retry only what surely did not reach 3scale, and only a 5xx or an unreachable 3scale.
            if (outcome.kind === "accepted" || outcome.inDoubt || !(outcome.code === "server_error" || outcome.code === "unreachable")) break;
        }
        if (outcome.kind === "accepted") {
            await settle(chunk.id);
            summary.calls += 1;
            summary.transactions += transactions.length;
            summary.hits += sum(chunk.entries);
            return "accepted";
        }
        if (outcome.inDoubt) {
            log(`usage: no reply to a report of ${sum(chunk.entries)} hits (${outcome.reason}); it is reconciled with 3scale's figures before anything is sent again`);
            summary.inDoubt += sum(chunk.entries);
            return "in-doubt";
        }
        await unsend(chunk.id);
        return new Error(`usage: 3scale did not accept a report (${outcome.code}: ${outcome.reason}); its ${sum(chunk.entries)} hits are back in pending`);
    };

    /**
     * Did 3scale take a chunk that got no reply? Asks 3scale (authorize.xml: it never counts) for
     * the figures of up to three applications of the chunk that have a clean baseline, and
     * compares each with the baseline plus what has settled since: a figure short of the chunk's
     * hits means 3scale does not have the chunk (its job runs all or nothing).
     */
    const reconcile = async (chunk: Chunk): Promise<Verdict> => {
        const byUid = new Map<string, Entry[]>();
        for (const e of chunk.entries) push(byUid, e[1], e);
        const candidates = [...byUid.entries()].sort((a, b) => sum(b[1]) - sum(a[1]));
        let applied = 0;
        let unknown = 0;
        let asked = 0;
        for (const [uid, entries] of candidates) {
            if (asked >= 3) break;
            const l = await ledger(uid);
            if (!l.C) continue;
            const t = now();
            const periods = l.C.split(";").map((p) => {
                const [period, start, end, current] = p.split(",");
                const startMs = Number(start);
                const endMs = Number(end);
                const hits = sum(entries.filter(([minute]) => (startMs < 0 || minute * 60_000 >= startMs) && (endMs < 0 || minute * 60_000 < endMs)));
                return { period, startMs, endMs, expected: Number(current) + Number(l[`ca:${period}`] ?? 0), hits };
            }).filter((p) => p.hits > 0 && (p.endMs < 0 || t < p.endMs));
            const identity = identityOf(uid, l);
            if (periods.length === 0 || !identity) continue;
            asked += 1;
            const outcome = await o.threescale.authorize(identity);
            if (outcome.kind === "failed") {
                unknown += 1;
                continue;
            }
            const figures: UsageReport[] = outcome.usageReports;
            for (const p of periods) {
                const figure = figures.find((r) => r.metric === "hits" && r.period === p.period && (p.startMs < 0 || r.startMs === p.startMs));
                if (!figure) continue;
                if (figure.currentValue - p.expected < p.hits) return "not-applied";
                applied += 1;
                break;
            }
        }
        if (unknown > 0) return "unknown";
        return applied > 0 ? "applied" : "unverifiable";
    };

    /** Settles chunks an earlier run left; true when one is still in doubt (nothing new may be sent). */
    const settleLeftovers = async (summary: ReportSummary, errors: Error[]): Promise<boolean> => {
        for (const batchId of await redis.zrange(keys.batches(sid), 0, -1)) {
            const target = batchId.startsWith("q-") ? keys.unconfirmed(sid) : keys.pending(sid);
            if (await putBack(batchId, target) > 0) summary.reclaimed += 1;
        }
        let waiting = false;
        for (const id of await redis.zrange(keys.chunks(sid), 0, -1)) {
            const chunk = await readChunk(id);
            if (!chunk) {
                await redis.zrem(keys.chunks(sid), id);
                continue;
            }
            if (chunk.state === "ready") {
                await unsend(id);
                summary.reclaimed += 1;
                continue;
            }
            const hits = sum(chunk.entries);
            if (waiting || now() - chunk.sentAt < reconcileAfterMs) {
                waiting = true;
                summary.inDoubt += hits;
                continue;
            }
            const verdict = await reconcile(chunk);
            if (verdict === "applied" || verdict === "unverifiable") {
                await settle(id);
                if (verdict === "applied") summary.reconciled.applied += hits;
                else {
                    summary.reconciled.unverified += hits;
                    log(`usage: a report of ${hits} hits got no reply and no application in it has limits to check it against; assumed taken by 3scale`);
                }
            } else if (verdict === "not-applied") {
                log(`usage: 3scale's figures show a report of ${hits} hits that got no reply never arrived; sending it again`);
                const result = await send(chunk, summary);
                if (result === "accepted") summary.reconciled.resent += hits;
                else if (result === "in-doubt") waiting = true;
                else errors.push(result);
            } else {
                waiting = true;
                summary.inDoubt += hits;
            }
        }
        return waiting;
    };

    /** Asks 3scale about credentials it never confirmed; confirmed ones join the pending counts, refused ones are dropped. */
    const confirmUnconfirmed = async (summary: ReportSummary): Promise<void> => {
        const batchId = `q-${newId()}`;
        const batchKey = keys.batch(sid, batchId);
        const flat = (await runScript(redis, TAKE, [keys.unconfirmed(sid), batchKey, keys.batches(sid)], [batchId, now()])) as string[];
        if (flat.length === 0) return;
        const bySealed = new Map<string, [field: string, minute: number, hits: number][]>();
        const unusable: string[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
            const f = parseUsageField(flat[i]);
            if (!f) {
                unusable.push(flat[i]);
                continue;
            }
            push(bySealed, f.who, [flat[i], f.minute, Number(flat[i + 1])]);
        }
        let probes = 0;
        for (const [sealed, fields] of bySealed) {
            const identity = openIdentity(o.sealer, sealed);
            const hits = fields.reduce((n, [, , h]) => n + h, 0);
            if (!identity) {
                unusable.push(...fields.map(([f]) => f));
                summary.dropped += fields.length;
                continue;
            }
            if (probes >= maxProbes) break;
            probes += 1;
            const outcome = await o.threescale.authorize(identity);
            if (refusesCredential(outcome)) {
                log(`usage: 3scale refuses a credential served in allow mode (${outcome.code}); its ${hits} hits are dropped`);
                await runScript(redis, DROP, [batchKey], [ledgerPrefix, ...fields.flatMap(([f]) => [f, ""])]);
                summary.refused += hits;
            } else if (outcome.kind !== "failed") {
                const uid = appUid(outcome.appId, "userKey" in identity ? tokenHash(identity.userKey) : tokenHash(identity.appId));
                const pairs = fields.flatMap(([f, minute]) => [f, usageField(minute, uid)]);
                summary.confirmed += Number(await runScript(redis, CONFIRM, [batchKey, keys.pending(sid), keys.app(sid, uid)], [uid, sealed, now(), ...pairs]));
            }
        }
        if (unusable.length > 0) await runScript(redis, DROP, [batchKey], [ledgerPrefix, ...unusable.flatMap((f) => [f, ""])]);
        await putBack(batchId, keys.unconfirmed(sid));
    };

    /**
     * Counts left by the previous release (`<token hash>|<limited>|a:<app id>` or `|k:<sealed user key>`,
     * no minute): renamed in place to this release's fields, in the current minute.
     */
    const upgradeLegacyFields = async (batchKey: string, flat: string[]): Promise<void> => {
        for (let i = 0; i + 1 < flat.length; i += 2) {
            const m = /^([0-9a-f]{64})\|[01]\|(a|k):(.+)$/s.exec(flat[i]);
            if (!m) continue;
            let uid = m[3];
            if (m[2] === "k") {
                const userKey = o.sealer.open(m[3]);
                if (userKey === undefined) continue; // sealed with another token: dropped below as unusable
                uid = appUid(undefined, m[1]);
                await redis.hsetnx(keys.app(sid, uid), "k", sealIdentity(o.sealer, { userKey }));
            }
            const field = usageField(minuteOf(now()), uid);
            await redis.multi().hdel(batchKey, flat[i]).hincrby(batchKey, field, Number(flat[i + 1])).exec();
            flat[i] = field;
        }
    };

    /** Takes the pending counts and cuts them into chunks of confirmed applications; what cannot go now goes back. */
    const takePending = async (summary: ReportSummary): Promise<Chunk[]> => {
        const batchId = newId();
        const batchKey = keys.batch(sid, batchId);
        const flat = (await runScript(redis, TAKE, [keys.pending(sid), batchKey, keys.batches(sid)], [batchId, now()])) as string[];
        await upgradeLegacyFields(batchKey, flat);
        const byUid = new Map<string, Entry[]>();
        const drop: string[] = [];
        const oldest = now() - REPORTABLE_AGE_MS;
        for (let i = 0; i + 1 < flat.length; i += 2) {
            const f = parseUsageField(flat[i]);
            const hits = Number(flat[i + 1]);
            if (!f || !(hits > 0)) {
                drop.push(flat[i], f?.who ?? "");
                summary.dropped += 1;
            } else if (f.minute * 60_000 < oldest) {
                drop.push(flat[i], f.who);
                summary.expired += hits;
            } else {
                push(byUid, f.who, [f.minute, f.who, hits]);
            }
        }
        if (summary.expired > 0) log(`usage: ${summary.expired} hits are older than 3scale accepts (a day) and are dropped`);
        // Only applications 3scale confirmed lately go in a shared call: ask about the others first.
        const witnesses: string[] = [];
        const others: string[] = [];
        const solo: string[] = [];
        let probes = 0;
        const ledgers = await ledgersOf([...byUid.keys()]);
        for (const [uid, entries] of byUid) {
            const l = ledgers.get(uid) ?? {};
            const identity = transactionIdentity(uid, l);
            if (!identity) {
                drop.push(...entries.flatMap((e) => [usageField(e[0], uid), uid]));
                summary.dropped += entries.length;
                byUid.delete(uid);
                continue;
            }
            const confirmedAt = Number(l.t ?? 0);
            if (l.r === "1" || now() - confirmedAt > confirmMaxAgeMs) {
                const probeWith = identityOf(uid, l);
                if (probes >= maxProbes || !probeWith) {
                    byUid.delete(uid); // stays in the batch, put back below
                    continue;
                }
                probes += 1;
                const outcome = await o.threescale.authorize(probeWith);
                if (refusesCredential(outcome)) {
                    log(`usage: 3scale no longer knows an application with ${sum(entries)} unreported hits; they are dropped`);
                    drop.push(...entries.flatMap((e) => [usageField(e[0], uid), uid]));
                    summary.refused += sum(entries);
                    byUid.delete(uid);
                    continue;
                }
                if (outcome.kind === "failed") {
                    // 3scale down or slow: ask again next run. Refusing the question itself (a credential
                    // type the service does not take): it goes alone, where it can poison no other usage.
                    if (outcome.status !== undefined && outcome.status < 500) solo.push(uid);
                    else byUid.delete(uid);
                    continue;
                }
                await redis.multi().hset(keys.app(sid, uid), "t", String(now())).hdel(keys.app(sid, uid), "r").exec();
            }
            (l.C ? witnesses : others).push(uid);
        }
        if (drop.length > 0) await runScript(redis, DROP, [batchKey], [ledgerPrefix, ...drop]);
        // Deal the applications round-robin, witnesses first, so every call can be reconciled.
        const ordered = [...witnesses, ...others];
        const transactions = ordered.reduce((n, uid) => n + (byUid.get(uid)?.length ?? 0), 0);
        const count = Math.max(Math.ceil(ordered.length / batchSize), Math.ceil(transactions / maxTransactions));
        const groups: Entry[][] = Array.from({ length: count }, () => []);
        ordered.forEach((uid, i) => groups[i % count].push(...(byUid.get(uid) ?? [])));
        for (const uid of solo) groups.push(byUid.get(uid) ?? []);
        const chunks: Chunk[] = [];
        for (const entries of groups) {
            if (entries.length === 0) continue;
            const id = newId();
            const t = now();
            await runScript(redis, CHUNK, [batchKey, keys.chunk(sid, id), keys.chunks(sid)], [t, id, JSON.stringify(entries), ...entries.map((e) => usageField(e[0], e[1]))]);
            chunks.push({ id, entries, state: "ready", sentAt: t });
        }
        await putBack(batchId, keys.pending(sid));
        return chunks;
    };

    return {
        async flush(messageId) {
            const summary = emptySummary();
            const messageKey = messageId ? keys.message(sid, messageId) : undefined;
            if (messageKey) {
                const claimed = await redis.set(messageKey, "running", "PX", leaseMs, "NX");
                if (claimed !== "OK") {
                    log(`usage: message ${messageId} already handled, skipped`);
                    return { ...summary, duplicate: true };
                }
            }
            const owner = newId();
            const errors: Error[] = [];
            try {
                if (await redis.set(keys.lock(sid), owner, "PX", leaseMs, "NX") !== "OK") {
                    // Another reporter is reporting; what is pending now waits for it, the next nudge or the schedule.
                    summary.busy = true;
                } else {
                    const started = now();
                    try {
                        if (!await settleLeftovers(summary, errors) && errors.length === 0) {
                            await confirmUnconfirmed(summary);
                            const chunks = await takePending(summary);
                            for (let i = 0; i < chunks.length; i++) {
                                // Stop well inside the lease; the rest goes back for the next run.
                                const result = now() - started < leaseMs / 2 ? await send(chunks[i], summary) : new Error("usage: the run is out of time; the rest waits for the next run");
                                if (result === "accepted") continue;
                                for (const rest of chunks.slice(i + 1)) await unsend(rest.id);
                                if (result instanceof Error) errors.push(result);
                                break;
                            }
                        }
                    } finally {
                        await runScript(redis, RELEASE, [keys.lock(sid)], [owner]).catch(() => undefined);
                    }
                }
                if (errors.length > 0) throw errors[0];
                if (messageKey) await redis.set(messageKey, "done", "EX", messageTtl);
                return summary;
            } catch (e) {
                if (messageKey) await redis.del(messageKey).catch(() => undefined);
                throw e;
            }
        },
    };
}
