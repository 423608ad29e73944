// The usage reporter. The authorizer counts hits per application and minute in Redis
// (decision-cache.ts) and, at most once per usage window per service, nudges the reporter through
// SNS (usage.ts); a schedule flushes too. One reporter at a time holds the service's lock (a lease
// longer than the function's timeout) and:
//   1. settles what earlier runs left (report-store.ts records): counts taken but never sent go back
//      to pending; a report that got no reply (3scale may have taken it) is reconciled against its
//      witnesses' figures once they have settled (report-figures.ts), and sent again only if 3scale
//      does not have it; a report 3scale took (202) is verified the same way, because apisonator's
//      report job may still drop it whole (an application deleted since it was confirmed): then the
//      applications 3scale now refuses are kept apart and the others go back to pending;
//   2. asks 3scale about credentials it never confirmed (allow mode) and about applications not
//      confirmed lately: confirmed ones join the reports, refused ones are kept apart;
//   3. takes the pending counts atomically, except those of applications held as witnesses of a
//      report in doubt, drops what 3scale would refuse for age, cuts them into transactions.xml
//      calls (each with its timestamps and up to three witnesses, none with hits in doubt), and
//      sends them side by side; a reply saying 3scale can never take a call (threescale.ts
//      UNREPEATABLE_REPORT_CODES) splits it until the transactions it cannot read are found and
//      kept apart, with their reason, unless it refuses the request itself (REQUEST_REFUSAL_CODES):
//      then the call's usage is kept apart once, as the reporter's own fault.
// Only confirmed applications go in a shared call: apisonator answers 202 and then drops the whole
// call if one transaction is invalid (report_job.rb). A report in doubt holds back only its
// witnesses; every other application, a witness of a report taken and not yet verified included,
// keeps reporting each window.
import { randomUUID } from "crypto";
import type { Redis } from "ioredis";
import { appUid, isKeyOnlyUid, keys, minuteOf, openIdentity, parseUsageField, sealIdentity, tokenHash, usageField } from "./keys";
import type { PortaClient } from "./porta";
import { createFigureReader, identityOf, Ledger, WITNESSES_PER_CHUNK } from "./report-figures";
import { Chunk, createReportStore, DroppedField, Entry } from "./report-store";
import type { KeySealer } from "./sealed-key";
import { refusesCredential, ReportOutcome, REQUEST_REFUSAL_CODES, ThreescaleClient, Transaction } from "./threescale";

/** apisonator refuses transactions older than 86400 s (transaction.rb); keep a margin for clock skew. */
export const REPORTABLE_AGE_MS = (86_400 - 300) * 1000;

/** Verification rounds of a report 3scale took before its figures are given up on (its job may just be late). */
export const VERIFY_ROUNDS = 3;

export interface UsageReporterOptions {
    client: Redis;
    threescale: ThreescaleClient;
    /** porta, when an access token is configured: figures for applications without limits. */
    porta?: PortaClient;
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
    /** How long after a report to read 3scale's figures (its report jobs must have run). */
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
    /** Hits of credentials or applications 3scale refuses, kept apart. */
    refused: number;
    /** Hits 3scale answered it can never take (a request it cannot read), kept apart. */
    rejected: number;
    /** Hits of credentials 3scale had not confirmed that it now confirmed, moved into the reports. */
    confirmed: number;
    /** Hits in a report that got no reply, waiting to be reconciled. */
    inDoubt: number;
    /** Hits held back because their application witnesses a report not yet resolved. */
    held: number;
    /** Reports that got no reply, settled by 3scale's figures: hits found in 3scale, hits re-sent, hits assumed in 3scale (no witness). */
    reconciled: { applied: number; resent: number; unverified: number };
    /** Reports 3scale took (202), verified by their witnesses: hits confirmed, hits of dropped jobs put back to pending, hits past telling. */
    verified: { applied: number; requeued: number; unverified: number };
    /** Hits 3scale took in calls with no witness: lost if an application in the call was deleted since it was confirmed. */
    atRisk: number;
}

export interface UsageReporter {
    /** Reports everything pending. Throws after putting counts back when 3scale fails a report or cannot be reached. */
    flush(messageId?: string): Promise<ReportSummary>;
}

/** What earlier runs left unresolved, as a run starts taking the pending counts. */
interface Unresolved {
    /** Chunks with no reply yet: their witnesses are held until they are settled. */
    inDoubt: Set<string>;
    /**
     * Applications with hits in a chunk in doubt: none may witness a new chunk, whose figure would hold
     * them or not. One with hits in a chunk taken and not yet verified may: what it reports settles, and
     * a dropped job only lowers its figure, which a probe of 3scale then tells apart (verify).
     */
    doubtful: Set<string>;
}

function emptySummary(): ReportSummary {
    return {
        duplicate: false, busy: false, reclaimed: 0, calls: 0, transactions: 0, hits: 0, dropped: 0, expired: 0, refused: 0, rejected: 0, confirmed: 0,
        inDoubt: 0, held: 0, reconciled: { applied: 0, resent: 0, unverified: 0 }, verified: { applied: 0, requeued: 0, unverified: 0 }, atRisk: 0,
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
    const redis = o.client;
    const store = createReportStore(redis, sid, now);

    const ledger = async (uid: string): Promise<Ledger> => (await redis.hgetall(keys.app(sid, uid))) as Ledger;
    /** Several applications' ledgers in one round trip. */
    const ledgersOf = async (uids: string[]): Promise<Map<string, Ledger>> => {
        if (uids.length === 0) return new Map();
        const reads = uids.reduce((pipe, uid) => pipe.hgetall(keys.app(sid, uid)), redis.pipeline());
        return new Map(((await reads.exec()) ?? []).map(([, l], i) => [uids[i], (l ?? {}) as Ledger]));
    };
    const figures = createFigureReader({
        threescale: o.threescale, porta: o.porta, store, sealer: o.sealer, ledger, now,
        rememberPortaId: async (uid, id) => { await redis.hset(keys.app(sid, uid), "pid", String(id)); },
    });

    /** Who a transaction is for: the application id, or the confirmed credential when 3scale named no application. */
    const transactionIdentity = (uid: string, l: Ledger) => (isKeyOnlyUid(uid) ? identityOf(o.sealer, uid, l) : { appId: uid });

    /** Asks 3scale whether it still knows each application; the refused ones, with the code of the first refusal. */
    const refusedOf = async (uids: string[]): Promise<{ refused: string[]; code: string }> => {
        const ledgers = await ledgersOf(uids);
        const refused: string[] = [];
        let code = "";
        for (const uid of uids.slice(0, maxProbes)) {
            const identity = identityOf(o.sealer, uid, ledgers.get(uid) ?? {});
            if (!identity) continue;
            const outcome = await o.threescale.authorize(identity);
            if (refusesCredential(outcome)) {
                refused.push(uid);
                code ||= outcome.code;
            }
        }
        return { refused, code };
    };

    type Sent = "accepted" | "in-doubt" | "rejected" | { split: Chunk[] } | Error;

    /** Two halves of a chunk 3scale can never take whole, each keeping its own witnesses. */
    const halves = async (chunk: Chunk): Promise<Chunk[]> => {
        const mid = Math.ceil(chunk.entries.length / 2);
        const parts = [chunk.entries.slice(0, mid), chunk.entries.slice(mid)].map((entries) => ({
            id: newId(), entries, witnesses: chunk.witnesses.filter((w) => entries.some((e) => e[1] === w)),
        }));
        await store.split(chunk.id, parts);
        return parts.map((p) => ({ ...p, state: "ready", sentAt: now(), verifyAt: 0, rounds: 0 }));
    };

    /** One transactions.xml call for a chunk, through the chunk's records. */
    const send = async (chunk: Chunk, summary: ReportSummary): Promise<Sent> => {
        const ledgers = await ledgersOf([...new Set(chunk.entries.map((e) => e[1]).filter(isKeyOnlyUid))]);
        const transactions: Transaction[] = [];
        for (const [minute, uid, hits] of chunk.entries) {
            const identity = transactionIdentity(uid, ledgers.get(uid) ?? {});
            if (identity) transactions.push({ identity, usage: { hits }, timestamp: minute * 60_000 });
        }
        if (transactions.length < chunk.entries.length) {
            // A key-only application whose credential cannot be opened (takePending drops those): kept apart, never sent without it.
            if (chunk.entries.length > 1) return { split: await halves(chunk) };
            await store.reject(chunk.id, "no_credential", "no credential to report the application by");
            summary.rejected += sum(chunk.entries);
            return "rejected";
        }
        let outcome: ReportOutcome = { kind: "failed", code: "not_sent", reason: "not sent" };
        for (let attempt = 1; attempt <= reportAttempts; attempt++) {
            if (attempt > 1) await new Promise((r) => setTimeout(r, retryPauseMs * (attempt - 1)));
            await store.markSent(chunk.id);
            outcome = await o.threescale.report(transactions);
            // Retry only what surely did not reach 3scale, and only a 5xx or an unreachable 3scale.
            if (outcome.kind === "accepted" || outcome.inDoubt || !(outcome.code === "server_error" || outcome.code === "unreachable")) break;
        }
        if (outcome.kind === "accepted") {
            const verifying = await store.settle(chunk.id, now() + reconcileAfterMs) === 2;
            // A call of one application risks only its own usage; a shared one without witnesses, everyone's.
            if (!verifying && new Set(chunk.entries.map((e) => e[1])).size > 1) summary.atRisk += sum(chunk.entries);
            summary.calls += 1;
            summary.transactions += transactions.length;
            summary.hits += sum(chunk.entries);
            return "accepted";
        }
        if (outcome.inDoubt) {
            log(`usage: no reply to a report of ${sum(chunk.entries)} hits (${outcome.reason}); it is reconciled with 3scale's figures before it is sent again`);
            summary.inDoubt += sum(chunk.entries);
            return "in-doubt";
        }
        if (outcome.unrepeatable && REQUEST_REFUSAL_CODES.has(outcome.code)) {
            // The request is refused whatever it carries: halving finds no bad transaction, only 2n-1 refused calls.
            const hits = sum(chunk.entries);
            const reason = `3scale refuses the reporter's own request (${outcome.reason}), whatever transactions it carries: a fault of the reporter, not of this usage`;
            await store.reject(chunk.id, outcome.code, reason);
            log(`usage: ${reason}; ${hits} hits of ${new Set(chunk.entries.map((e) => e[1])).size} application(s) kept apart in the rejected record, never sent again unchanged`);
            summary.rejected += hits;
            return "rejected";
        }
        if (outcome.unrepeatable) {
            // apisonator read nothing of it and never will: find the transactions it cannot read.
            if (chunk.entries.length > 1) return { split: await halves(chunk) };
            const [[minute, uid, hits]] = chunk.entries;
            await store.reject(chunk.id, outcome.code, outcome.reason);
            log(`usage: 3scale can never take ${hits} hits of ${uid} (minute ${minute}): ${outcome.reason}; kept apart in the rejected record, never sent again`);
            summary.rejected += hits;
            return "rejected";
        }
        await store.unsend(chunk.id);
        return new Error(`usage: 3scale did not accept a report (${outcome.code}: ${outcome.reason}); its ${sum(chunk.entries)} hits are back in pending`);
    };

    /**
     * Sends the chunks side by side: none waits for another's retries or timeout, so what a run takes
     * is in 3scale, or in doubt, within one call's time rather than the whole run's. A split's parts go
     * one after the other. A chunk that fails goes back to pending; the first error is thrown after.
     */
    const sendAll = async (chunks: Chunk[], summary: ReportSummary, started: number, errors: Error[]): Promise<void> => {
        const sendOne = async (chunk: Chunk): Promise<void> => {
            // Stop well inside the lease; the rest goes back for the next run.
            const result = now() - started < leaseMs / 2 ? await send(chunk, summary) : new Error("usage: the run is out of time; the rest waits for the next run");
            if (typeof result === "object" && "split" in result) {
                for (const part of result.split) await sendOne(part);
            } else if (result instanceof Error) {
                await store.unsend(chunk.id);
                errors.push(result);
            }
        };
        await Promise.all(chunks.map(sendOne));
    };

    /** A report that got no reply, past the reconcile delay: settled, sent again, or left in doubt. */
    const reconcile = async (chunk: Chunk, summary: ReportSummary, errors: Error[], doubtful: ReadonlySet<string>): Promise<void> => {
        const hits = sum(chunk.entries);
        const { verdict } = await figures.verdict(chunk, true, doubtful);
        if (verdict === "applied" || verdict === "unverifiable") {
            await store.settle(chunk.id);
            if (verdict === "applied") summary.reconciled.applied += hits;
            else {
                summary.reconciled.unverified += hits;
                log(`usage: a report of ${hits} hits got no reply and none of its applications has figures to check it against (no limit on hits, no porta access token); assumed taken by 3scale`);
            }
        } else if (verdict === "not-applied") {
            log(`usage: 3scale's figures show a report of ${hits} hits that got no reply never arrived; sending it again`);
            const before = summary.hits;
            await sendAll([chunk], summary, now(), errors);
            summary.reconciled.resent += summary.hits - before;
        } else {
            summary.inDoubt += hits;
        }
    };

    /** A report 3scale took (202), past the delay: its witnesses tell whether the report job ran or dropped it. */
    const verify = async (chunk: Chunk, summary: ReportSummary, doubtful: ReadonlySet<string>): Promise<void> => {
        const hits = sum(chunk.entries);
        const { verdict } = await figures.verdict(chunk, false, doubtful);
        if (verdict === "applied" || verdict === "unverifiable") {
            await store.verified(chunk.id);
            if (verdict === "applied") summary.verified.applied += hits;
            else summary.verified.unverified += hits;
            return;
        }
        if (verdict === "not-applied") {
            const { refused, code } = await refusedOf([...new Set(chunk.entries.map((e) => e[1]))]);
            if (refused.length > 0) {
                const back = await store.unsettle(chunk.id, refused, code, "3scale's report job dropped the call this usage was in: 3scale no longer knows the application");
                const lost = hits - back;
                summary.refused += lost;
                summary.verified.requeued += back;
                log(`usage: 3scale dropped a report of ${hits} hits after its 202 (${code}); ${lost} hits of ${refused.length} application(s) it no longer knows are kept apart, ${back} go back to be sent again`);
                return;
            }
        }
        // 3scale failed, or no application is refused: the job may only be late. Read again later, a few times.
        if (chunk.rounds + 1 >= VERIFY_ROUNDS) {
            await store.verified(chunk.id);
            summary.verified.unverified += hits;
            log(`usage: a report of ${hits} hits 3scale took does not show in its figures after ${VERIFY_ROUNDS} reads, and 3scale refuses none of its applications; left as taken`);
            return;
        }
        await store.verified(chunk.id, now() + reconcileAfterMs);
    };

    /** The chunks Redis keeps, in the order they were made; ids with no record are forgotten. */
    const readChunks = async (): Promise<Chunk[]> => {
        const out: Chunk[] = [];
        for (const id of await redis.zrange(keys.chunks(sid), 0, -1)) {
            const chunk = await store.readChunk(id);
            if (chunk) out.push(chunk);
            else await redis.zrem(keys.chunks(sid), id);
        }
        return out;
    };
    /** The applications with hits in the chunks given but `except`. */
    const uidsOf = (chunks: Chunk[], except = ""): Set<string> => new Set(chunks.filter((c) => c.id !== except).flatMap((c) => c.entries.map((e) => e[1])));

    /** Settles records earlier runs left; returns what stays unresolved. */
    const settleLeftovers = async (summary: ReportSummary, errors: Error[]): Promise<Unresolved> => {
        for (const batchId of await redis.zrange(keys.batches(sid), 0, -1)) {
            const target = batchId.startsWith("q-") ? keys.unconfirmed(sid) : keys.pending(sid);
            if (await store.putBack(batchId, target) > 0) summary.reclaimed += 1;
        }
        const open = new Map((await readChunks()).map((c) => [c.id, c]));
        for (const chunk of [...open.values()]) {
            // A witness's figure tells nothing while it holds hits of another report that may or may not
            // be in 3scale: one in doubt; and, for a report in doubt (whose hits would be sent again),
            // one taken that is not verified yet either (its job may have been dropped).
            const others = [...open.values()].filter((c) => c.state === "sent" || chunk.state === "sent");
            const doubtful = uidsOf(others, chunk.id);
            if (chunk.state === "ready") {
                await store.unsend(chunk.id);
                summary.reclaimed += 1;
            } else if (chunk.state === "sent") {
                if (now() - chunk.sentAt < reconcileAfterMs) summary.inDoubt += sum(chunk.entries);
                else await reconcile(chunk, summary, errors, doubtful);
            } else if (now() >= chunk.verifyAt) {
                await verify(chunk, summary, doubtful);
            }
            if (await redis.exists(keys.chunk(sid, chunk.id)) === 0) open.delete(chunk.id);
        }
        const inDoubt = (await readChunks()).filter((c) => c.state === "sent");
        return { inDoubt: new Set(inDoubt.map((c) => c.id)), doubtful: uidsOf(inDoubt) };
    };

    /** Asks 3scale about credentials it never confirmed; confirmed ones join the pending counts, refused ones are kept apart. */
    const confirmUnconfirmed = async (summary: ReportSummary): Promise<void> => {
        const batchId = `q-${newId()}`;
        const flat = await store.take(keys.unconfirmed(sid), batchId);
        if (flat.length === 0) return;
        const bySealed = new Map<string, [field: string, minute: number, hits: number][]>();
        const unusable: DroppedField[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
            const f = parseUsageField(flat[i]);
            if (!f) {
                unusable.push({ field: flat[i], uid: "" });
                continue;
            }
            push(bySealed, f.who, [flat[i], f.minute, Number(flat[i + 1])]);
        }
        let probes = 0;
        for (const [sealed, fields] of bySealed) {
            const identity = openIdentity(o.sealer, sealed);
            const hits = fields.reduce((n, [, , h]) => n + h, 0);
            if (!identity) {
                unusable.push(...fields.map(([field]) => ({ field, uid: "" })));
                summary.dropped += fields.length;
                continue;
            }
            if (probes >= maxProbes) break;
            probes += 1;
            const outcome = await o.threescale.authorize(identity);
            if (refusesCredential(outcome)) {
                log(`usage: 3scale refuses a credential served in allow mode (${outcome.code}); its ${hits} hits are kept apart`);
                await store.drop(batchId, fields.map(([field]) => ({ field, uid: "", code: outcome.code, reason: "served in allow mode; 3scale refuses the credential" })));
                summary.refused += hits;
            } else if (outcome.kind !== "failed") {
                const uid = appUid(outcome.appId, "userKey" in identity ? tokenHash(identity.userKey) : tokenHash(identity.appId));
                const pairs = fields.flatMap(([field, minute]) => [field, usageField(minute, uid)]);
                summary.confirmed += await store.confirm(batchId, uid, sealed, pairs);
            }
        }
        if (unusable.length > 0) await store.drop(batchId, unusable);
        await store.putBack(batchId, keys.unconfirmed(sid));
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

    /** The batch's entries by application, with what can never be reported dropped. */
    const readBatch = (flat: string[], summary: ReportSummary, drop: DroppedField[]): Map<string, Entry[]> => {
        const byUid = new Map<string, Entry[]>();
        const oldest = now() - REPORTABLE_AGE_MS;
        for (let i = 0; i + 1 < flat.length; i += 2) {
            const f = parseUsageField(flat[i]);
            const hits = Number(flat[i + 1]);
            if (!f || !(hits > 0)) {
                drop.push({ field: flat[i], uid: f?.who ?? "" });
                summary.dropped += 1;
            } else if (f.minute * 60_000 < oldest) {
                drop.push({ field: flat[i], uid: f.who, code: "too_old", reason: "older than 3scale accepts (a day)" });
                summary.expired += hits;
            } else {
                push(byUid, f.who, [f.minute, f.who, hits]);
            }
        }
        if (summary.expired > 0) log(`usage: ${summary.expired} hits are older than 3scale accepts (a day) and are kept apart`);
        return byUid;
    };

    /** Takes the pending counts and cuts them into chunks of confirmed applications; what cannot go now goes back. */
    const takePending = async (summary: ReportSummary, unresolved: Unresolved): Promise<Chunk[]> => {
        const batchId = newId();
        const flat = await store.take(keys.pending(sid), batchId);
        await upgradeLegacyFields(keys.batch(sid, batchId), flat);
        const drop: DroppedField[] = [];
        const byUid = readBatch(flat, summary, drop);
        // Only applications 3scale confirmed lately go in a shared call: ask about the others first.
        const witnesses: string[] = [];
        const others: string[] = [];
        const solo: string[] = [];
        let probes = 0;
        const ledgers = await ledgersOf([...byUid.keys()]);
        for (const [uid, entries] of byUid) {
            const l = ledgers.get(uid) ?? {};
            if (l.w && unresolved.inDoubt.has(l.w)) {
                // It witnesses a report in doubt: its figures must not move until that is settled.
                // A witness of a report 3scale took keeps reporting: what it reports settles at once,
                // so the verification's figure counts it (report-figures.ts).
                summary.held += sum(entries);
                byUid.delete(uid); // stays in the batch, put back below
                continue;
            }
            if (!transactionIdentity(uid, l)) {
                drop.push(...entries.map((e) => ({ field: usageField(e[0], uid), uid, code: "no_credential", reason: "no credential to report the application by" })));
                summary.dropped += entries.length;
                byUid.delete(uid);
                continue;
            }
            const confirmedAt = Number(l.t ?? 0);
            if (l.r === "1" || now() - confirmedAt > confirmMaxAgeMs) {
                const probeWith = identityOf(o.sealer, uid, l);
                if (probes >= maxProbes || !probeWith) {
                    byUid.delete(uid); // stays in the batch, put back below
                    continue;
                }
                probes += 1;
                const outcome = await o.threescale.authorize(probeWith);
                if (refusesCredential(outcome)) {
                    log(`usage: 3scale no longer knows an application with ${sum(entries)} unreported hits; they are kept apart`);
                    drop.push(...entries.map((e) => ({ field: usageField(e[0], uid), uid, code: outcome.code, reason: "3scale no longer knows the application" })));
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
            // Only an application with nothing in doubt has a figure that can tell this chunk.
            (!unresolved.doubtful.has(uid) && figures.canWitness(uid, l, entries) ? witnesses : others).push(uid);
        }
        if (drop.length > 0) await store.drop(batchId, drop);
        // Limited witnesses first (one authorize.xml reads them), then by hits; dealt round-robin so every call gets some.
        const weight = (uid: string): number => (figures.isLimited(ledgers.get(uid) ?? {}, byUid.get(uid) ?? []) ? 1e12 : 0) + sum(byUid.get(uid) ?? []);
        witnesses.sort((a, b) => weight(b) - weight(a));
        const ordered = [...witnesses, ...others];
        const transactions = ordered.reduce((n, uid) => n + (byUid.get(uid)?.length ?? 0), 0);
        const count = Math.max(Math.ceil(ordered.length / batchSize), Math.ceil(transactions / maxTransactions));
        const groups: { entries: Entry[]; witnesses: string[] }[] = Array.from({ length: count }, () => ({ entries: [], witnesses: [] }));
        ordered.forEach((uid, i) => {
            const g = groups[i % count];
            g.entries.push(...(byUid.get(uid) ?? []));
            if (i < witnesses.length && g.witnesses.length < WITNESSES_PER_CHUNK) g.witnesses.push(uid);
        });
        for (const uid of solo) groups.push({ entries: byUid.get(uid) ?? [], witnesses: [] });
        const chunks: Chunk[] = [];
        for (const g of groups) {
            if (g.entries.length === 0) continue;
            const id = newId();
            await store.createChunk(batchId, id, g.entries, g.witnesses, g.entries.map((e) => usageField(e[0], e[1])));
            chunks.push({ id, entries: g.entries, state: "ready", sentAt: now(), witnesses: g.witnesses, verifyAt: 0, rounds: 0 });
        }
        await store.putBack(batchId, keys.pending(sid));
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
                        const unresolved = await settleLeftovers(summary, errors);
                        if (errors.length === 0) {
                            await confirmUnconfirmed(summary);
                            await sendAll(await takePending(summary, unresolved), summary, started, errors);
                        }
                    } finally {
                        await store.release(owner).catch(() => undefined);
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
