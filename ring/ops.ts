// The ring commands' side effects, through Pulumi's Automation API (which drives the `pulumi` CLI).
// Decisions live in plan.ts; this module only reads the stacks, asks the plan, and acts.
import {
    ConcurrentUpdateError, LocalWorkspace, PulumiCommand, Stack, StackNotFoundError,
} from "@pulumi/pulumi/automation";
import type { ConfigMap, OutputMap } from "@pulumi/pulumi/automation";
import {
    EXIT, RING_CMD, RingError, buildStatus, configValue, exportedResources, isDeployed, isRecord, mappingTargets,
    planDeploy, planFlip, planRollback, projectConfigValue, resolveRing, stackNameFor,
} from "./plan";
import type { DeployPlan, FlipPlan, RingState, RingStatus, SlotState } from "./plan";
import type { PrimaryOutputs } from "../outputs";

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
}

/** The ring as read, plus the project name and which stacks exist. */
export interface ReadState extends RingState {
    project: string;
    exists: Record<string, boolean>;
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
    private constructor(private readonly ws: LocalWorkspace, private readonly opts: RingOpsOptions) {}

    static async open(opts: RingOpsOptions): Promise<RingOps> {
        try {
            const ws = await LocalWorkspace.create({ workDir: opts.cwd, pulumiCommand: opts.pulumiCommand });
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

    /** Reads the ring: project config, the primary's config, and every slot's outputs. Runs no mutating command. */
    async readState(): Promise<ReadState> {
        const settings: unknown = await this.ws.projectSettings().catch((err: unknown) => {
            throw new RingError(`no Pulumi project in ${this.opts.cwd}: ${err instanceof Error ? err.message : String(err)}`,
                EXIT.usage, "run from the project directory or pass --cwd <dir with Pulumi.yaml>");
        });
        const project = isRecord(settings) && typeof settings["name"] === "string" ? settings["name"] : "api-ring";
        const projectCfg = isRecord(settings) && isRecord(settings["config"]) ? settings["config"] : {};
        const fromProject = resolveRing(projectConfigValue(projectCfg["ring:order"]), projectConfigValue(projectCfg["ring:primary"]));

        const primaryStack = this.stackOf(fromProject.primary);
        const primaryCfg = await this.readConfig(primaryStack);
        let ring = fromProject;
        if (primaryCfg) {
            ring = resolveRing(configValue(primaryCfg["ring:order"]) ?? fromProject.order,
                configValue(primaryCfg["ring:primary"]) ?? fromProject.primary);
            if (ring.primary !== fromProject.primary) {
                throw new RingError(`stack ${primaryStack} says ring:primary is "${ring.primary}" but Pulumi.yaml says "${fromProject.primary}"`,
                    EXIT.failed, `keep ring:primary in Pulumi.yaml only: \`pulumi config rm ring:primary -s ${primaryStack}\``);
            }
        }

        const slots: SlotState[] = [];
        const exists: Record<string, boolean> = {};
        for (const slot of ring.order) {
            const stack = this.stackOf(slot);
            const outputs = await this.readOutputs(stack);
            exists[slot] = outputs !== undefined;
            slots.push({ slot, stack, deployed: isDeployed(outputs), outputs: outputs ?? {} });
        }
        const primaryOut = slots.find((s) => s.slot === ring.primary)?.outputs ?? {};
        const liveKey: keyof PrimaryOutputs = "liveSlot";
        return {
            project,
            ring,
            exists,
            slots,
            liveSlot: str(primaryOut[liveKey]),
            configuredLive: primaryCfg ? str(configValue(primaryCfg["ring:live"])) : undefined,
            previousLive: primaryCfg ? str(configValue(primaryCfg["ring:previousLive"])) : undefined,
        };
    }

    async status(): Promise<RingStatus & { project: string }> {
        const state = await this.readState();
        return { project: state.project, ...buildStatus(state) };
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

    /** Points the custom domain at `target`. */
    async flip(target: string): Promise<FlipResult> {
        const state = await this.readState();
        return this.applyFlip(state, planFlip(state, target), "flip");
    }

    /** Flips back to ring:previousLive. */
    async rollback(): Promise<FlipResult> {
        const state = await this.readState();
        return this.applyFlip(state, planRollback(state), "rollback");
    }

    private async applyFlip(state: RingState, plan: FlipPlan, verb: string): Promise<FlipResult> {
        const primary = plan.primaryStack;
        if (plan.noop) {
            this.log(`${verb}: slot ${plan.target} is already live (ring:live on ${primary} agrees); nothing to do`);
            return { dryRun: !!this.opts.dryRun, plan, targets: [], commands: [] };
        }
        let exported: unknown;
        try {
            exported = await this.ws.exportStack(primary);
        } catch (err) {
            throw failure("exporting the state", primary, err);
        }
        const targets = mappingTargets(exportedResources(exported), state.ring.primary, primary);
        const commands: string[][] = [
            ...plan.config.map((c) => c.value === undefined
                ? ["pulumi", "config", "rm", c.key, "--stack", primary]
                : ["pulumi", "config", "set", c.key, c.value, "--stack", primary]),
            ["pulumi", "up", "--yes", "--skip-preview", "--stack", primary, ...targets.flatMap((u) => ["--target", u])],
        ];
        this.log(`${verb}: ${plan.from ?? "none"} -> ${plan.target} on primary stack ${primary}, updating only ${targets.join(", ")}`);
        if (this.opts.dryRun) return { dryRun: true, plan, targets, commands };

        const before: Record<string, string | undefined> = {
            "ring:live": state.configuredLive,
            "ring:previousLive": state.previousLive,
        };
        const done: string[] = [];
        try {
            for (const c of plan.config) {
                if (c.value === undefined) await this.ws.removeConfig(primary, c.key);
                else await this.ws.setConfig(primary, c.key, { value: c.value, secret: false });
                done.push(c.key);
            }
            const stack = await Stack.select(primary, this.ws);
            const res = await stack.up({
                target: targets,
                message: `ring ${verb} to ${plan.target} (was ${plan.from ?? "none"})`,
                onOutput: this.opts.onOutput,
            });
            const outs = plainOutputs(res.outputs);
            const liveNow = str(outs["liveSlot"]);
            if (liveNow !== undefined && liveNow !== plan.target) {
                this.log(`warning: after the update, stack ${primary} reports liveSlot "${liveNow}", not "${plan.target}"; check \`${RING_CMD} status\``);
            }
            return { dryRun: false, plan, targets, commands, liveUrl: str(outs["liveUrl"]) };
        } catch (err) {
            const restored = await this.restoreConfig(primary, before, done);
            throw failure(`${verb} to slot "${plan.target}"`, primary, err,
                `${restored ? `ring:live on ${primary} was restored to ${before["ring:live"] ?? "(unset)"}` : `ring:live on ${primary} could NOT be restored; set it back with \`pulumi config set ring:live ${plan.from ?? state.ring.order[0]} -s ${primary}\``}; ` +
                `the domain still points at ${plan.from ?? "the old slot"}. Fix the error above and rerun \`${RING_CMD} ${verb}${verb === "flip" ? ` ${plan.target}` : ""}\``);
        }
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
