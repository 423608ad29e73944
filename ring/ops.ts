// The ring commands' side effects, through Pulumi's Automation API (which drives the `pulumi` CLI),
// the AWS SDK (what is live, the alarms) and HTTP (the gate). Decisions live in plan.ts; this
// module only reads the stacks and AWS, asks the plan, and acts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    ConcurrentUpdateError, LocalWorkspace, PulumiCommand, Stack, StackNotFoundError,
} from "@pulumi/pulumi/automation";
import type { ConfigMap, OutputMap } from "@pulumi/pulumi/automation";
import { ConfigError, ConfigSource, RingCommandConfig, readRingCommandConfig } from "../config";
import { loadStackConfig } from "../stack-config";
import type { GateOutcome, RingEventKind, RingHistoryEntry } from "../outputs";
import { AwsClientsFactory, RingAws, realAwsClients } from "./aws";
import { GateResult, formatGate, runGate } from "./gate";
import {
    EXIT, GuardRefusal, RING_CMD, RingError, appendHistory, buildStatus, configValue, domainAndBase, exportedResources,
    findMappingUrns, firingAlarm, inRing, isDeployed, isRecord, liveLabel, mappingTargets, planDeploy, planFlip, planRollback,
    projectConfigValue, resolveRing, slowerThanBake, stackNameFor,
} from "./plan";
import type { AlarmState, ConfigChange, DeployPlan, FlipOptions, FlipPlan, RingState, RingStatus, SlotState } from "./plan";

export interface RingOpsOptions {
    /** The project directory (holds Pulumi.yaml). */
    cwd: string;
    /** Qualify stack names as `<org>/<slot>` (Pulumi Cloud orgs). */
    org?: string;
    /** Print what would be done; run no mutating command. */
    dryRun?: boolean;
    /** Progress lines (the CLI sends them to stderr). */
    log?: (line: string) => void;
    /** Streamed output of `pulumi up` (the CLI sends it to stderr). */
    onOutput?: (chunk: string) => void;
    /** A specific CLI; by default the `pulumi` on PATH. */
    pulumiCommand?: PulumiCommand;
    /** Extra environment for every `pulumi` call. */
    envVars?: Record<string, string>;
    /** Makes the AWS SDK clients (real ones by default; tests pass stubbed ones). */
    aws?: AwsClientsFactory;
    /** HTTP client of the gate (global fetch by default). */
    fetch?: typeof fetch;
    /** Time for the bake (tests pass a clock whose sleep advances it). */
    clock?: Clock;
    /** How often the bake reads the alarms. */
    bakePollMs?: number;
}

/** The bake's sense of time. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** How often the bake reads the alarms, by default. */
export const BAKE_POLL_MS = 30_000;
/** Consecutive failed alarm reads after which the bake stops watching (the flip stands). */
const BAKE_READ_FAILURES = 3;

/** The ring as read, plus the project name, which stacks exist, and the primary's config. */
export interface ReadState extends RingState {
    project: string;
    exists: Record<string, boolean>;
    /** The primary's config as `pulumi config --json --show-secrets` gives it (never printed). */
    primaryConfig: ConfigMap;
    /** The ring commands' keys of the primary's config, validated. */
    settings: RingCommandConfig;
    /** Why AWS could not be read (status only; the other commands stop instead). */
    awsError?: string;
}

export interface DeployResult {
    dryRun: boolean;
    plan: DeployPlan;
    /** The commands the deploy runs (or would run): `stack init` when the stack is new, then `up`. */
    commands: string[][];
    /** After a real deploy: the slot's stage URL etc. */
    invokeUrl?: string;
    releaseId?: string;
    specSha256?: string;
}

export interface FlipResult {
    dryRun: boolean;
    plan: FlipPlan;
    /** The mapping URN(s) the targeted `up` updates. */
    targets: string[];
    /** The commands the flip runs (or would run). */
    commands: string[][];
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

/** Pulumi.<slot>.yaml as `pulumi config --json` would show it (secrets left out), for a stack not created yet. */
function configFileOf(cwd: string, slot: string): ConfigMap {
    const file = path.join(cwd, `Pulumi.${slot}.yaml`);
    if (!fs.existsSync(file)) return {};
    const { values, secretKeys } = loadStackConfig(cwd, slot);
    return Object.fromEntries(Object.entries(values).filter(([k]) => !secretKeys.includes(k)).map(([k, v]) => [k, { value: v, secret: false }]));
}

/** A ConfigSource over `pulumi config --json` entries, so the program's own rules validate what the commands read. */
function configMapSource(project: string, stack: string, cfg: ConfigMap): ConfigSource {
    return {
        project,
        stack,
        get: (key) => cfg[key]?.value,
        isSecret: (key) => cfg[key]?.secret === true,
        keys: () => Object.keys(cfg),
    };
}

function isoTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The stderr of a failed CLI call, without the Automation API's wrapping. */
export function cliStderr(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /stderr: ([\s\S]*?)\n err\?:/.exec(msg);
    return (m ? m[1] : msg).trim();
}

/** Turns an Automation API failure into a RingError that names the stack and the fix. */
export function failure(what: string, stack: string, err: unknown, fix?: string): RingError {
    if (err instanceof RingError) return err;
    const detail = cliStderr(err);
    if (err instanceof ConcurrentUpdateError) {
        return new RingError(`${what} on stack ${stack} failed: another update is running on it\n${detail}`, EXIT.failed,
            `wait for it to finish (or \`pulumi cancel -s ${stack}\` if it is stuck), then rerun`);
    }
    if (/ENOENT/.test(detail) && /pulumi/.test(detail)) {
        return new RingError(`${what} failed: the pulumi CLI was not found on PATH`, EXIT.failed,
            "install it (https://www.pulumi.com/docs/install/) and log in with `pulumi login`");
    }
    return new RingError(`${what} on stack ${stack} failed:\n${detail}`, EXIT.failed, fix ?? `see the pulumi output above; fix it and rerun, or run \`pulumi up -s ${stack}\` by hand`);
}

function plainOutputs(outputs: OutputMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
        if (!v.secret) out[k] = v.value;
    }
    return out;
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** The ring commands over one project directory. */
export class RingOps {
    private readonly clock: Clock;
    private awsClient?: RingAws;
    private whoRan?: Promise<string>;

    private constructor(private readonly ws: LocalWorkspace, private readonly opts: RingOpsOptions) {
        this.clock = opts.clock ?? realClock;
    }

    static async open(opts: RingOpsOptions): Promise<RingOps> {
        try {
            const ws = await LocalWorkspace.create({ workDir: opts.cwd, pulumiCommand: opts.pulumiCommand, envVars: opts.envVars });
            return new RingOps(ws, opts);
        } catch (err) {
            throw failure("starting the pulumi CLI", "(none)", err);
        }
    }

    private log(line: string): void {
        this.opts.log?.(line);
    }

    private stackOf(slot: string): string {
        return stackNameFor(slot, this.opts.org);
    }

    /** The AWS clients, for the primary's region (made once). */
    private aws(primaryConfig: ConfigMap): RingAws {
        if (!this.awsClient) {
            const configured = configValue(primaryConfig["aws:region"]);
            const region = typeof configured === "string" ? configured : undefined;
            this.awsClient = new RingAws((this.opts.aws ?? realAwsClients)(region), region);
        }
        return this.awsClient;
    }

    /** `pulumi config --json` of a stack (with project-level values), or undefined when the stack does not exist. */
    private async readConfig(stack: string): Promise<ConfigMap | undefined> {
        try {
            return await this.ws.getAllConfig(stack);
        } catch (err) {
            if (err instanceof StackNotFoundError) return undefined;
            throw failure("reading config", stack, err);
        }
    }

    /** Plain outputs of a stack, or undefined when the stack does not exist. */
    private async readOutputs(stack: string): Promise<Record<string, unknown> | undefined> {
        try {
            return plainOutputs(await this.ws.stackOutputs(stack));
        } catch (err) {
            if (err instanceof StackNotFoundError) return undefined;
            throw failure("reading outputs", stack, err);
        }
    }

    /** The ring commands' keys of a stack's config, validated with the program's rules. */
    private commandConfig(project: string, stack: string, cfg: ConfigMap): RingCommandConfig {
        try {
            return readRingCommandConfig(configMapSource(project, stack, cfg));
        } catch (err) {
            if (err instanceof ConfigError) {
                throw new RingError(err.message, EXIT.failed, `fix the keys above with \`pulumi config set <key> <value> -s ${stack}\` (or \`pulumi config rm\`), then rerun`);
            }
            throw err;
        }
    }

    /**
     * Reads the ring: project config, the primary's config, every slot's outputs, and what AWS
     * maps the custom domain to. Runs no mutating command. With `tolerateAws`, an unreadable
     * AWS is reported in `awsError` instead of stopping.
     */
    async readState(tolerateAws = false): Promise<ReadState> {
        const settings: unknown = await this.ws.projectSettings().catch((err: unknown) => {
            throw new RingError(`no Pulumi project in ${this.opts.cwd}: ${err instanceof Error ? err.message : String(err)}`,
                EXIT.usage, "run from the project directory or pass --cwd <dir with Pulumi.yaml>");
        });
        const project = isRecord(settings) && typeof settings["name"] === "string" ? settings["name"] : "api-ring";
        const projectCfg = isRecord(settings) && isRecord(settings["config"]) ? settings["config"] : {};
        const fromProject = resolveRing(projectConfigValue(projectCfg["ring:order"]), projectConfigValue(projectCfg["ring:primary"]));

        const primaryStack = this.stackOf(fromProject.primary);
        const primaryCfg = await this.readConfig(primaryStack);
        // Before the primary's stack exists, its config file still says which domain it will map.
        const config = primaryCfg ?? configFileOf(this.opts.cwd, fromProject.primary);
        let ring = fromProject;
        if (primaryCfg) {
            ring = resolveRing(configValue(primaryCfg["ring:order"]) ?? fromProject.order,
                configValue(primaryCfg["ring:primary"]) ?? fromProject.primary);
            if (ring.primary !== fromProject.primary) {
                throw new RingError(`stack ${primaryStack} says ring:primary is "${ring.primary}" but Pulumi.yaml says "${fromProject.primary}"`,
                    EXIT.failed, `keep ring:primary in Pulumi.yaml only: \`pulumi config rm ring:primary -s ${primaryStack}\``);
            }
        }
        const commandConfig = this.commandConfig(project, primaryStack, config);

        const slots: SlotState[] = [];
        const exists: Record<string, boolean> = {};
        for (const slot of ring.order) {
            const stack = this.stackOf(slot);
            const outputs = await this.readOutputs(stack);
            exists[slot] = outputs !== undefined;
            slots.push({ slot, stack, deployed: isDeployed(outputs), outputs: outputs ?? {} });
        }

        const state: ReadState = {
            project,
            ring,
            exists,
            slots,
            primaryConfig: config,
            settings: commandConfig,
            configuredLive: primaryCfg ? str(configValue(primaryCfg["ring:live"])) : undefined,
            previousLive: primaryCfg ? str(configValue(primaryCfg["ring:previousLive"])) : undefined,
        };
        const domain = commandConfig.domain;
        if (domain) {
            state.domain = domainAndBase(domain.name, domain.basePath);
            try {
                state.mapping = await this.aws(config).liveMapping(domain.name, domain.basePath);
            } catch (err) {
                if (!tolerateAws || !(err instanceof RingError)) throw err;
                state.awsError = err.message;
            }
            state.liveSlot = state.mapping ? liveLabel(slots, state.mapping) : undefined;
            const primary = slots.find((s) => s.slot === ring.primary);
            if (state.mapping && primary && !primary.deployed && exists[ring.primary]) {
                state.primaryStateHasMapping = findMappingUrns(exportedResources(await this.exportState(primaryStack))).length > 0;
            }
        }
        return state;
    }

    private async exportState(stack: string): Promise<unknown> {
        try {
            return await this.ws.exportStack(stack);
        } catch (err) {
            throw failure("exporting the state", stack, err);
        }
    }

    /** Every slot's stage URL, spec hash and release, what AWS maps, drift, the alarms' states and the history. */
    async status(): Promise<RingStatus & { project: string; complete: boolean }> {
        const state = await this.readState(true);
        const warnings: string[] = [];
        if (state.awsError) warnings.push(state.awsError);
        const alarms: Record<string, AlarmState[]> = {};
        const watched = state.slots.map((s) => ({ slot: s.slot, names: slotAlarmNamesOf(s) })).filter((w) => w.names.length > 0);
        let alarmsRead = true;
        if (watched.length > 0 && !state.awsError) {
            try {
                const states = await this.aws(state.primaryConfig).alarmStates(watched.flatMap((w) => w.names));
                for (const w of watched) alarms[w.slot] = states.filter((a) => w.names.includes(a.name));
            } catch (err) {
                alarmsRead = false;
                warnings.push(err instanceof Error ? err.message : String(err));
            }
        }
        return {
            project: state.project,
            complete: !state.awsError && alarmsRead,
            ...buildStatus(state, { history: state.settings.procedure.history, alarms, warnings, awsError: state.awsError }),
        };
    }

    /** Releases to the idle slot: `up` on the slot after the live one (or `requested`). */
    async deploy(requested?: string): Promise<DeployResult> {
        const state = await this.readState();
        const plan = planDeploy(state, requested, (slot) => state.exists[slot] === true);
        const commands: string[][] = [
            ...(plan.createsStack ? [["pulumi", "stack", "init", plan.stack]] : []),
            ["pulumi", "up", "--yes", "--skip-preview", "--stack", plan.stack],
        ];
        this.log(`deploy: slot ${plan.slot} (stack ${plan.stack}): ${plan.reason}`);
        if (this.opts.dryRun) return { dryRun: true, plan, commands };
        let stack: Stack;
        try {
            stack = plan.createsStack ? await Stack.createOrSelect(plan.stack, this.ws) : await Stack.select(plan.stack, this.ws);
        } catch (err) {
            throw failure("selecting the stack", plan.stack, err, `check \`pulumi stack ls\` and that you are logged in to the right backend`);
        }
        try {
            const res = await stack.up({
                message: `ring deploy ${plan.slot} (live: ${plan.live ?? "none"})`,
                onOutput: this.opts.onOutput,
            });
            const outs = plainOutputs(res.outputs);
            return {
                dryRun: false, plan, commands,
                invokeUrl: str(outs["invokeUrl"]), releaseId: str(outs["releaseId"]), specSha256: str(outs["specSha256"]),
            };
        } catch (err) {
            throw failure(`deploying slot "${plan.slot}"`, plan.stack, err,
                `fix the error above and rerun \`${RING_CMD} deploy ${plan.slot}\`; the live slot ${plan.live ?? "(none)"} was not touched`);
        }
    }

    /** Points the custom domain at `target`: gate, flip, bake, and flip back by itself when an alarm fires. */
    async flip(target: string, request: FlipRequest = {}): Promise<FlipResult> {
        const state = await this.readState();
        const plan = planFlip(state, target, request);
        return this.gatedFlip(state, plan, "flip", request);
    }

    /** Flips back to ring:previousLive (gated, not baked: a rollback is the way back, not a release). */
    async rollback(request: FlipRequest = {}): Promise<FlipResult> {
        const state = await this.readState();
        const plan = planRollback(state, request);
        return this.gatedFlip(state, plan, "rollback", { ...request, noBake: true });
    }

    private async gatedFlip(state: ReadState, plan: FlipPlan, kind: "flip" | "rollback", request: FlipRequest): Promise<FlipResult> {
        const primary = plan.primaryStack;
        if (plan.noop) {
            this.log(`${kind}: slot ${plan.target} is already live (AWS and ring:live on ${primary} agree); nothing to do`);
            return { dryRun: !!this.opts.dryRun, plan, targets: [], commands: [] };
        }
        const targets = mappingTargets(exportedResources(await this.exportState(primary)), state.ring.primary, primary);
        const targetSlot = state.slots.find((s) => s.slot === plan.target) as SlotState;

        const procedure = state.settings.procedure;
        const bakeMinutes = request.noBake ? 0 : procedure.bakeMinutes;
        const alarms = slotAlarmNamesOf(targetSlot, false);
        if (bakeMinutes > 0 && alarms.length === 0) {
            throw new GuardRefusal(`slot "${plan.target}" (stack ${targetSlot.stack}) exports no alarmNames, so the ${bakeMinutes}-minute bake after the flip would watch nothing`,
                `redeploy it so its alarms exist (\`${RING_CMD} deploy ${plan.target}\`), or flip without the watch: \`${RING_CMD} ${kind}${kind === "flip" ? ` ${plan.target}` : ""} --no-bake\``);
        }

        let gate: GateResult | undefined;
        let gateOutcome: GateOutcome = "skipped";
        if (request.skipGate) {
            this.log(`gate: skipped (--skip-gate); recorded in the history`);
        } else {
            gate = await this.runGate(state, targetSlot);
            for (const line of formatGate(gate)) this.log(line);
            if (!gate.passed) {
                const failed = gate.checks.filter((c) => !c.ok);
                throw new GuardRefusal(`the smoke test of slot "${plan.target}" failed, so the domain stays on ${plan.from ?? "what it serves now"}:\n` +
                    failed.map((c) => `  ${c.request}: expected ${c.expected}, got ${c.got}`).join("\n"),
                    `fix the slot (\`${RING_CMD} deploy ${plan.target}\` with the right gateway:releaseId) and rerun, or flip without the gate: \`--skip-gate\` (recorded)`);
            }
            gateOutcome = "passed";
        }

        const entry = await this.historyEntry(state, kind, plan, gateOutcome, request.reason);
        const history = appendHistory(procedure.history, entry, procedure.historyLimit);
        const { configAfter, ...applied } = await this.applyFlip(state, plan, kind, targets, history, currentValues(state.primaryConfig));
        const result: FlipResult = { ...applied, plan, gate, entry };
        if (this.opts.dryRun) return result;

        await this.confirmMapping(state, plan.target);
        if (bakeMinutes > 0) result.bake = await this.bakeAndMaybeFlipBack(state, plan, targets, history, configAfter, alarms, bakeMinutes);
        return result;
    }

    /** The smoke test through the target's stage URL; the probe sends the key where the target slot's authorizer reads it. */
    private async runGate(state: ReadState, target: SlotState): Promise<GateResult> {
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
                const cfg = await this.readConfig(target.stack);
                credentials = cfg ? this.commandConfig(state.project, target.stack, cfg).credentials : credentials;
            }
            probe = { ...procedure.smokeTest, credentials, key: procedure.smokeTestKey };
        }
        return runGate({ slot: target.slot, invokeUrl, releaseId: str(target.outputs["releaseId"]), probe }, { fetch: this.opts.fetch });
    }

    private async historyEntry(state: ReadState, kind: RingEventKind, plan: FlipPlan, gate: GateOutcome, reason: string | undefined, why?: string): Promise<RingHistoryEntry> {
        const release = (slot: string | undefined) => str(state.slots.find((s) => s.slot === slot)?.outputs["releaseId"]);
        const reasons = [why ?? reason?.trim(), plan.overrides ? `overrode ${plan.overrides.message}` : undefined].filter((r): r is string => !!r);
        const fromRelease = release(plan.from);
        const toRelease = release(plan.target);
        return {
            at: isoTime(this.clock.now()),
            kind,
            from: plan.from ?? null,
            to: plan.target,
            ...(fromRelease ? { fromRelease } : {}),
            ...(toRelease ? { toRelease } : {}),
            by: await this.who(),
            why: reasons.join("; ") || "(no reason given: pass --reason)",
            gate,
        };
    }

    /** The Pulumi user, and the local account that ran the command: asked once per command (`pulumi whoami` is a process). */
    private who(): Promise<string> {
        this.whoRan ??= this.askWho();
        return this.whoRan;
    }

    private async askWho(): Promise<string> {
        let local = "unknown";
        try {
            local = os.userInfo().username;
        } catch {
            // no passwd entry (some containers)
        }
        try {
            return `${(await this.ws.whoAmI()).user} (${local})`;
        } catch {
            return local;
        }
    }

    /** Sets ring:live, ring:previousLive and ring:history on the primary, then updates only the mapping; puts the config back when the update fails. */
    /** Sets the flip's config on the primary and updates only the mapping; returns, beside the result, the config it left. */
    private async applyFlip(state: RingState, plan: FlipPlan, kind: RingEventKind, targets: string[], history: RingHistoryEntry[],
        before: Record<string, string | undefined>): Promise<Pick<FlipResult, "dryRun" | "targets" | "commands" | "liveUrl"> & { configAfter: Record<string, string | undefined> }> {
        const primary = plan.primaryStack;
        const changes: ConfigChange[] = [...plan.config, { key: "ring:history", value: JSON.stringify(history) }];
        const configAfter = { ...before, ...Object.fromEntries(changes.map((c) => [c.key, c.value])) };
        const commands: string[][] = [
            ...changes.map((c) => c.value === undefined
                ? ["pulumi", "config", "rm", c.key, "--stack", primary]
                : ["pulumi", "config", "set", c.key, c.value, "--stack", primary]),
            ["pulumi", "up", "--yes", "--skip-preview", "--stack", primary, ...targets.flatMap((u) => ["--target", u])],
        ];
        this.log(`${kind}: ${plan.from ?? "none"} -> ${plan.target} on primary stack ${primary}, updating only ${targets.join(", ")}`);
        if (this.opts.dryRun) return { dryRun: true, targets, commands, configAfter };

        const done: string[] = [];
        try {
            for (const c of changes) {
                if (c.value === undefined) await this.ws.removeConfig(primary, c.key);
                else await this.ws.setConfig(primary, c.key, { value: c.value, secret: false });
                done.push(c.key);
            }
            const stack = await Stack.select(primary, this.ws);
            const res = await stack.up({
                target: targets,
                message: `ring ${kind} to ${plan.target} (was ${plan.from ?? "none"})`,
                onOutput: this.opts.onOutput,
            });
            return { dryRun: false, targets, commands, liveUrl: str(plainOutputs(res.outputs)["liveUrl"]), configAfter };
        } catch (err) {
            const restored = await this.restoreConfig(primary, before, done);
            const verb = kind === "auto-rollback" ? "flip back" : kind;
            throw failure(`${verb} to slot "${plan.target}"`, primary, err,
                `${restored ? `ring:live on ${primary} was restored to ${before["ring:live"] ?? "(unset)"}` : `ring:live on ${primary} could NOT be restored; set it back with \`pulumi config set ring:live ${plan.from ?? state.ring.order[0]} -s ${primary}\``}; ` +
                `the domain still points at ${plan.from ?? "the old slot"}. Fix the error above and rerun \`${RING_CMD} ${kind === "auto-rollback" ? `flip ${plan.target}` : kind}${kind === "flip" ? ` ${plan.target}` : ""}\``);
        }
    }

    /** After the update: does AWS now map the domain to the target? */
    private async confirmMapping(state: ReadState, target: string): Promise<void> {
        const domain = state.settings.domain;
        if (!domain) return;
        try {
            const now = await this.aws(state.primaryConfig).liveMapping(domain.name, domain.basePath);
            const label = now ? liveLabel(state.slots, now) : "nothing";
            if (label === target) this.log(`AWS maps ${state.domain} to ${target} (api ${now?.restApiId}, stage ${now?.stage})`);
            else this.log(`warning: after the update, AWS maps ${state.domain} to ${label}, not ${target}; check \`${RING_CMD} status\``);
        } catch (err) {
            this.log(`warning: could not confirm the mapping in AWS: ${err instanceof Error ? err.message : String(err)}`);
        }
    }

    /** Watches the new live slot's alarms for the bake; when one fires, flips back to the slot live before and records why. */
    private async bakeAndMaybeFlipBack(state: ReadState, plan: FlipPlan, targets: string[], history: RingHistoryEntry[],
        configAfterFlip: Record<string, string | undefined>, alarms: string[], minutes: number): Promise<BakeReport> {
        const report = await this.bake(state, plan.target, alarms, minutes);
        if (!report.fired) return report;
        const fired = report.fired;
        this.log(`bake: alarm ${fired.name} is ALARM: ${fired.reason ?? "(no reason given)"}`);
        const back = plan.from;
        const after: ReadState = {
            ...state,
            liveSlot: plan.target,
            configuredLive: plan.target,
            previousLive: back !== undefined && inRing(state.ring, back) ? back : undefined,
            mapping: undefined,
        };
        let backPlan: FlipPlan;
        try {
            if (back === undefined) throw new GuardRefusal("nothing was live before the flip", "flip to a slot by hand");
            backPlan = planFlip(after, back);
        } catch (err) {
            report.flipBackError = err instanceof Error ? err.message : String(err);
            this.log(`bake: cannot flip back by itself: ${report.flipBackError}`);
            return report;
        }
        this.log(`bake: flipping back to ${back}`);
        const entry = await this.historyEntry(state, "auto-rollback", backPlan, "not-run", undefined,
            `alarm ${fired.name} fired during the bake of ${plan.target}: ${fired.reason ?? "(no reason given)"}`);
        const backHistory = appendHistory(history, entry, state.settings.procedure.historyLimit);
        try {
            await this.applyFlip(after, backPlan, "auto-rollback", targets, backHistory, configAfterFlip);
            report.flippedBackTo = back;
            await this.confirmMapping(state, back);
        } catch (err) {
            report.flipBackError = err instanceof Error ? err.message : String(err);
        }
        return report;
    }

    /** Reads the alarms every poll until the bake ends or one fires; stops after repeated read failures. */
    private async bake(state: ReadState, slot: string, alarms: string[], minutes: number): Promise<BakeReport> {
        const pollMs = this.opts.bakePollMs ?? BAKE_POLL_MS;
        const end = this.clock.now() + minutes * 60_000;
        // Bounded by count as well as by time, whatever the clock does.
        const maxPolls = Math.ceil((minutes * 60_000) / pollMs) + 2;
        const report: BakeReport = { minutes, alarms, polls: 0 };
        this.log(`bake: watching ${alarms.length} alarms of ${slot} for ${minutes} min (until ${isoTime(end)}); Ctrl-C stops watching, the flip stays`);
        const missingSeen = new Set<string>();
        let failures = 0;
        while (report.polls < maxPolls) {
            report.polls++;
            try {
                const states = await this.aws(state.primaryConfig).alarmStates(alarms);
                failures = 0;
                for (const a of states.filter((x) => x.state === "MISSING" && !missingSeen.has(x.name))) {
                    missingSeen.add(a.name);
                    this.log(`bake: warning: alarm ${a.name} does not exist in CloudWatch; the watch cannot see it`);
                }
                if (report.polls === 1) {
                    for (const a of slowerThanBake(states, minutes)) {
                        this.log(`bake: warning: alarm ${a.name} needs ${(a.firesAfter.periodSeconds * a.firesAfter.datapoints) / 60} min of breaching data ` +
                            `(${a.firesAfter.datapoints} periods of ${a.firesAfter.periodSeconds} s), so it cannot fire within the ${minutes}-min bake; raise ring:bakeMinutes on ${state.ring.primary}`);
                    }
                }
                const fired = firingAlarm(states);
                if (fired) return { ...report, fired };
            } catch (err) {
                failures++;
                const why = err instanceof Error ? err.message : String(err);
                this.log(`bake: could not read the alarms (${failures}/${BAKE_READ_FAILURES}): ${why}`);
                if (failures >= BAKE_READ_FAILURES) return { ...report, watchError: why };
            }
            const left = end - this.clock.now();
            if (left <= 0) break;
            await this.clock.sleep(Math.min(pollMs, left));
        }
        this.log(`bake: ${minutes} min without an alarm; ${slot} stays live`);
        return report;
    }

    /** Puts back the config a failed flip changed. True when every key was restored. */
    private async restoreConfig(stack: string, before: Record<string, string | undefined>, keys: string[]): Promise<boolean> {
        let ok = true;
        for (const key of keys) {
            try {
                const prior = before[key];
                if (prior === undefined) await this.ws.removeConfig(stack, key);
                else await this.ws.setConfig(stack, key, { value: prior, secret: false });
            } catch (err) {
                ok = false;
                this.log(`could not restore ${key} on ${stack}: ${cliStderr(err)}`);
            }
        }
        return ok;
    }
}

/** The values a flip may change, as they are before it. */
function currentValues(cfg: ConfigMap): Record<string, string | undefined> {
    return Object.fromEntries(["ring:live", "ring:previousLive", "ring:history"].map((k) => [k, cfg[k]?.value]));
}

/** A slot's alarms from its outputs: the bake set, and with `withDeadLetters` its dead-letter alarm too. */
function slotAlarmNamesOf(slot: SlotState, withDeadLetters = true): string[] {
    const names = slot.outputs["alarmNames"];
    const bake = Array.isArray(names) ? names.filter((n): n is string => typeof n === "string" && n !== "") : [];
    const dead = str(slot.outputs["deadLetterAlarmName"]);
    return withDeadLetters && dead ? [...bake, dead] : bake;
}
