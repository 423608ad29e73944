// A flip, a rollback and an automatic flip-back, as progressive-delivery tools run them: the gate
// (the target's own stage URL, and each of its cohorts through the production hostname), one update
// of the live pointer's stack that re-points the mapping and records the move, AWS read back, then
// the bake, which flips back by itself when an alarm fires. Nothing here runs a slot's program or
// reads the working tree: a flip works from any checkout, at any release.
import type { GateOutcome, RingEventKind, RingHistoryEntry } from "../outputs";
import { probeValue } from "../live/cohorts";
import { GateResult, formatGate, runGate } from "./gate";
import type { ReadState, RingContext } from "./ops";
import { AlarmState, FlipOptions, FlipPlan, GuardRefusal, RING_CMD, configValue, detectDrift, firingAlarm, liveLabel, planFlip, slowerThanBake } from "./plan";
import type { SlotState } from "./plan";
import { failure, readConfig } from "./workspace";

/** How often the bake reads the alarms, by default. */
export const BAKE_POLL_MS = 30_000;
/** Consecutive failed alarm reads after which the bake stops watching (the flip stands). */
const BAKE_READ_FAILURES = 3;

export interface FlipResult {
    dryRun: boolean;
    plan: FlipPlan;
    /** The command the flip runs (or would run): one update of the live pointer's stack. */
    commands: string[];
    /** After a real flip: the URL the domain now serves. */
    liveUrl?: string;
    /** The smoke test, unless skipped. */
    gate?: GateResult;
    /** The history entry the flip records (or would record). */
    entry?: RingHistoryEntry;
    /** The watch after the flip, when it ran. */
    bake?: BakeReport;
}

export interface BakeReport {
    minutes: number;
    alarms: string[];
    polls: number;
    /** The alarm that fired, if one did. */
    fired?: AlarmState;
    /** The slot the ring flipped back to by itself. */
    flippedBackTo?: string;
    /** Why the ring could not flip back (it must be done by hand). */
    flipBackError?: string;
    /** Why the watch stopped before its end (alarms unreadable). */
    watchError?: string;
}

export interface FlipRequest extends FlipOptions {
    /** Flip without the smoke test (recorded as gate "skipped"). */
    skipGate?: boolean;
    /** Flip without watching the alarms afterwards. */
    noBake?: boolean;
    /** Why, for the history. */
    reason?: string;
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

function isoTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function regionOf(state: ReadState): string | undefined {
    const r = configValue(state.primaryConfig["aws:region"]);
    return typeof r === "string" ? r : undefined;
}

/** A slot's bake alarms, from its outputs. */
function bakeAlarms(slot: SlotState): string[] {
    const names = slot.outputs["alarmNames"];
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string" && n !== "") : [];
}

/** Gate, flip, confirm, bake; `kind` is flip or rollback (a rollback is never baked). */
export async function gatedFlip(ctx: RingContext, state: ReadState, plan: FlipPlan, kind: "flip" | "rollback", request: FlipRequest): Promise<FlipResult> {
    const dryRun = ctx.opts.dryRun === true;
    if (plan.noop) {
        ctx.log(`${kind}: slot ${plan.target} is already live (AWS and the live pointer agree); nothing to do`);
        return { dryRun, plan, commands: [] };
    }
    const targetSlot = state.slots.find((s) => s.slot === plan.target) as SlotState;
    const bakeMinutes = request.noBake ? 0 : state.settings.procedure.bakeMinutes;
    const alarms = bakeAlarms(targetSlot);
    if (bakeMinutes > 0 && alarms.length === 0) {
        throw new GuardRefusal(`slot "${plan.target}" (stack ${targetSlot.stack}) exports no alarmNames, so the ${bakeMinutes}-minute bake after the flip would watch nothing`,
            `redeploy it so its alarms exist (\`${RING_CMD} deploy ${plan.target}\`), or flip without the watch: \`${RING_CMD} ${kind}${kind === "flip" ? ` ${plan.target}` : ""} --no-bake\``);
    }

    let gate: GateResult | undefined;
    let gateOutcome: GateOutcome = "skipped";
    if (request.skipGate) {
        ctx.log(`gate: skipped (--skip-gate); recorded in the history`);
    } else {
        gate = await smokeTest(ctx, state, targetSlot);
        for (const line of formatGate(gate)) ctx.log(line);
        if (!gate.passed) {
            const failed = gate.checks.filter((c) => !c.ok);
            throw new GuardRefusal(`the smoke test of slot "${plan.target}" failed, so the domain stays on ${plan.from ?? "what it serves now"}:\n` +
                failed.map((c) => `  ${c.request}: expected ${c.expected}, got ${c.got}`).join("\n"),
                `fix the slot (\`${RING_CMD} deploy ${plan.target}\` with the right gateway:releaseId) and rerun, or flip without the gate: \`--skip-gate\` (recorded)`);
        }
        gateOutcome = "passed";
    }

    const entry = await historyEntry(ctx, state, kind, plan, gateOutcome, request.reason);
    const result = await applyMove(ctx, state, plan, kind, entry);
    if (dryRun) return { ...result, gate };
    await confirmMapping(ctx, state, plan.target);
    if (bakeMinutes > 0) result.bake = await bakeAndMaybeFlipBack(ctx, state, plan, entry, alarms, bakeMinutes);
    return { ...result, gate };
}

/** The smoke test: the target's stage URL (heartbeat, and the probe with the test key), and each of its cohorts through the domain. */
async function smokeTest(ctx: RingContext, state: ReadState, target: SlotState): Promise<GateResult> {
    const invokeUrl = str(target.outputs["invokeUrl"]);
    if (!invokeUrl) {
        throw new GuardRefusal(`slot "${target.slot}" (stack ${target.stack}) exports no invokeUrl, so the smoke test has nowhere to go`,
            `redeploy it: \`${RING_CMD} deploy ${target.slot}\``);
    }
    const procedure = state.settings.procedure;
    let probe;
    if (procedure.smokeTest && procedure.smokeTestKey) {
        let credentials = state.settings.credentials;
        if (target.slot !== state.ring.primary) {
            const cfg = await readConfig(ctx.ws, target.stack);
            credentials = cfg ? ctx.commandConfig(state.project, target.stack, cfg).credentials : credentials;
        }
        probe = { ...procedure.smokeTest, credentials, key: procedure.smokeTestKey };
    }
    const { name, basePath } = state.pointerConfig.domain;
    const cohorts = state.pointer.state.cohorts.filter((c) => c.slot === target.slot).map((c) => ({
        domainUrl: `https://${name}/${basePath}`,
        headers: Object.fromEntries(c.headers.map((h) => [h.name, probeValue(h.value)])),
    }));
    return runGate({ slot: target.slot, invokeUrl, releaseId: str(target.outputs["releaseId"]), probe, cohorts }, { fetch: ctx.opts.fetch });
}

async function historyEntry(ctx: RingContext, state: ReadState, kind: RingEventKind, plan: FlipPlan, gate: GateOutcome, reason: string | undefined, why?: string): Promise<RingHistoryEntry> {
    const release = (slot: string | undefined) => str(state.slots.find((s) => s.slot === slot)?.outputs["releaseId"]);
    const reasons = [why ?? reason?.trim(), plan.overrides ? `overrode ${plan.overrides.message}` : undefined].filter((r): r is string => !!r);
    const fromRelease = release(plan.from);
    const toRelease = release(plan.target);
    return {
        at: isoTime(ctx.clock.now()),
        kind,
        from: plan.from ?? null,
        to: plan.target,
        ...(fromRelease ? { fromRelease } : {}),
        ...(toRelease ? { toRelease } : {}),
        by: await ctx.who(),
        why: reasons.join("; ") || "(no reason given: pass --reason)",
        gate,
        ...(plan.removedCohorts.length > 0 ? { removedCohorts: plan.removedCohorts } : {}),
    };
}

/** One update of the live pointer's stack: the mapping re-pointed, the move recorded. A failed update changes nothing. */
async function applyMove(ctx: RingContext, state: ReadState, plan: FlipPlan, kind: RingEventKind, entry: RingHistoryEntry): Promise<FlipResult> {
    const change = { ...plan.change, record: entry };
    const commands = [ctx.pointer.commandLine(change)];
    ctx.log(`${kind}: ${plan.from ?? "none"} -> ${plan.target} on the live pointer's stack ${plan.pointerStack}${plan.removedCohorts.length ? `, ending ${plan.removedCohorts.length} cohort(s)` : ""}`);
    if (ctx.opts.dryRun) return { dryRun: true, plan, commands, entry };
    try {
        const outputs = await ctx.pointer.apply(change, `ring ${kind} to ${plan.target} (was ${plan.from ?? "none"})`);
        return { dryRun: false, plan, commands, entry, liveUrl: str(outputs["liveUrl"]) };
    } catch (err) {
        const verb = kind === "auto-rollback" ? "flip back" : kind;
        throw failure(`${verb} to slot "${plan.target}"`, plan.pointerStack, err, await whatHoldsAfterFailure(ctx, plan, kind));
    }
}

/**
 * After a failed update, what is true: an update can fail after some of its steps ran (the mapping
 * re-pointed, then a routing rule's step failed), and the engine then writes the outputs the program
 * registered over the old ones. So AWS is read again (GetBasePathMapping, as `status` reads it) with the
 * live pointer's state, and the fix follows from what they say.
 */
async function whatHoldsAfterFailure(ctx: RingContext, plan: FlipPlan, kind: RingEventKind): Promise<string> {
    const rerun = `\`${RING_CMD} ${kind === "auto-rollback" ? `flip ${plan.target}` : kind}${kind === "flip" ? ` ${plan.target}` : ""}\``;
    let now: ReadState;
    try {
        now = await ctx.readState(true);
    } catch (err) {
        return `could not read what AWS and the live pointer hold after the failure (${err instanceof Error ? err.message : String(err)}): check \`${RING_CMD} status\` before rerunning ${rerun}`;
    }
    const pointer = now.pointer.state.liveSlot;
    if (now.awsError !== undefined) {
        return `could not read what AWS maps after the failure (${now.awsError}); the live pointer says ${pointer ?? "nothing"} is live. Check \`${RING_CMD} status\` before rerunning ${rerun}`;
    }
    const aws = now.mapping ? now.liveSlot : undefined;
    const awsText = now.mapping ? `${now.liveSlot} (api ${now.mapping.restApiId}, stage ${now.mapping.stage})` : "nothing";
    if (aws === plan.target && pointer === plan.target) {
        return `the flip took effect before the update failed: AWS maps ${now.domain} to ${awsText} and the live pointer says ${plan.target} (its history records this ${kind}); ` +
            `what failed came after. Finish it with an update of the live pointer that changes nothing else: \`${ctx.pointer.commandLine()}\``;
    }
    if (aws === plan.from && pointer === plan.change.expectedLive) {
        return `the live pointer did not change: the domain still points at ${plan.from ?? "nothing"} (AWS, read again after the failure). Fix the error above and rerun ${rerun}`;
    }
    const drift = detectDrift(now);
    return `AWS maps ${now.domain} to ${awsText} now, and the live pointer says ${pointer ?? "nothing"} is live${drift ? `: ${drift.fix}` : ""}`;
}

/** After the update: does AWS now map the domain to the target? */
async function confirmMapping(ctx: RingContext, state: ReadState, target: string): Promise<void> {
    const { name, basePath } = state.pointerConfig.domain;
    try {
        const now = await ctx.aws(state.pointerConfig.region).liveMapping(name, basePath);
        const label = now ? liveLabel(state.slots, now) : "nothing";
        if (label === target) ctx.log(`AWS maps ${state.domain} to ${target} (api ${now?.restApiId}, stage ${now?.stage})`);
        else ctx.log(`warning: after the update, AWS maps ${state.domain} to ${label}, not ${target}; check \`${RING_CMD} status\``);
    } catch (err) {
        ctx.log(`warning: could not confirm the mapping in AWS: ${err instanceof Error ? err.message : String(err)}`);
    }
}

/** Watches the new live slot's alarms for the bake; when one fires, flips back to the slot live before and records why. */
async function bakeAndMaybeFlipBack(ctx: RingContext, state: ReadState, plan: FlipPlan, entry: RingHistoryEntry, alarms: string[], minutes: number): Promise<BakeReport> {
    const report = await bake(ctx, state, plan.target, alarms, minutes);
    if (!report.fired) return report;
    const fired = report.fired;
    ctx.log(`bake: alarm ${fired.name} is ALARM: ${fired.reason ?? "(no reason given)"}`);
    const back = plan.from;
    // The ring as the flip left it: the live pointer on the target, its history with the flip.
    const pointer = { liveSlot: plan.target, previousLive: plan.change.previousLive, ringHistory: [...state.pointer.state.ringHistory, entry], cohorts: plan.change.cohorts };
    const after: ReadState = { ...state, liveSlot: plan.target, mapping: undefined, pointer: { ...state.pointer, state: pointer } };
    let backPlan: FlipPlan;
    try {
        if (back === undefined) throw new GuardRefusal("nothing was live before the flip", "flip to a slot by hand");
        backPlan = planFlip(after, back);
    } catch (err) {
        report.flipBackError = err instanceof Error ? err.message : String(err);
        ctx.log(`bake: cannot flip back by itself: ${report.flipBackError}`);
        return report;
    }
    ctx.log(`bake: flipping back to ${back}`);
    const backEntry = await historyEntry(ctx, state, "auto-rollback", backPlan, "not-run", undefined,
        `alarm ${fired.name} fired during the bake of ${plan.target}: ${fired.reason ?? "(no reason given)"}`);
    try {
        await applyMove(ctx, after, backPlan, "auto-rollback", backEntry);
        report.flippedBackTo = back;
        await confirmMapping(ctx, state, back);
    } catch (err) {
        report.flipBackError = err instanceof Error ? err.message : String(err);
    }
    return report;
}

/** Reads the alarms every poll until the bake ends or one fires; stops after repeated read failures. */
async function bake(ctx: RingContext, state: ReadState, slot: string, alarms: string[], minutes: number): Promise<BakeReport> {
    const pollMs = ctx.opts.bakePollMs ?? BAKE_POLL_MS;
    const end = ctx.clock.now() + minutes * 60_000;
    // Bounded by count as well as by time, whatever the clock does.
    const maxPolls = Math.ceil((minutes * 60_000) / pollMs) + 2;
    const report: BakeReport = { minutes, alarms, polls: 0 };
    ctx.log(`bake: watching ${alarms.length} alarms of ${slot} for ${minutes} min (until ${isoTime(end)}); Ctrl-C stops watching, the flip stays`);
    const missingSeen = new Set<string>();
    let failures = 0;
    while (report.polls < maxPolls) {
        report.polls++;
        try {
            const states = await ctx.aws(regionOf(state)).alarmStates(alarms);
            failures = 0;
            for (const a of states.filter((x) => x.state === "MISSING" && !missingSeen.has(x.name))) {
                missingSeen.add(a.name);
                ctx.log(`bake: warning: alarm ${a.name} does not exist in CloudWatch; the watch cannot see it`);
            }
            if (report.polls === 1) {
                for (const a of slowerThanBake(states, minutes)) {
                    ctx.log(`bake: warning: alarm ${a.name} needs ${(a.firesAfter.periodSeconds * a.firesAfter.datapoints) / 60} min of breaching data ` +
                        `(${a.firesAfter.datapoints} periods of ${a.firesAfter.periodSeconds} s), so it cannot fire within the ${minutes}-min bake; raise ring:bakeMinutes on ${state.ring.primary}`);
                }
            }
            const fired = firingAlarm(states);
            if (fired) return { ...report, fired };
        } catch (err) {
            failures++;
            const why = err instanceof Error ? err.message : String(err);
            ctx.log(`bake: could not read the alarms (${failures}/${BAKE_READ_FAILURES}): ${why}`);
            if (failures >= BAKE_READ_FAILURES) return { ...report, watchError: why };
        }
        const left = end - ctx.clock.now();
        if (left <= 0) break;
        await ctx.clock.sleep(Math.min(pollMs, left));
    }
    ctx.log(`bake: ${minutes} min without an alarm; ${slot} stays live`);
    return report;
}
