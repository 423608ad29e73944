// What `ring status` reports: every slot's stage URL, the release it serves (its own outputs, which
// only its own deploy changes), what AWS maps the domain to beside what the live pointer says (drift),
// the cohorts, the alarms and the history. Pure, like plan.ts.
import type { Cohort, RingHistoryEntry } from "../outputs";
import { AlarmState, Drift, LiveMapping, RING_CMD, RingState, currentLive, detectDrift, inRing } from "./plan";

/** "4 OK", or "1 ALARM (api-ring-black-5xx-rate), 3 OK". */
export function summarizeAlarms(states: readonly AlarmState[]): string {
    if (states.length === 0) return "none";
    const order: AlarmState["state"][] = ["ALARM", "MISSING", "INSUFFICIENT_DATA", "OK"];
    return order.map((state) => {
        const these = states.filter((a) => a.state === state);
        if (these.length === 0) return "";
        return state === "OK" || state === "INSUFFICIENT_DATA" ? `${these.length} ${state}` : `${these.length} ${state} (${these.map((a) => a.name).join(", ")})`;
    }).filter(Boolean).join(", ");
}

/** A cohort on one line: `X-Ring-Cohort=beta -> black (priority 100)`. */
export function formatCohort(c: Cohort): string {
    return `${c.headers.map((h) => `${h.name}=${h.value}`).join(" and ")} -> ${c.slot} (priority ${c.priority})`;
}

/** One history entry on one line, for people. */
export function formatHistoryEntry(e: RingHistoryEntry): string {
    const releases = e.fromRelease || e.toRelease ? ` (${e.fromRelease ?? "?"} -> ${e.toRelease ?? "?"})` : "";
    const cohorts = e.removedCohorts?.length ? `  ended cohorts: ${e.removedCohorts.map(formatCohort).join("; ")}` : "";
    return `${e.at}  ${e.kind} ${e.from ?? "nothing"} -> ${e.to}${releases}  by ${e.by}  gate ${e.gate}${e.why ? `  why: ${e.why}` : ""}${cohorts}`;
}

/** One row of `status`. */
export interface SlotStatus {
    slot: string;
    stack: string;
    primary: boolean;
    deployed: boolean;
    live: boolean;
    invokeUrl?: string;
    stageName?: string;
    restApiId?: string;
    /** The document and release the slot serves: its own outputs, written only by its own deploy. */
    specSha256?: string;
    releaseId?: string;
    /** The cohorts that reach this slot. */
    cohorts: Cohort[];
    /** The slot's bake alarms and its dead-letter alarm, when they could be read. */
    alarms?: AlarmState[];
}

export interface RingStatus {
    order: string[];
    primary: string;
    /** What the domain points at, as AWS's mapping says. */
    live?: string;
    /** Why AWS could not be read (then `live` is unknown, not "none"). */
    awsError?: string;
    /** The mapped domain and base path, and what AWS maps it to (null: no mapping). */
    domain?: string;
    mapping?: (LiveMapping & { slot?: string }) | null;
    /** The live pointer's stack and what its state says. */
    pointerStack: string;
    pointerLive: string | null;
    previousLive: string | null;
    /** AWS and the live pointer disagree. */
    drift?: Drift;
    /** Every recorded flip, rollback and automatic flip-back, oldest first. */
    history: RingHistoryEntry[];
    cohorts: Cohort[];
    liveUrl?: string;
    /** Advice when state and AWS disagree. */
    warnings: string[];
    slots: SlotStatus[];
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** What status adds to the state: the alarms' states, what could not be read, the live URL. */
export interface StatusExtras {
    /** Set when AWS could not be read: the live slot is unknown. */
    awsError?: string;
    alarms?: Record<string, AlarmState[]>;
    warnings?: string[];
    liveUrl?: string;
}

/** Builds the status report (never includes secret outputs). */
export function buildStatus(state: RingState, extras: StatusExtras = {}): RingStatus {
    const live = currentLive(state);
    const warnings: string[] = [...(extras.warnings ?? [])];
    const drift = detectDrift(state);
    if (drift) warnings.push(`${drift.message}; ${drift.fix}`);
    if (live !== undefined && !inRing(state.ring, live)) {
        warnings.push(`the live slot "${live}" is not in ring:order; \`${RING_CMD} deploy\` will release to ${state.ring.order[0]}`);
    }
    const pointer = state.pointer.state;
    return {
        order: state.ring.order,
        primary: state.ring.primary,
        live,
        liveUrl: extras.liveUrl,
        awsError: extras.awsError,
        domain: state.domain,
        mapping: state.mapping === undefined ? undefined
            : state.mapping === null ? null
                : { ...state.mapping, ...(inRing(state.ring, state.liveSlot) ? { slot: state.liveSlot } : {}) },
        pointerStack: state.pointer.stack,
        pointerLive: pointer.liveSlot,
        previousLive: pointer.previousLive,
        drift,
        history: pointer.ringHistory,
        cohorts: pointer.cohorts,
        warnings,
        slots: state.slots.map((s) => ({
            slot: s.slot,
            stack: s.stack,
            primary: s.slot === state.ring.primary,
            deployed: s.deployed,
            live: live !== undefined && s.slot === live,
            invokeUrl: str(s.outputs["invokeUrl"]),
            stageName: str(s.outputs["stageName"]),
            restApiId: str(s.outputs["restApiId"]),
            specSha256: str(s.outputs["specSha256"]),
            releaseId: str(s.outputs["releaseId"]),
            cohorts: pointer.cohorts.filter((c) => c.slot === s.slot),
            alarms: extras.alarms?.[s.slot],
        })),
    };
}

/** History entries `status` prints; `--json` gives them all. */
export const HISTORY_SHOWN = 5;

/** Renders the status report as a table for people. */
export function formatStatus(st: RingStatus, project = "api-ring"): string {
    const lines: string[] = [];
    lines.push(`ring ${project}: order [${st.order.join(", ")}], primary ${st.primary}, live pointer stack ${st.pointerStack} (live/)`);
    lines.push(`live: ${st.live ?? (st.awsError ? "unknown (AWS could not be read)" : "none")}${st.liveUrl ? ` (${st.liveUrl})` : ""}` +
        `${st.previousLive ? `, previous: ${st.previousLive}` : ""}`);
    if (st.mapping !== undefined) {
        const aws = st.mapping === null ? "no mapping" : `api ${st.mapping.restApiId}, stage ${st.mapping.stage}`;
        lines.push(`mapping: ${st.domain ?? "domain"} -> ${aws} (AWS); live pointer: ${st.pointerLive ?? "nothing"}${st.drift ? "  DRIFT" : ""}`);
    }
    const rows = [["SLOT", "LIVE", "STACK", "STAGE URL", "SPEC", "RELEASE"]];
    for (const s of st.slots) {
        rows.push([
            s.slot + (s.primary ? " (primary)" : ""),
            s.live ? "*" : "",
            s.stack,
            s.deployed ? (s.invokeUrl ?? "-") : "never deployed",
            s.specSha256 ? s.specSha256.slice(0, 12) : "-",
            s.releaseId ?? "-",
        ]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) lines.push(r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
    if (st.cohorts.length > 0) {
        lines.push(`cohorts (requests to ${st.domain ?? "the domain"} carrying these headers reach the slot named, before the mapping):`);
        for (const c of st.cohorts) lines.push(`  ${formatCohort(c)}`);
    }
    const watched = st.slots.filter((s) => s.alarms !== undefined);
    if (watched.length > 0) lines.push(`alarms: ${watched.map((s) => `${s.slot} ${summarizeAlarms(s.alarms ?? [])}`).join("; ")}`);
    if (st.history.length > 0) {
        const shown = st.history.slice(-HISTORY_SHOWN);
        lines.push(`history (last ${shown.length} of ${st.history.length}; --json gives all):`);
        for (const e of shown) lines.push(`  ${formatHistoryEntry(e)}`);
    }
    for (const w of st.warnings) lines.push(`warning: ${w}`);
    return lines.join("\n");
}
