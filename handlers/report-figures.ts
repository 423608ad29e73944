// Did 3scale's report job apply a chunk? Told from the figures 3scale gives of the chunk's witnesses,
// never by sending it again to see. A report job is all or nothing (report_job.rb), so one witness
// answers for the whole chunk:
//   - a witness with a limit on hits: authorize.xml (never counts) gives its current_value per
//     period; the ledger's clean baseline C (the figure at a sync with nothing in flight) plus what
//     has settled since (ca:<period>) is what 3scale must show without the chunk;
//   - any application, when porta is configured (porta.ts): its hits in one hour, against what this
//     ring settled in that hour (keys.hours).
// A witness is held while its chunk is unresolved (report-store.ts), so nothing else of it moves
// its figures. Other 3scale clients spending the same application can only raise a figure: a
// chunk can look applied when it was not (a loss bounded by that chunk), never the reverse.
import { isKeyOnlyUid, openIdentity } from "./keys";
import type { PortaClient } from "./porta";
import type { Chunk, Entry, ReportStore } from "./report-store";
import type { KeySealer } from "./sealed-key";
import { Identity, refusesCredential, ThreescaleClient } from "./threescale";

export type Verdict = "applied" | "not-applied" | "unverifiable" | "unknown";

/** The ledger fields the figures are read against (decision-cache.ts, report-store.ts). */
export interface Ledger {
    k?: string;
    t?: string;
    r?: string;
    C?: string;
    w?: string;
    pid?: string;
    [field: string]: string | undefined;
}

export interface FigureSources {
    threescale: ThreescaleClient;
    porta?: PortaClient;
    store: ReportStore;
    sealer: KeySealer;
    ledger(uid: string): Promise<Ledger>;
    /** Keeps porta's id of an application in its ledger. */
    rememberPortaId(uid: string, id: number): Promise<void>;
    now(): number;
}

/** Witnesses per chunk: enough that one unreadable figure does not leave the chunk unverifiable. */
export const WITNESSES_PER_CHUNK = 3;

const sum = (entries: Entry[]): number => entries.reduce((n, e) => n + e[2], 0);

/** The credential to ask 3scale about an application with: the one it confirmed, else its id. */
export function identityOf(sealer: KeySealer, uid: string, l: Ledger): Identity | undefined {
    const sealed = l.k ? openIdentity(sealer, l.k) : undefined;
    if (sealed) return sealed;
    return isKeyOnlyUid(uid) ? undefined : { appId: uid };
}

/** The periods of a ledger's clean baseline that hold some of `entries` and are still open at `t`. */
export function baselinePeriods(l: Ledger, entries: Entry[], t: number): { period: string; startMs: number; expected: number; hits: number }[] {
    if (!l.C) return [];
    return l.C.split(";").map((p) => {
        const [period, start, end, current] = p.split(",");
        const startMs = Number(start);
        const endMs = Number(end);
        const hits = sum(entries.filter(([minute]) => (startMs < 0 || minute * 60_000 >= startMs) && (endMs < 0 || minute * 60_000 < endMs)));
        return { period, startMs, endMs, expected: Number(current) + Number(l[`ca:${period}`] ?? 0), hits };
    }).filter((p) => p.hits > 0 && (p.endMs < 0 || t < p.endMs));
}

type WitnessAnswer = "applied" | "not-applied" | "gone" | "unknown" | "none";

export function createFigureReader(src: FigureSources) {
    /** A limited witness: authorize.xml's figure against the baseline. */
    const limitedFigure = async (uid: string, l: Ledger, entries: Entry[], pending: boolean): Promise<WitnessAnswer> => {
        const periods = baselinePeriods(l, entries, src.now());
        const identity = identityOf(src.sealer, uid, l);
        if (periods.length === 0 || !identity) return "none";
        const outcome = await src.threescale.authorize(identity);
        if (refusesCredential(outcome)) return "gone";
        if (outcome.kind === "failed") return "unknown";
        for (const p of periods) {
            const figure = outcome.usageReports.find((r) => r.metric === "hits" && r.period === p.period && (p.startMs < 0 || r.startMs === p.startMs));
            if (figure) return figure.currentValue < p.expected + (pending ? p.hits : 0) ? "not-applied" : "applied";
        }
        return "none";
    };

    /** Any witness, with porta: its hits in the hour holding most of its entries, against what settled in that hour. */
    const portaFigure = async (uid: string, l: Ledger, entries: Entry[], pending: boolean): Promise<WitnessAnswer> => {
        const porta = src.porta;
        const identity = identityOf(src.sealer, uid, l);
        if (!porta || !identity) return "none";
        const byHour = new Map<number, number>();
        for (const [minute, , hits] of entries) byHour.set(Math.floor(minute / 60), (byHour.get(Math.floor(minute / 60)) ?? 0) + hits);
        const [hour, hits] = [...byHour.entries()].sort((a, b) => b[1] - a[1])[0];
        let pid = Number(l.pid ?? NaN);
        if (!Number.isInteger(pid)) {
            const found = await porta.applicationId(identity);
            if (found.kind === "not-found") return "gone";
            if (found.kind === "failed") return "unknown";
            pid = found.value;
            await src.rememberPortaId(uid, pid);
        }
        const figure = await porta.hitsInHour(pid, hour * 3_600_000);
        if (figure.kind === "not-found") return "gone";
        if (figure.kind === "failed") return "unknown";
        const expected = await src.store.settledInHour(uid, hour) + (pending ? hits : 0);
        return figure.value < expected ? "not-applied" : "applied";
    };

    return {
        /**
         * Whether the chunk is in 3scale, from up to WITNESSES_PER_CHUNK witnesses. `pending`: the
         * chunk is not settled here yet (no reply came), so its own hits are added to what must show.
         * `gone` counts witnesses 3scale no longer knows (a job with one of them in it was dropped).
         * A witness in `doubtful` (hits in another report with no reply) cannot tell: unknown.
         */
        async verdict(chunk: Chunk, pending: boolean, doubtful: ReadonlySet<string> = new Set()): Promise<{ verdict: Verdict; gone: number }> {
            const byUid = new Map<string, Entry[]>();
            for (const e of chunk.entries) byUid.set(e[1], [...(byUid.get(e[1]) ?? []), e]);
            let unknown = 0;
            let gone = 0;
            for (const uid of chunk.witnesses.slice(0, WITNESSES_PER_CHUNK)) {
                const entries = byUid.get(uid) ?? [];
                if (entries.length === 0) continue;
                if (doubtful.has(uid)) {
                    unknown += 1;
                    continue;
                }
                const l = await src.ledger(uid);
                let answer = await limitedFigure(uid, l, entries, pending);
                if (answer === "none") answer = await portaFigure(uid, l, entries, pending);
                if (answer === "not-applied") return { verdict: "not-applied", gone };
                // One witness that shows the chunk answers for all of it: a report job is all or nothing.
                if (answer === "applied") return { verdict: "applied", gone };
                else if (answer === "unknown") unknown += 1;
                else if (answer === "gone") gone += 1;
            }
            // A witness 3scale no longer knows: a job with it in was dropped whole (or will be).
            if (gone > 0) return { verdict: "not-applied", gone };
            return { verdict: unknown > 0 ? "unknown" : "unverifiable", gone };
        },
        /** Whether an application can witness a chunk of `entries`: a limited clean baseline now, or porta. */
        canWitness(uid: string, l: Ledger, entries: Entry[]): boolean {
            if (!identityOf(src.sealer, uid, l)) return false;
            return baselinePeriods(l, entries, src.now()).length > 0 || src.porta !== undefined;
        },
        /** Whether the application's figures come from authorize.xml (one call) rather than porta (one or two). */
        isLimited(l: Ledger, entries: Entry[]): boolean {
            return baselinePeriods(l, entries, src.now()).length > 0;
        },
    };
}

export type FigureReader = ReturnType<typeof createFigureReader>;
