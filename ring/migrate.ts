// `ring migrate`: moves a ring deployed before the live pointer (the mapping, and the domain when the
// program created it, in the primary's state) to the live pointer's stack without touching AWS:
//   1. `pulumi state move` (CLI 3.115+; pulumi/pulumi pkg/cmd/pulumi/state/state_move.go) of the
//      DomainFlip component and its children from the primary's stack to the live pointer's. The URNs
//      are renamed to the live pointer's stack and project; the component, the live pointer's program
//      declares under the same type and name, so its next update finds them where they are: same.
//      The AWS provider is copied (it also stays in the primary); it must have the same region.
//   2. one update of the live pointer's stack that takes over what the primary recorded: the slot AWS
//      maps, the previous slot and the history. The mapping's inputs are unchanged, so AWS is not called.
//   3. `pulumi config rm` of the keys the primary no longer reads (ring:live, ring:previousLive,
//      ring:history, ring:historyLimit, domain:*), which the live pointer's stack holds now.
// The order matters: a primary deployed with this release before step 1 would delete the mapping; the
// program and `ring deploy` refuse that (guards.ts checkMappingMoved, plan.ts refuseUnmoved).
import { execFile } from "child_process";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { isRingHistoryEntry } from "../outputs";
import type { RingHistoryEntry } from "../outputs";
import type { LivePointerChange } from "../live/change";
import type { ReadState, RingContext } from "./ops";
import { DOMAIN_FLIP_TYPE, ExportedResource, GuardRefusal, RING_CMD, configValue, exportedResources, inRing, shellQuote, stackNameFor } from "./plan";
import { exportState, failure, readConfig } from "./workspace";

/** Keys the primary of a ring before the live pointer held, which the live pointer's stack holds now (or its state). */
const MOVED_KEYS = ["ring:live", "ring:previousLive", "ring:history", "ring:historyLimit"];
const DOMAIN_KEYS = ["domain:name", "domain:basePath", "domain:certificateArn", "domain:hostedZoneId"];

export interface MigrateResult {
    dryRun: boolean;
    /** The resources moved (their URNs in the primary's stack). */
    moved: string[];
    /** The slot AWS maps the domain to, which the live pointer now says is live. */
    live: string;
    /** What ran (or would run), in order. */
    commands: string[];
}

/** The DomainFlip components of a stack's state and everything under them. */
export function resourcesToMove(resources: readonly ExportedResource[]): string[] {
    const moving = new Set(resources.filter((r) => r.type === DOMAIN_FLIP_TYPE && r.delete !== true).map((r) => r.urn));
    for (let grew = true; grew;) {
        grew = false;
        for (const r of resources) {
            if (!moving.has(r.urn) && r.parent && moving.has(r.parent) && r.delete !== true) {
                moving.add(r.urn);
                grew = true;
            }
        }
    }
    return resources.filter((r) => moving.has(r.urn)).map((r) => r.urn);
}

function text(entry: unknown): string | undefined {
    const v = configValue(entry);
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** Runs the CLI directly (the Automation API has no `state move`), in `cwd`, with the ring's environment. */
function runCli(ctx: RingContext, args: string[], cwd: string): Promise<string> {
    const command = ctx.opts.pulumiCommand?.command ?? "pulumi";
    return new Promise((resolve, reject) => {
        execFile(command, [...args, "--non-interactive"], { cwd, env: { ...process.env, ...ctx.opts.envVars }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`code: ${err.code}\n stdout: ${stdout}\n stderr: ${stderr}\n err?: ${err.message}\n`));
            else resolve(stdout);
        });
    });
}

/** Checks that the live pointer's stack is configured for the domain the primary's state holds; returns the keys to copy to it. */
function domainKeysToCopy(state: ReadState, primaryCfg: ConfigMap, pointerCfg: ConfigMap, holdsDomain: boolean): [string, string][] {
    const copy: [string, string][] = [];
    for (const key of DOMAIN_KEYS) {
        const from = text(primaryCfg[key]);
        const to = text(pointerCfg[key]);
        if (from !== undefined && to !== undefined && from !== to) {
            throw new GuardRefusal(`${key} is "${from}" on the primary but "${to}" on the live pointer's stack ${state.pointer.stack}: the moved mapping would not match the live pointer's program`,
                `make them equal in live/Pulumi.${state.pointer.stack.split("/").pop()}.yaml, then rerun \`${RING_CMD} migrate\``);
        }
        if (from !== undefined && to === undefined) copy.push([key, from]);
    }
    const certificate = text(primaryCfg["domain:certificateArn"]) ?? text(pointerCfg["domain:certificateArn"]);
    if (holdsDomain && certificate === undefined) {
        throw new GuardRefusal(`the primary's state holds the custom domain itself, but no domain:certificateArn is set: the live pointer's program would not declare the domain, and its first update would delete it`,
            `set domain:certificateArn on the live pointer's stack (in live/: \`pulumi config set domain:certificateArn <arn> -s ${state.pointer.stack}\`), then rerun`);
    }
    return copy;
}

export async function migrate(ctx: RingContext): Promise<MigrateResult> {
    const state = await ctx.readState();
    const primaryStack = stackNameFor(state.ring.primary, ctx.opts.org);
    const resources = exportedResources(await exportState(ctx.ws, primaryStack));
    const moved = resourcesToMove(resources);
    const live = state.liveSlot;
    if (moved.length === 0) {
        if (state.pointerHasMapping && state.pointer.state.liveSlot === null && live !== undefined && inRing(state.ring, live)) {
            ctx.log(`migrate: the mapping is in the live pointer's stack already; completing the takeover`);
        } else {
            throw new GuardRefusal(`stack ${primaryStack} holds no ${DOMAIN_FLIP_TYPE} (the custom domain's mapping): there is nothing to move`,
                `nothing to do: \`${RING_CMD} status\` shows where the ring stands`);
        }
    }
    if (live === undefined || !inRing(state.ring, live)) {
        throw new GuardRefusal(`AWS maps ${state.domain} to ${live ?? "nothing"}, not a slot of the ring: the live pointer would not know which slot is live`,
            `point the mapping at a slot first (the old program's \`pulumi up -s ${primaryStack}\` with ring:live set), then rerun`);
    }
    const primaryCfg = await readConfig(ctx.ws, primaryStack) ?? {};
    const { config: pointerCfg } = await ctx.pointer.read();
    if (text(primaryCfg["aws:region"]) !== text(pointerCfg["aws:region"])) {
        throw new GuardRefusal(`aws:region is ${text(primaryCfg["aws:region"]) ?? "unset"} on ${primaryStack} but ${text(pointerCfg["aws:region"]) ?? "unset"} on the live pointer's stack ${state.pointer.stack}: ` +
            `the moved resources keep their provider, which a different region would replace (and the mapping with it)`,
            `set aws:region on the live pointer's stack to ${text(primaryCfg["aws:region"]) ?? "the primary's"} (in live/), then rerun`);
    }
    const holdsDomain = resources.some((r) => moved.includes(r.urn) && r.type === "aws:apigateway/domainName:DomainName");
    const copy = domainKeysToCopy(state, primaryCfg, pointerCfg, holdsDomain);

    const primaryOutputs = state.slots.find((s) => s.slot === state.ring.primary)?.outputs ?? {};
    const recorded = Array.isArray(primaryOutputs["ringHistory"]) ? primaryOutputs["ringHistory"] : configValue(primaryCfg["ring:history"]);
    const history: RingHistoryEntry[] = Array.isArray(recorded) ? recorded.filter(isRingHistoryEntry) : [];
    const previous = text(primaryCfg["ring:previousLive"]);
    const change: LivePointerChange = {
        expectedLive: null, live, previousLive: previous !== undefined && inRing(state.ring, previous) && previous !== live ? previous : null, cohorts: [], history,
    };
    const dest = `${ctx.opts.org ?? "organization"}/${ctx.pointer.project}/${ctx.pointer.stack.split("/").pop()}`;
    const limit = text(primaryCfg["ring:historyLimit"]);
    const toCopy = [...copy, ...(limit !== undefined && text(pointerCfg["ring:historyLimit"]) === undefined ? [["ring:historyLimit", limit] as [string, string]] : [])];
    const toRemove = [...MOVED_KEYS, ...DOMAIN_KEYS].filter((k) => primaryCfg[k] !== undefined);
    const commands = [
        ...(state.pointer.exists ? [] : [`(cd live && pulumi stack init ${ctx.pointer.stack})`]),
        ...toCopy.map(([k, v]) => `(cd live && pulumi config set ${k} ${shellQuote(v)} --stack ${ctx.pointer.stack})`),
        ...(moved.length > 0 ? [`pulumi state move --source ${primaryStack} --dest ${dest} --yes ${moved.map(shellQuote).join(" ")}`] : []),
        ctx.pointer.commandLine(change),
        ...toRemove.map((k) => `pulumi config rm ${k} --stack ${primaryStack}`),
    ];
    ctx.log(`migrate: moving ${moved.length} resource(s) of the live pointer from ${primaryStack} to ${dest}; ${live} stays live, AWS is not called`);
    if (ctx.opts.dryRun) return { dryRun: true, moved, live, commands };

    if (await ctx.pointer.ensureStack()) ctx.log(`migrate: created the live pointer's stack ${ctx.pointer.stack} (live/)`);
    for (const [key, value] of toCopy) {
        await ctx.pointer.setConfig(key, value);
        ctx.log(`migrate: set ${key} on the live pointer's stack (live/Pulumi.${ctx.pointer.stack.split("/").pop()}.yaml)`);
    }
    if (moved.length > 0) {
        try {
            ctx.log((await runCli(ctx, ["state", "move", "--source", primaryStack, "--dest", dest, "--yes", ...moved], ctx.opts.cwd)).trim());
        } catch (err) {
            throw failure("moving the mapping's state", primaryStack, err,
                `nothing was deleted; \`pulumi state move\` saves the destination before the source (CLI 3.115 or later). Fix the error above and rerun \`${RING_CMD} migrate\``);
        }
    }
    try {
        await ctx.pointer.apply(change, `ring migrate: the live pointer takes over the mapping (${live} live)`);
    } catch (err) {
        throw failure("the live pointer's first update", ctx.pointer.stack, err,
            `the mapping is in the live pointer's state and still serves ${live}; fix the error above and rerun \`${RING_CMD} migrate\` to complete the takeover`);
    }
    for (const key of toRemove) {
        await ctx.ws.removeConfig(primaryStack, key);
        ctx.log(`migrate: removed ${key} from ${primaryStack} (its stack file): the live pointer holds it now`);
    }
    return { dryRun: false, moved, live, commands };
}
