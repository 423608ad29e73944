// What the live pointer's program does with its last state and a change: the contract between the
// ring commands, which describe a change, and the program, which applies it. Pure: no Pulumi import,
// so the commands and the tests use the same rules.
//
// The program reads its last state from its own stack's outputs (a StackReference to the stack being
// updated answers the previous deployment's root outputs: pulumi/pulumi pkg/resource/deploy/builtins.go
// readStackReference, pkg/backend/backend.go GetStackOutputs, which reads the stack's last snapshot).
// A ring command hands its change in the environment of that one `pulumi up` (LIVE_CHANGE_ENV), never
// in a file: an update without it keeps what is live, the history and the cohorts.
import { Cohort, RingHistoryEntry, SLOT_NAME, isRingHistoryEntry } from "../outputs";
import { cohortProblems, isCohort } from "./cohorts";

/** The environment variable a ring command sets on the one `pulumi up` that applies its change. */
export const LIVE_CHANGE_ENV = "API_RING_LIVE_CHANGE";

/** Which slot is live, the history and the cohorts: the live pointer's state, kept as its stack's outputs. */
export interface LivePointerState {
    liveSlot: string | null;
    previousLive: string | null;
    ringHistory: RingHistoryEntry[];
    cohorts: Cohort[];
}

/** A change a ring command asks of the live pointer. */
export interface LivePointerChange {
    /** What the command read as live before the change: the program refuses when its state says otherwise (another move came first). */
    expectedLive: string | null;
    /** The slot the domain points at after the change; null points it at nothing. */
    live: string | null;
    previousLive: string | null;
    /** The cohorts after the change. */
    cohorts: Cohort[];
    /** A flip, rollback or automatic flip-back to append to the history. */
    record?: RingHistoryEntry;
    /** The whole history, replacing it (moving a ring deployed before the live pointer carries its history over). */
    history?: RingHistoryEntry[];
}

/** A refusal of the live pointer's program: a message for the user, no stack trace. */
export class LivePointerError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LivePointerError";
    }
}

/** The outputs that hold the state. */
export const STATE_OUTPUTS: readonly (keyof LivePointerState)[] = ["liveSlot", "previousLive", "ringHistory", "cohorts"];

export const EMPTY_STATE: LivePointerState = { liveSlot: null, previousLive: null, ringHistory: [], cohorts: [] };

function slotOrNull(value: unknown): value is string | null {
    return value === null || (typeof value === "string" && SLOT_NAME.test(value));
}

/**
 * The state the live pointer's last deployment left, from its stack's outputs (none before its first
 * deployment). Outputs that are not what the program writes are refused, naming the output: the next
 * change would otherwise build on them.
 */
export function stateFromOutputs(outputs: Record<string, unknown>, stack: string): LivePointerState {
    if (Object.keys(outputs).length === 0) return EMPTY_STATE;
    const bad = (name: string, expected: string) =>
        new LivePointerError(`the last outputs of stack ${stack} are not the live pointer's: ${name} is ${JSON.stringify(outputs[name]) ?? "missing"}; expected ${expected}. ` +
            `Run \`pulumi stack export -s ${stack}\` to see what holds it.`);
    const { liveSlot = null, previousLive = null, ringHistory = [], cohorts = [] } = outputs as Partial<LivePointerState>;
    if (!slotOrNull(liveSlot)) throw bad("liveSlot", "a slot name or null");
    if (!slotOrNull(previousLive)) throw bad("previousLive", "a slot name or null");
    if (!Array.isArray(ringHistory) || !ringHistory.every(isRingHistoryEntry)) throw bad("ringHistory", "a list of history entries");
    if (!Array.isArray(cohorts) || !cohorts.every(isCohort)) throw bad("cohorts", "a list of cohorts");
    return { liveSlot, previousLive, ringHistory, cohorts };
}

/** Reads a ring command's change from the environment; undefined when there is none (a plain `pulumi up`). */
export function readChange(raw: string | undefined): LivePointerChange | undefined {
    if (raw === undefined || raw.trim() === "") return undefined;
    const refuse = (what: string) => new LivePointerError(`${LIVE_CHANGE_ENV}: ${what}. It is set by the ring commands (\`npm run ring -- flip <slot>\`); unset it to keep what is live.`);
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        throw refuse(`got text that is not JSON (${JSON.stringify(raw.slice(0, 40))}); expected a change as JSON`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw refuse("expected a JSON object");
    const c = value as Record<string, unknown>;
    if (!slotOrNull(c.expectedLive)) throw refuse(`expectedLive is ${JSON.stringify(c.expectedLive)}; expected a slot name or null`);
    if (!slotOrNull(c.live)) throw refuse(`live is ${JSON.stringify(c.live)}; expected a slot name or null`);
    if (!slotOrNull(c.previousLive)) throw refuse(`previousLive is ${JSON.stringify(c.previousLive)}; expected a slot name or null`);
    if (!Array.isArray(c.cohorts) || !c.cohorts.every(isCohort)) throw refuse("cohorts: expected a list of {slot, headers: [{name, value}], priority}");
    const problems = cohortProblems(c.cohorts);
    if (problems.length > 0) throw refuse(`cohorts API Gateway would refuse:\n  - ${problems.join("\n  - ")}`);
    if (c.record !== undefined && !isRingHistoryEntry(c.record)) throw refuse("record: expected a history entry {at, kind, from, to, by, why, gate}");
    if (c.history !== undefined && !(Array.isArray(c.history) && c.history.every(isRingHistoryEntry))) throw refuse("history: expected a list of history entries");
    return {
        expectedLive: c.expectedLive, live: c.live, previousLive: c.previousLive, cohorts: c.cohorts,
        ...(c.record !== undefined ? { record: c.record as RingHistoryEntry } : {}),
        ...(c.history !== undefined ? { history: c.history as RingHistoryEntry[] } : {}),
    };
}

/**
 * The state after `change`, or the last state kept whole when there is none. A change made from a
 * state that is no longer the live pointer's (another flip came first) is refused.
 */
export function nextState(previous: LivePointerState, change: LivePointerChange | undefined, historyLimit: number): LivePointerState {
    if (change === undefined) return previous;
    if (change.expectedLive !== previous.liveSlot) {
        throw new LivePointerError(`the live pointer says ${previous.liveSlot ?? "nothing"} is live, but this change was planned from ${change.expectedLive ?? "nothing"} live: ` +
            `another flip came first. Check \`npm run ring -- status\` and rerun the command.`);
    }
    const history = [...(change.history ?? previous.ringHistory), ...(change.record ? [change.record] : [])].slice(-Math.max(1, historyLimit));
    return { liveSlot: change.live, previousLive: change.previousLive, ringHistory: history, cohorts: [...change.cohorts].sort((a, b) => a.priority - b.priority) };
}
