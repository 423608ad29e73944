// The live pointer's state and changes (live/change.ts): what its program does with its last outputs
// and a ring command's change, whichever command sent it.
import * as assert from "assert";
import { EMPTY_STATE, LIVE_CHANGE_ENV, LivePointerChange, LivePointerError, nextState, readChange, stateFromOutputs } from "../../live/change";
import type { Cohort, RingHistoryEntry } from "../../outputs";

const entry = (to: string, from: string | null = "red"): RingHistoryEntry => ({
    at: "2026-11-23T10:00:00Z", kind: "flip", from, to, by: "alice (alice)", why: "release", gate: "passed",
});
const beta: Cohort = { slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 };

describe("live pointer: its state, kept as its stack's outputs", () => {
    it("nothing before its first deployment", () => {
        assert.deepStrictEqual(stateFromOutputs({}, "live"), EMPTY_STATE);
    });
    it("reads what its last deployment exported", () => {
        const outputs = { liveSlot: "black", previousLive: "red", ringHistory: [entry("black")], cohorts: [beta], liveUrl: "https://api.example.edu/", domainName: "api.example.edu" };
        assert.deepStrictEqual(stateFromOutputs(outputs, "live"), { liveSlot: "black", previousLive: "red", ringHistory: [entry("black")], cohorts: [beta] });
    });
    it("refuses outputs that are not the live pointer's, naming the output", () => {
        assert.throws(() => stateFromOutputs({ liveSlot: 3 }, "live"), (e: Error) => e instanceof LivePointerError && /liveSlot is 3; expected a slot name or null/.test(e.message));
        assert.throws(() => stateFromOutputs({ liveSlot: "red", ringHistory: [{ at: "yesterday" }] }, "live"), /ringHistory is .*; expected a list of history entries/);
        assert.throws(() => stateFromOutputs({ liveSlot: "red", cohorts: [{ slot: "black" }] }, "live"), /cohorts is .*; expected a list of cohorts/);
    });
});

describe("live pointer: a ring command's change, from the environment of one update", () => {
    const change: LivePointerChange = { expectedLive: "red", live: "black", previousLive: "red", cohorts: [], record: entry("black") };

    it("none when the variable is unset or empty: a plain `pulumi up` keeps what is live", () => {
        assert.strictEqual(readChange(undefined), undefined);
        assert.strictEqual(readChange("  "), undefined);
        const state = { liveSlot: "black", previousLive: "red", ringHistory: [entry("black")], cohorts: [beta] };
        assert.strictEqual(nextState(state, undefined, 20), state);
    });
    it("reads a flip", () => {
        assert.deepStrictEqual(readChange(JSON.stringify(change)), change);
    });
    it("refuses a malformed change, naming the variable and the field", () => {
        assert.throws(() => readChange("{not json"), (e: Error) => e instanceof LivePointerError && e.message.startsWith(`${LIVE_CHANGE_ENV}: got text that is not JSON`));
        assert.throws(() => readChange(JSON.stringify({ ...change, live: "../etc" })), /live is "\.\.\/etc"; expected a slot name or null/);
        assert.throws(() => readChange(JSON.stringify({ ...change, cohorts: "beta" })), /cohorts: expected a list of \{slot, headers/);
        assert.throws(() => readChange(JSON.stringify({ ...change, record: { kind: "flip" } })), /record: expected a history entry/);
        assert.throws(() => readChange(JSON.stringify({ ...change, cohorts: [{ ...beta, headers: [{ name: "Authorization", value: "x" }] }] })),
            /cohorts API Gateway would refuse:\n {2}- cohort 1 .*API Gateway refuses authorization as a routing rule condition/);
    });
    it("a flip points at the new slot, records the move and keeps the history bounded", () => {
        const before = { liveSlot: "red", previousLive: null, ringHistory: [entry("red", null), entry("black"), entry("red", "black")], cohorts: [beta] };
        const after = nextState(before, change, 3);
        assert.deepStrictEqual([after.liveSlot, after.previousLive, after.cohorts], ["black", "red", []]);
        assert.deepStrictEqual(after.ringHistory, [entry("black"), entry("red", "black"), entry("black")]);
    });
    it("refuses a change planned from another state: another flip came first", () => {
        assert.throws(() => nextState({ ...EMPTY_STATE, liveSlot: "black" }, change, 20),
            /the live pointer says black is live, but this change was planned from red live: another flip came first/);
    });
    it("a migration's change replaces the history with the one the primary kept", () => {
        const kept = [entry("black"), entry("red", "black")];
        const after = nextState(EMPTY_STATE, { expectedLive: null, live: "red", previousLive: "black", cohorts: [], history: kept }, 20);
        assert.deepStrictEqual(after, { liveSlot: "red", previousLive: "black", ringHistory: kept, cohorts: [] });
    });
    it("cohorts come out by priority", () => {
        const alpha = { ...beta, headers: [{ name: "X-Ring-Cohort", value: "alpha" }], priority: 50 };
        const after = nextState({ ...EMPTY_STATE, liveSlot: "red" }, { expectedLive: "red", live: "red", previousLive: null, cohorts: [beta, alpha] }, 20);
        assert.deepStrictEqual(after.cohorts.map((c) => c.priority), [50, 100]);
    });
});
