// The ring commands' side effects, through Pulumi's Automation API (which drives the `pulumi` CLI),
// the AWS SDK (what is live, the alarms, the domain) and HTTP (the gate). Decisions live in plan.ts;
// this module reads the slots' stacks, the live pointer's stack and AWS, asks the plan, and acts.
// A slot's stack changes only when it is deployed; everything about what is live changes through
// the live pointer (pointer.ts).
import * as os from "os";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { ConfigError, LivePointerCommandConfig, RingCommandConfig, readLivePointerCommandConfig, readRingCommandConfig } from "../config";
import type { CohortHeader } from "../outputs";
import { AwsClientsFactory, RingAws, realAwsClients } from "./aws";
import { FlipRequest, FlipResult, gatedFlip } from "./flip";
import { LivePointer } from "./pointer";
import {
    CohortPlan, DeployPlan, EXIT, GuardRefusal, RING_CMD, RingError, RingState, SlotState, configValue, domainAndBase,
    exportedResources, findMappingUrns, isDeployed, isRecord, liveLabel, planCohort, planDeploy, planFlip, planRemoveCohort,
    planRollback, projectConfigValue, resolveRing, stackNameFor,
} from "./plan";
import { RingStatus, buildStatus } from "./status";
import { configFileOf, configMapSource, exportState, failure, readConfig, readOutputs } from "./workspace";
import type { AlarmState } from "./plan";

export type { BakeReport, FlipRequest, FlipResult } from "./flip";
export { BAKE_POLL_MS } from "./flip";

export interface RingOpsOptions {
    /** The project directory (holds Pulumi.yaml and the live pointer's live/). */
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

/** The ring as read, plus the project name, which stacks exist, and the config the commands use. */
export interface ReadState extends RingState {
    project: string;
    exists: Record<string, boolean>;
    /** The primary's config as `pulumi config --json --show-secrets` gives it (never printed). */
    primaryConfig: ConfigMap;
    /** The flip procedure (gate, bake) and the credentials, from the primary's config. */
    settings: RingCommandConfig;
    /** The domain and region, from the live pointer's config. */
    pointerConfig: LivePointerCommandConfig;
    /** The live pointer's last outputs (its URL among them). */
    pointerOutputs: Record<string, unknown>;
    /** Why AWS could not be read (status only; the other commands stop instead). */
    awsError?: string;
}

export interface DeployResult {
    dryRun: boolean;
    plan: DeployPlan;
    /** The commands the deploy runs (or would run). */
    commands: string[];
    /** After a real deploy: the slot's stage URL etc. */
    invokeUrl?: string;
    releaseId?: string;
    specSha256?: string;
}

export interface CohortResult {
    dryRun: boolean;
    plan: CohortPlan;
    commands: string[];
}

/** What flip.ts and migrate.ts use of the commands' machinery. */
export interface RingContext {
    readonly opts: RingOpsOptions;
    readonly clock: Clock;
    readonly pointer: LivePointer;
    readonly ws: LocalWorkspace;
    log(line: string): void;
    /** AWS clients for a region (the live pointer's, for the domain; the primary's, for the alarms). */
    aws(region: string | undefined): RingAws;
    /** The Pulumi user and the local account. */
    who(): Promise<string>;
    readState(tolerateAws?: boolean): Promise<ReadState>;
    commandConfig(project: string, stack: string, cfg: ConfigMap): RingCommandConfig;
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

function region(cfg: ConfigMap): string | undefined {
    const configured = configValue(cfg["aws:region"]);
    return typeof configured === "string" ? configured : undefined;
}

/** Reads a ConfigError as a RingError naming the stack and how to fix the keys. */
function configRefusal(err: unknown, stack: string, where = ""): never {
    if (err instanceof ConfigError) {
        throw new RingError(err.message, EXIT.failed, `fix the keys above with \`pulumi config set <key> <value> -s ${stack}\`${where} (or \`pulumi config rm\`), then rerun`);
    }
    throw err;
}

/** The ring commands over one project directory. */
export class RingOps implements RingContext {
    readonly clock: Clock;
    private readonly awsClients = new Map<string, RingAws>();
    private whoRan?: Promise<string>;

    private constructor(readonly ws: LocalWorkspace, readonly pointer: LivePointer, private readonly project: string, readonly opts: RingOpsOptions) {
        this.clock = opts.clock ?? realClock;
    }

    static async open(opts: RingOpsOptions): Promise<RingOps> {
        let ws: LocalWorkspace;
        try {
            ws = await LocalWorkspace.create({ workDir: opts.cwd, pulumiCommand: opts.pulumiCommand, envVars: opts.envVars });
        } catch (err) {
            throw failure("starting the pulumi CLI", "(none)", err);
        }
        const settings: unknown = await ws.projectSettings().catch((err: unknown) => {
            throw new RingError(`no Pulumi project in ${opts.cwd}: ${err instanceof Error ? err.message : String(err)}`,
                EXIT.usage, "run from the project directory or pass --cwd <dir with Pulumi.yaml>");
        });
        const project = isRecord(settings) && typeof settings["name"] === "string" ? settings["name"] : "api-ring";
        const pointer = await LivePointer.open({
            cwd: opts.cwd, slotProject: project, org: opts.org, pulumiCommand: opts.pulumiCommand, envVars: opts.envVars, onOutput: opts.onOutput,
        });
        return new RingOps(ws, pointer, project, opts);
    }

    log(line: string): void {
        this.opts.log?.(line);
    }

    private stackOf(slot: string): string {
        return stackNameFor(slot, this.opts.org);
    }

    aws(regionName: string | undefined): RingAws {
        const key = regionName ?? "";
        let client = this.awsClients.get(key);
        if (!client) {
            client = new RingAws((this.opts.aws ?? realAwsClients)(regionName), regionName);
            this.awsClients.set(key, client);
        }
        return client;
    }

    /** The ring commands' keys of a slot's config, validated with the program's rules. */
    commandConfig(project: string, stack: string, cfg: ConfigMap): RingCommandConfig {
        try {
            return readRingCommandConfig(configMapSource(project, stack, cfg));
        } catch (err) {
            return configRefusal(err, stack);
        }
    }

    /** The Pulumi user, and the local account that ran the command: asked once per command (`pulumi whoami` is a process). */
    who(): Promise<string> {
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

    /**
     * Reads the ring: the slots' project config and outputs, the primary's config (the gate and the
     * bake), the live pointer's config and state, and what AWS maps the custom domain to. Runs no
     * mutating command. With `tolerateAws`, an unreadable AWS is reported in `awsError` instead of stopping.
     */
    async readState(tolerateAws = false): Promise<ReadState> {
        const settings: unknown = await this.ws.projectSettings();
        const projectCfg = isRecord(settings) && isRecord(settings["config"]) ? settings["config"] : {};
        const fromProject = resolveRing(projectConfigValue(projectCfg["ring:order"]), projectConfigValue(projectCfg["ring:primary"]));

        const primaryStack = this.stackOf(fromProject.primary);
        const primaryCfg = await readConfig(this.ws, primaryStack);
        const config = primaryCfg ?? configFileOf(this.opts.cwd, fromProject.primary);
        let ring = fromProject;
        if (primaryCfg) {
            ring = resolveRing(configValue(primaryCfg["ring:order"]) ?? fromProject.order, configValue(primaryCfg["ring:primary"]) ?? fromProject.primary);
            if (ring.primary !== fromProject.primary) {
                throw new RingError(`stack ${primaryStack} says ring:primary is "${ring.primary}" but Pulumi.yaml says "${fromProject.primary}"`,
                    EXIT.failed, `keep ring:primary in Pulumi.yaml only: \`pulumi config rm ring:primary -s ${primaryStack}\``);
            }
        }
        const commandConfig = this.commandConfig(this.project, primaryStack, config);

        const slots: SlotState[] = [];
        const exists: Record<string, boolean> = {};
        for (const slot of ring.order) {
            const stack = this.stackOf(slot);
            const outputs = await readOutputs(this.ws, stack);
            exists[slot] = outputs !== undefined;
            slots.push({ slot, stack, deployed: isDeployed(outputs), outputs: outputs ?? {} });
        }

        const pointer = await this.pointer.read();
        let pointerConfig: LivePointerCommandConfig;
        try {
            pointerConfig = readLivePointerCommandConfig(configMapSource(this.pointer.project, this.pointer.stack, pointer.config));
        } catch (err) {
            return configRefusal(err, this.pointer.stack, " in live/");
        }
        const pointerState = pointer.state;
        const pointerExists = pointer.exists;
        const state: ReadState = {
            project: this.project, ring, exists, slots, primaryConfig: config, settings: commandConfig, pointerConfig,
            pointer: { stack: this.pointer.stack, exists: pointerExists, state: pointerState },
            pointerOutputs: pointer.outputs,
        };
        const domain = pointerConfig.domain;
        state.domain = domainAndBase(domain.name, domain.basePath);
        try {
            state.mapping = await this.aws(pointerConfig.region).liveMapping(domain.name, domain.basePath);
        } catch (err) {
            if (!tolerateAws || !(err instanceof RingError)) throw err;
            state.awsError = err.message;
        }
        state.liveSlot = state.mapping ? liveLabel(slots, state.mapping) : undefined;
        // A primary whose outputs still say which slot is live was deployed by a ring that kept the mapping in its state.
        const primary = slots.find((s) => s.slot === ring.primary);
        if (primary && "liveSlot" in primary.outputs) {
            state.primaryHoldsMapping = findMappingUrns(exportedResources(await exportState(this.ws, primaryStack))).length > 0;
        }
        if (state.mapping && pointerState.liveSlot === null) {
            state.pointerHasMapping = pointerExists && findMappingUrns(exportedResources(await this.pointer.exportState())).length > 0;
        }
        return state;
    }

    /** Every slot's stage URL, spec hash and release, what AWS maps, drift, the cohorts, the alarms' states and the history. */
    async status(): Promise<RingStatus & { project: string; complete: boolean }> {
        const state = await this.readState(true);
        const warnings: string[] = [];
        if (state.awsError) warnings.push(state.awsError);
        if (state.primaryHoldsMapping) {
            warnings.push(`stack ${this.stackOf(state.ring.primary)} still holds the custom domain's mapping (a ring deployed before the live pointer): move it with \`${RING_CMD} migrate\``);
        }
        const alarms: Record<string, AlarmState[]> = {};
        const watched = state.slots.map((s) => ({ slot: s.slot, names: slotAlarmNamesOf(s) })).filter((w) => w.names.length > 0);
        let alarmsRead = true;
        if (watched.length > 0 && !state.awsError) {
            try {
                const states = await this.aws(region(state.primaryConfig)).alarmStates(watched.flatMap((w) => w.names));
                for (const w of watched) alarms[w.slot] = states.filter((a) => w.names.includes(a.name));
            } catch (err) {
                alarmsRead = false;
                warnings.push(err instanceof Error ? err.message : String(err));
            }
        }
        return {
            project: state.project,
            complete: !state.awsError && alarmsRead,
            ...buildStatus(state, { alarms, warnings, awsError: state.awsError, liveUrl: str(state.pointerOutputs["liveUrl"]) }),
        };
    }

    /** Releases to the idle slot: `up` on the slot after the live one (or `requested`). Never touches the live pointer's state. */
    async deploy(requested?: string): Promise<DeployResult> {
        const state = await this.readState();
        const plan = planDeploy(state, requested, (slot) => state.exists[slot] === true);
        const commands = [
            ...(state.pointer.exists ? [] : [`(cd live && pulumi stack init ${this.pointer.stack})`]),
            ...(plan.createsStack ? [`pulumi stack init ${plan.stack}`] : []),
            `pulumi up --yes --skip-preview --stack ${plan.stack}`,
        ];
        this.log(`deploy: slot ${plan.slot} (stack ${plan.stack}): ${plan.reason}`);
        if (this.opts.dryRun) return { dryRun: true, plan, commands };
        // Slots read which slot is live from the live pointer's stack: it must exist, even before its first flip.
        if (await this.pointer.ensureStack()) this.log(`deploy: created the live pointer's stack ${this.pointer.stack} (live/); nothing is live until the first flip`);
        let stack: Stack;
        try {
            stack = plan.createsStack ? await Stack.createOrSelect(plan.stack, this.ws) : await Stack.select(plan.stack, this.ws);
        } catch (err) {
            throw failure("selecting the stack", plan.stack, err, `check \`pulumi stack ls\` and that you are logged in to the right backend`);
        }
        try {
            const res = await stack.up({ message: `ring deploy ${plan.slot} (live: ${plan.live ?? "none"})`, onOutput: this.opts.onOutput });
            const outs = Object.fromEntries(Object.entries(res.outputs).filter(([, v]) => !v.secret).map(([k, v]) => [k, v.value]));
            return { dryRun: false, plan, commands, invokeUrl: str(outs["invokeUrl"]), releaseId: str(outs["releaseId"]), specSha256: str(outs["specSha256"]) };
        } catch (err) {
            throw failure(`deploying slot "${plan.slot}"`, plan.stack, err,
                `fix the error above and rerun \`${RING_CMD} deploy ${plan.slot}\`; the live slot ${plan.live ?? "(none)"} was not touched`);
        }
    }

    /** Points the custom domain at `target`: gate, flip, bake, and flip back by itself when an alarm fires. */
    async flip(target: string, request: FlipRequest = {}): Promise<FlipResult> {
        const state = await this.readState();
        return gatedFlip(this, state, planFlip(state, target, request), "flip", request);
    }

    /** Flips back to the live pointer's previous slot (gated, not baked: a rollback is the way back, not a release). */
    async rollback(request: FlipRequest = {}): Promise<FlipResult> {
        const state = await this.readState();
        return gatedFlip(this, state, planRollback(state, request), "rollback", { ...request, noBake: true });
    }

    /** Adds a header cohort for `slot`, or with `remove` ends the one matching `headers`. */
    async cohort(slot: string | undefined, headers: CohortHeader[], options: { remove?: boolean; priority?: number } = {}): Promise<CohortResult> {
        const state = await this.readState();
        let plan: CohortPlan;
        if (options.remove) {
            plan = planRemoveCohort(state, headers);
        } else {
            plan = planCohort(state, slot as string, headers, options.priority);
            await this.checkDomainTakesRules(state);
        }
        const commands = plan.noop ? [] : [this.pointer.commandLine(plan.change)];
        const what = `${plan.removed ? "removing" : "adding"} cohort ${plan.cohort.headers.map((h) => `${h.name}=${h.value}`).join(" and ")} -> ${plan.cohort.slot}`;
        this.log(`cohort: ${plan.noop ? `${what}: it is there already; nothing to do` : what} on the live pointer's stack ${plan.pointerStack}`);
        if (this.opts.dryRun || plan.noop) return { dryRun: !!this.opts.dryRun, plan, commands };
        try {
            await this.pointer.apply(plan.change, `ring cohort: ${what}`);
        } catch (err) {
            throw failure(`${what}`, plan.pointerStack, err, `fix the error above and rerun; what is live did not change`);
        }
        return { dryRun: false, plan, commands };
    }

    /**
     * A cohort is an API Gateway routing rule: the domain must be public (the slots' APIs are) and route
     * by rules before its mapping. A domain the live pointer creates is made so; an existing one is read.
     */
    private async checkDomainTakesRules(state: ReadState): Promise<void> {
        const { domain, region: regionName } = state.pointerConfig;
        if (domain.certificateArn) return;
        const found = await this.aws(regionName).domain(domain.name);
        if (found === null) {
            throw new GuardRefusal(`API Gateway has no custom domain ${domain.name} (GetDomainName), so it has nowhere to put a routing rule`,
                `create it, or set domain:certificateArn on the live pointer's stack (live/) to have the program create it`);
        }
        if (found.endpointTypes.includes("PRIVATE")) {
            throw new GuardRefusal(`${domain.name} is a private custom domain; API Gateway routes a private domain only to private APIs, and the slots' APIs are public`,
                `use a public (regional or edge-optimized) custom domain`);
        }
        if (found.routingMode !== "ROUTING_RULE_THEN_BASE_PATH_MAPPING") {
            throw new GuardRefusal(`${domain.name} routes with ${found.routingMode}: cohorts need routing rules evaluated before the base path mapping (ROUTING_RULE_THEN_BASE_PATH_MAPPING)`,
                `aws apigateway update-domain-name --domain-name ${domain.name} --patch-operations op=replace,path=/routingMode,value=ROUTING_RULE_THEN_BASE_PATH_MAPPING` +
                ` (it keeps the mapping serving; AWS, "Set the routing mode for your custom domain name")`);
        }
    }
}

/** A slot's alarms from its outputs: the bake set, and with `withDeadLetters` its dead-letter alarm too. */
export function slotAlarmNamesOf(slot: SlotState, withDeadLetters = true): string[] {
    const names = slot.outputs["alarmNames"];
    const bake = Array.isArray(names) ? names.filter((n): n is string => typeof n === "string" && n !== "") : [];
    const dead = str(slot.outputs["deadLetterAlarmName"]);
    return withDeadLetters && dead ? [...bake, dead] : bake;
}
