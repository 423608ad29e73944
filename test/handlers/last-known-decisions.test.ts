import * as assert from "assert";
import { createLastKnownDecisions, MAX_KNOWN_DECISIONS } from "../../handlers/last-known-decisions";

describe("last known decisions in the container (handlers/last-known-decisions.ts)", () => {
    let clock = 0;
    const allowed = (plan: string, until: number) => ({ allowed: true as const, plan, uid: `app-${plan}`, until });

    beforeEach(() => {
        clock = 1_000;
    });

    it("keeps at most 10,000 by default, dropping the least recently used", () => {
        const memory = createLastKnownDecisions(() => clock);
        for (let i = 0; i < MAX_KNOWN_DECISIONS + 500; i++) memory.remember(`h${i}`, allowed("Basic", 10_000));
        assert.strictEqual(memory.size, MAX_KNOWN_DECISIONS);
        assert.strictEqual(memory.recall("h0"), undefined);
        assert.strictEqual(memory.recall("h499"), undefined);
        assert.ok(memory.recall("h500"));
    });

    it("a decision used recently outlives older ones", () => {
        const memory = createLastKnownDecisions(() => clock, 3);
        for (const h of ["a", "b", "c"]) memory.remember(h, allowed("Basic", 10_000));
        memory.confirm("a", "Basic", "app-Basic", 10_000); // a cache hit for a
        memory.remember("d", allowed("Gold", 10_000));
        assert.deepStrictEqual(["a", "b", "c", "d"].map((h) => memory.recall(h) !== undefined), [true, false, true, true]);
    });

    it("expires each decision at its own time, and a confirmation extends it", () => {
        const memory = createLastKnownDecisions(() => clock);
        memory.remember("a", allowed("Basic", 2_000));
        memory.remember("b", { allowed: false, reason: "user_key_invalid", until: 5_000 });
        memory.confirm("a", "Basic", "app-Basic", 3_000);
        clock = 2_500;
        assert.strictEqual((memory.recall("a") as { plan: string }).plan, "Basic");
        clock = 3_000;
        assert.strictEqual(memory.recall("a"), undefined);
        assert.deepStrictEqual(memory.recall("b"), { allowed: false, reason: "user_key_invalid", until: 5_000 });
    });

    it("a confirmation with another plan or application replaces what was known", () => {
        const memory = createLastKnownDecisions(() => clock);
        memory.remember("a", { allowed: false, reason: "limits", until: 9_000 });
        memory.confirm("a", "Gold", "app-Gold", 4_000);
        assert.deepStrictEqual(memory.recall("a"), allowed("Gold", 4_000));
    });
});
