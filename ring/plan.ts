// The ring's arithmetic and guard rails for the ring commands (ring/cli.ts).
// Pure: no Pulumi import, no I/O. Everything here is decided from plain data that
// ring/ops.ts reads through the Automation API and the AWS SDK, so it is unit-tested exhaustively.
import { SLOT_NAME, type Cohort, type CohortHeader } from "../outputs";
import { cohortProblems, nextPriority, sameHeaders } from "../live/cohorts";
import type { LivePointerChange, LivePointerState } from "../live/change";

/** Exit codes a pipeline can rely on. */
export const EXIT = {
    /** The command did what it was asked (or, with --dry-run, would do it). */
    ok: 0,
    /** A pulumi operation (or reading the stacks) failed; nothing was refused. */
    failed: 1,
    /** Bad command line: unknown command or option, missing argument. */
    usage: 2,
    /** A guard refused: slot outside the ring, never deployed, live, nothing to roll back to, drift, a failed gate. */
    refused: 3,
    /** The flip went through, then an alarm fired while it baked, and the ring flipped back (or must be flipped back by hand). */
    rolledBack: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that carries the exit code it maps to and the command that fixes it. */
export class RingError extends Error {
    constructor(message: string, readonly exitCode: ExitCode, readonly fix?: string) {
        super(fix ? `${message}\n  fix: ${fix}` : message);
        this.name = "RingError";
    }
}

/** A guard refused the operation; nothing was changed. Exit code 3. */
export class GuardRefusal extends RingError {
    constructor(message: string, fix?: string) {
        super(message, EXIT.refused, fix);
        this.name = "GuardRefusal";
    }
}

/** The command line is wrong. Exit code 2. */
export class UsageError extends RingError {
    constructor(message: string) {
        super(message, EXIT.usage);
        this.name = "UsageError";
    }
}

/** Resource type of the custom domain's base path mapping. */
export const MAPPING_TYPE = "aws:apigateway/basePathMapping:BasePathMapping";

/** The component that owns the mapping in the live pointer's program (components/domainFlip.ts, created in live/index.ts; in a ring deployed before the live pointer, in the primary's). */
export const DOMAIN_FLIP_TYPE = "api-ring:ring:DomainFlip";
export const DOMAIN_FLIP_NAME = "live";

/** The default ring when Pulumi.yaml does not say. */
export const DEFAULT_ORDER: readonly string[] = ["red", "black"];

/** How the commands refer to themselves in fixes. */
export const RING_CMD = "npm run ring --";

/** Pulumi stack names: letters, digits, '-', '_', '.'. */

export interface Ring {
    /** Slots in deploy order. */
    order: string[];
    /** The slot that owns the network and the live mapping. */
    primary: string;
}

/** What the commands know about one slot. */
export interface SlotState {
    slot: string;
    /** The Pulumi stack name (the slot, optionally org-qualified). */
    stack: string;
    /** False when the stack does not exist or has no outputs. */
    deployed: boolean;
    /** Plain (non-secret) stack outputs; empty when never deployed. */
    outputs: Record<string, unknown>;
}

/** What the custom domain's base path mapping points at, as AWS says (GetBasePathMapping). */
export interface LiveMapping {
    restApiId: string;
    stage: string;
}

/** The live pointer's stack as the commands read it. */
export interface PointerState {
    /** Its stack name (`live`, or `<org>/live`), in the project of live/. */
    stack: string;
    /** Whether the stack exists (it may exist with no deployment yet). */
    exists: boolean;
    /** What its last deployment left: the live slot, the previous one, the history, the cohorts. */
    state: LivePointerState;
}

/** The ring as read from the slots' stacks, the live pointer's stack and AWS. */
export interface RingState {
    ring: Ring;
    pointer: PointerState;
    /**
     * What the domain points at now, as AWS's mapping says: a slot of the ring, or for a
     * mapping outside the ring a label `<stage> (api <id>)` (see `liveLabel`). Undefined when
     * nothing is mapped or the mapping was not read.
     */
    liveSlot?: string;
    /** The mapping as read from AWS; null when AWS has none; undefined when not read (no domain:name). */
    mapping?: LiveMapping | null;
    /** The mapped domain and base path, e.g. "api.example.edu/" (for messages). */
    domain?: string;
    /** Whether the live pointer's state holds the mapping (read only while AWS maps the domain and the pointer points at nothing). */
    pointerHasMapping?: boolean;
    /** Whether the primary's state still holds the mapping: a ring deployed before the live pointer, not moved yet. */
    primaryHoldsMapping?: boolean;
    /** Every slot in ring order. */
    slots: SlotState[];
}

/** Turns a config value (array, JSON text, or comma list) into a validated ring order. */
export function parseOrder(raw: unknown, source = "ring:order"): string[] {
    let value: unknown = raw;
    if (typeof value === "string") {
        const text = value.trim();
        if (text.startsWith("[")) {
            try {
                value = JSON.parse(text);
            } catch {
                throw new RingError(`${source} is not valid JSON: ${text}`, EXIT.failed,
                    "set it to a list of stack names, e.g. `ring:order: [red, black]` in Pulumi.yaml");
            }
        } else {
            value = text === "" ? [] : text.split(",").map((s) => s.trim());
        }
    }
    if (!Array.isArray(value) || value.length === 0) {
        throw new RingError(`${source} must be a non-empty list of slot (stack) names, got ${JSON.stringify(raw)}`,
            EXIT.failed, "set it to a list of stack names, e.g. `ring:order: [red, black]` in Pulumi.yaml");
    }
    const order: string[] = [];
    for (const item of value) {
        if (typeof item !== "string" || !SLOT_NAME.test(item)) {
            throw new RingError(`${source} contains ${JSON.stringify(item)}, which is not a valid stack name`,
                EXIT.failed, "use stack names made of letters, digits, '-' and '_'");
        }
        if (order.includes(item)) {
            throw new RingError(`${source} lists slot "${item}" twice`, EXIT.failed, "list every slot once");
        }
        order.push(item);
    }
    return order;
}

/** Builds the ring from `ring:order` / `ring:primary` (either may be absent: defaults apply). */
export function resolveRing(rawOrder: unknown, rawPrimary: unknown): Ring {
    const order = rawOrder === undefined || rawOrder === null ? [...DEFAULT_ORDER] : parseOrder(rawOrder);
    const primary = rawPrimary === undefined || rawPrimary === null || rawPrimary === "" ? order[0] : rawPrimary;
    if (typeof primary !== "string" || !order.includes(primary)) {
        throw new RingError(`ring:primary is ${JSON.stringify(primary)}, which is not in ring:order [${order.join(", ")}]`,
            EXIT.failed, `set ring:primary in Pulumi.yaml to one of: ${order.join(", ")}`);
    }
    return { order, primary };
}

/** True when `slot` is one of the ring's slots. */
export function inRing(ring: Ring, slot: string | undefined): slot is string {
    return slot !== undefined && ring.order.includes(slot);
}

/**
 * The slot after `live` in ring order, wrapping around. A live slot that is not in the
 * ring (e.g. "bootstrap", or none at all before the first deploy) means the first slot.
 */
export function nextSlot(order: readonly string[], live: string | undefined): string {
    if (order.length === 0) throw new RingError("the ring has no slots", EXIT.failed, "set ring:order in Pulumi.yaml");
    const i = live === undefined ? -1 : order.indexOf(live);
    return i < 0 ? order[0] : order[(i + 1) % order.length];
}

/** Qualifies a slot's stack name with an org (`org/slot`) when one is given. */
export function stackNameFor(slot: string, org?: string): string {
    return org ? `${org}/${slot}` : slot;
}

/** A slot counts as deployed when its stack has outputs naming a REST API. */
export function isDeployed(outputs: Record<string, unknown> | undefined): boolean {
    if (!outputs) return false;
    const id = outputs["restApiId"];
    return typeof id === "string" && id !== "";
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

function slotState(state: RingState, slot: string): SlotState | undefined {
    return state.slots.find((s) => s.slot === slot);
}

function primaryState(state: RingState): SlotState {
    const p = slotState(state, state.ring.primary);
    if (!p) throw new Error(`internal: no state for primary slot ${state.ring.primary}`);
    return p;
}

/** The slot the custom domain serves now, as AWS's mapping says (a label for a mapping outside the ring). */
export function currentLive(state: RingState): string | undefined {
    return state.liveSlot;
}

/** The slot a mapping points at, by the slots' outputs (restApiId and stage); a label for a mapping outside the ring. */
export function liveLabel(slots: readonly SlotState[], mapping: LiveMapping): string {
    const slot = slots.find((s) => s.deployed && s.outputs["restApiId"] === mapping.restApiId && (str(s.outputs["stageName"]) ?? s.slot) === mapping.stage);
    return slot ? slot.slot : `${mapping.stage} (api ${mapping.restApiId})`;
}

/** What AWS maps and what the live pointer says, when they differ. */
export interface Drift {
    /** What AWS maps: a slot, a label outside the ring, or "nothing". */
    aws: string;
    /** What the live pointer's state says is live ("nothing" before its first flip). */
    pointer: string;
    message: string;
    fix: string;
}

/**
 * Drift: the domain's mapping in AWS is not what the live pointer's state says (someone flipped in
 * the console or with another tool, or a flip was left half done). Only once the mapping was read.
 */
export function detectDrift(state: RingState): Drift | undefined {
    if (state.mapping === undefined) return undefined;
    const intent = state.pointer.state.liveSlot ?? undefined;
    const aws = state.mapping === null ? undefined : state.liveSlot;
    if (aws === intent) return undefined;
    // Before the first flip nothing is intended; a mapping AWS already has is for the first flip's adoption guard.
    if (intent === undefined) return undefined;
    const domain = state.domain ?? "the custom domain";
    const awsText = state.mapping === null ? "nothing (AWS has no base path mapping for it)"
        : aws !== undefined && inRing(state.ring, aws) ? `${aws} (api ${state.mapping.restApiId}, stage ${state.mapping.stage})`
            : `stage ${state.mapping.stage} of api ${state.mapping.restApiId}, outside the ring`;
    const fixes: string[] = [];
    if (aws !== undefined && inRing(state.ring, aws)) {
        fixes.push(`if the change in AWS was meant, record it: \`${RING_CMD} flip ${aws} --override-drift --reason "<why>"\``);
    }
    if (state.mapping === null) {
        fixes.push(`to recreate the mapping: \`pulumi refresh --yes -s ${state.pointer.stack}\` then \`pulumi up --yes -s ${state.pointer.stack}\`, both in live/`);
    } else {
        fixes.push(`to point ${domain} back at ${intent}: \`${RING_CMD} flip ${intent} --override-drift --reason "<why>"\``);
    }
    return {
        aws: aws ?? "nothing",
        pointer: intent,
        message: `drift: AWS maps ${domain} to ${awsText}, but the live pointer (stack ${state.pointer.stack}) says ${intent}`,
        fix: fixes.join("; or "),
    };
}

/** Refuses on drift, unless overridden; returns the drift it let through. */
function refuseOnDrift(state: RingState, what: string, override = false): Drift | undefined {
    const drift = detectDrift(state);
    if (drift && !override) throw new GuardRefusal(`${what} refused: ${drift.message}; nothing was changed`, drift.fix);
    return drift;
}

function refuseOutsideRing(ring: Ring, slot: string, what: string): never {
    throw new GuardRefusal(`${what} slot "${slot}" is not in the ring (ring:order is [${ring.order.join(", ")}]); there is no stack for it in this project`,
        `pick one of ${ring.order.join(", ")}, or add "${slot}" to ring:order in Pulumi.yaml and create its Pulumi.${slot}.yaml`);
}

/** Refuses while the primary's state still holds the mapping (a ring deployed before the live pointer, not moved yet). */
function refuseUnmoved(state: RingState, what: string): void {
    if (state.primaryHoldsMapping !== true) return;
    const primary = primaryState(state);
    throw new GuardRefusal(`${what} refused: stack ${primary.stack} still holds the custom domain's base path mapping in its state (a ring deployed before the live pointer), ` +
        `and the live pointer's stack ${state.pointer.stack} does not`,
        `move it first, without touching AWS: \`${RING_CMD} migrate\` (README, "Moving a ring deployed before the live pointer")`);
}

export interface DeployPlan {
    /** The slot (= stack) `up` runs on. */
    slot: string;
    stack: string;
    /** What is live now (undefined when AWS maps nothing). */
    live?: string;
    /** True when the stack does not exist yet and will be created. */
    createsStack: boolean;
    /** One line saying why this slot. */
    reason: string;
}

/**
 * Picks the slot `deploy` releases to: the one after the live slot (or `requested`), never the live
 * slot. A deploy never touches the live pointer.
 */
export function planDeploy(state: RingState, requested?: string, stackExists: (slot: string) => boolean = () => true): DeployPlan {
    const { ring } = state;
    const primary = primaryState(state);
    const live = currentLive(state);
    if (requested !== undefined && !inRing(ring, requested)) refuseOutsideRing(ring, requested, "deploy target");
    const slot = requested ?? nextSlot(ring.order, live);
    const target = slotState(state, slot);
    if (!target) throw new Error(`internal: no state for slot ${slot}`);

    if (live !== undefined && slot === live) {
        throw new GuardRefusal(`slot "${slot}" (stack ${target.stack}) is live: the custom domain points at it, so a release must not go there`,
            `release to an idle slot (\`${RING_CMD} deploy\` picks ${nextSlot(ring.order, live)}), then \`${RING_CMD} flip <slot>\`; ` +
            `to change the live slot in place on purpose, run \`pulumi up -s ${target.stack}\` with ring:allowLiveUpdate true`);
    }
    refuseOnDrift(state, `deploying slot "${slot}"`);
    if (slot === ring.primary) refuseUnmoved(state, `deploying the primary slot "${slot}"`);
    if (slot !== ring.primary && !primary.deployed) {
        throw new GuardRefusal(`slot "${slot}" (stack ${target.stack}) reads the VPC and Redis from the primary "${ring.primary}" (stack ${primary.stack}), which has never been deployed`,
            `deploy the primary first: \`${RING_CMD} deploy ${ring.primary}\` (or \`${RING_CMD} deploy\` with nothing live)`);
    }
    const reason = requested !== undefined
        ? `requested; live slot is ${live ?? "none"}`
        : live === undefined
            ? `nothing is live yet (AWS maps nothing to the domain), so the first slot`
            : !inRing(ring, live)
                ? `the live slot ${live} is not in the ring [${ring.order.join(", ")}], so the first slot`
                : `next after live slot ${live} in ring order [${ring.order.join(", ")}]`;
    return { slot, stack: target.stack, live, createsStack: !stackExists(slot), reason };
}

/** A change of the live pointer and what it is about. */
export interface PointerPlan {
    /** The live pointer's stack, where the change is applied (one `pulumi up` of the project in live/). */
    pointerStack: string;
    /** The change the program applies; a flip's history entry is added once the gate has passed. */
    change: LivePointerChange;
    /** True when nothing would change. */
    noop: boolean;
}

export interface FlipPlan extends PointerPlan {
    /** The slot the domain will point at. */
    target: string;
    /** The slot live before the flip, as AWS's mapping says (recorded as the live pointer's previousLive when it is a slot). */
    from?: string;
    /** The cohorts the flip ends. */
    removedCohorts: Cohort[];
    /** The drift this flip resolves (with --override-drift). */
    overrides?: Drift;
}

export interface FlipOptions {
    /** Flip even though AWS and the live pointer disagree (the flip resolves the drift; it is recorded). */
    overrideDrift?: boolean;
}

/**
 * Refuses the first flip onto a domain AWS already maps while the live pointer's state does not hold
 * that mapping: the pointer's update would fail to create it (ConflictException).
 */
function refuseUnadopted(state: RingState): void {
    if (!state.mapping || state.pointer.state.liveSlot !== null || state.pointerHasMapping !== false) return;
    throw new GuardRefusal(`${state.domain ?? "the custom domain"} already has a base path mapping in AWS (to ${state.liveSlot ?? "?"}), ` +
        `which the live pointer's first update would fail to create (ConflictException)`,
        `adopt it into the live pointer's stack first (README, "Adopting an existing mapping"): in live/, \`${adoptionImportCommand(state.pointer.stack)}\` ` +
        `with ${adoptionImportFile(state.domain ?? "<domain>/")}; the first flip then points it at the slot you name`);
}

/** Checks a flip to `target` and says what the live pointer's change is. */
export function planFlip(state: RingState, target: string, options: FlipOptions = {}): FlipPlan {
    const { ring } = state;
    if (!inRing(ring, target)) refuseOutsideRing(ring, target, "flip target");
    const t = slotState(state, target);
    if (!t) throw new Error(`internal: no state for slot ${target}`);
    if (!t.deployed) {
        throw new GuardRefusal(`slot "${target}" (stack ${t.stack}) has never been deployed (its stack has no outputs); the domain cannot point at it`,
            `deploy it first: \`${RING_CMD} deploy ${target}\`, smoke-test its stage URL, then flip`);
    }
    refuseUnmoved(state, `flip to slot "${target}"`);
    const drift = refuseOnDrift(state, `flip to slot "${target}"`, options.overrideDrift);
    refuseUnadopted(state);
    const from = state.liveSlot;
    const pointer = state.pointer.state;
    const noop = from === target && pointer.liveSlot === target;
    // A previous slot outside the ring (e.g. bootstrap) cannot be rolled back to: forget the older one instead.
    const previousLive = from !== undefined && from !== target ? (inRing(ring, from) ? from : null) : pointer.previousLive;
    return {
        target, from, pointerStack: state.pointer.stack, noop, overrides: drift,
        removedCohorts: noop ? [] : pointer.cohorts,
        change: { expectedLive: pointer.liveSlot, live: target, previousLive, cohorts: noop ? pointer.cohorts : [] },
    };
}

/** Checks a rollback: a flip back to the live pointer's previousLive. */
export function planRollback(state: RingState, options: FlipOptions = {}): FlipPlan {
    const prev = state.pointer.state.previousLive;
    if (prev === null) {
        throw new GuardRefusal(`no previous live slot is recorded (the live pointer's stack ${state.pointer.stack} has no previousLive); nothing to roll back to`,
            `flip explicitly: \`${RING_CMD} flip <slot>\` (one of ${state.ring.order.join(", ")})`);
    }
    if (prev === state.liveSlot) {
        throw new GuardRefusal(`the live pointer's previousLive is "${prev}", which is already live; nothing to roll back`,
            `flip explicitly: \`${RING_CMD} flip <slot>\`, or check \`${RING_CMD} status\``);
    }
    return planFlip(state, prev, options);
}

export interface CohortPlan extends PointerPlan {
    /** The cohort added or removed. */
    cohort: Cohort;
    removed: boolean;
}

/**
 * Checks a new cohort: requests carrying `headers` reach `slot` through the domain. A cohort with the
 * same headers is re-pointed (it keeps its priority unless another is given).
 */
export function planCohort(state: RingState, slot: string, headers: CohortHeader[], priority?: number): CohortPlan {
    const { ring } = state;
    if (!inRing(ring, slot)) refuseOutsideRing(ring, slot, "cohort target");
    const t = slotState(state, slot) as SlotState;
    if (!t.deployed) {
        throw new GuardRefusal(`slot "${slot}" (stack ${t.stack}) has never been deployed; a cohort cannot reach it`, `deploy it first: \`${RING_CMD} deploy ${slot}\``);
    }
    if (slot === state.liveSlot) {
        throw new GuardRefusal(`slot "${slot}" is live: every request reaches it already, so a cohort for it changes nothing`,
            `name an idle slot (\`${RING_CMD} status\` lists them)`);
    }
    refuseUnmoved(state, `a cohort for slot "${slot}"`);
    refuseOnDrift(state, `a cohort for slot "${slot}"`);
    const pointer = state.pointer.state;
    const existing = pointer.cohorts.find((c) => sameHeaders(c.headers, headers));
    const others = pointer.cohorts.filter((c) => c !== existing);
    const cohort: Cohort = { slot, headers, priority: priority ?? existing?.priority ?? nextPriority(others) };
    const cohorts = [...others, cohort];
    const problems = cohortProblems(cohorts);
    if (problems.length > 0) {
        throw new GuardRefusal(`API Gateway would refuse this cohort's routing rule:\n  - ${problems.join("\n  - ")}`,
            "fix the headers or the priority (README, \"Header cohorts\", lists what API Gateway takes)");
    }
    const noop = existing !== undefined && existing.slot === slot && existing.priority === cohort.priority;
    return {
        pointerStack: state.pointer.stack, cohort, removed: false, noop,
        change: { expectedLive: pointer.liveSlot, live: pointer.liveSlot, previousLive: pointer.previousLive, cohorts },
    };
}

/** Checks removing the cohort that matches `headers`. */
export function planRemoveCohort(state: RingState, headers: CohortHeader[]): CohortPlan {
    const pointer = state.pointer.state;
    const cohort = pointer.cohorts.find((c) => sameHeaders(c.headers, headers));
    if (!cohort) {
        throw new GuardRefusal(`no cohort matches ${headers.map((h) => `${h.name}=${h.value}`).join(" and ")} ` +
            `(cohorts: ${pointer.cohorts.map((c) => c.headers.map((h) => `${h.name}=${h.value}`).join(" and ")).join("; ") || "none"})`,
            `name a cohort's headers exactly as \`${RING_CMD} status\` lists them`);
    }
    refuseOnDrift(state, "removing a cohort");
    return {
        pointerStack: state.pointer.stack, cohort, removed: true, noop: false,
        change: { expectedLive: pointer.liveSlot, live: pointer.liveSlot, previousLive: pointer.previousLive, cohorts: pointer.cohorts.filter((c) => c !== cohort) },
    };
}

/**
 * The `pulumi import` that adopts an existing mapping into the live pointer's stack `stack` (in live/, with
 * adoptionImportFile's adopt.json). It keeps the import's default `--protect` (pulumi/pulumi
 * pkg/cmd/pulumi/import.go): until the first flip declares the mapping, and so unprotects it, an update
 * of the live stack that would delete it is refused instead.
 */
export function adoptionImportCommand(stack: string): string {
    return `pulumi import --file adopt.json --generate-code=false --yes -s ${stack}`;
}

/** The `pulumi import` file that adopts an existing mapping of `domainAndBase` ("api.example.edu/" or "api.example.edu/v1") into the primary's state, under the DomainFlip component the program declares. */
export function adoptionImportFile(domainAndBase: string): string {
    return JSON.stringify({
        resources: [
            { type: DOMAIN_FLIP_TYPE, name: DOMAIN_FLIP_NAME, component: true },
            { type: MAPPING_TYPE, name: `${DOMAIN_FLIP_NAME}-mapping`, id: domainAndBase, parent: DOMAIN_FLIP_NAME },
        ],
    });
}

/** The mapping's domain and base path as `pulumi import` and messages name them: "api.example.edu/" or "api.example.edu/v1". */
export function domainAndBase(domain: string, basePath: string): string {
    return `${domain}/${basePath}`;
}

/** One resource of `pulumi stack export` (only the fields the ring reads). */
export interface ExportedResource {
    urn: string;
    type: string;
    id?: string;
    parent?: string;
    delete?: boolean;
}

/** URNs of the live mapping(s) in the primary's exported state (pending deletes skipped). */
export function findMappingUrns(resources: readonly ExportedResource[]): string[] {
    return resources.filter((r) => r.type === MAPPING_TYPE && r.delete !== true).map((r) => r.urn);
}

/** Reads `deployment.resources` from a `pulumi stack export` document, tolerating shapes it does not know. */
export function exportedResources(deployment: unknown): ExportedResource[] {
    const inner = isRecord(deployment) ? deployment["deployment"] : undefined;
    const resources = isRecord(inner) ? inner["resources"] : undefined;
    if (!Array.isArray(resources)) return [];
    const out: ExportedResource[] = [];
    for (const r of resources) {
        if (isRecord(r) && typeof r["urn"] === "string" && typeof r["type"] === "string") {
            out.push({
                urn: r["urn"], type: r["type"],
                id: typeof r["id"] === "string" ? r["id"] : undefined,
                parent: typeof r["parent"] === "string" ? r["parent"] : undefined,
                delete: r["delete"] === true,
            });
        }
    }
    return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The state of one CloudWatch alarm, as DescribeAlarms says; MISSING when it does not exist. */
export interface AlarmState {
    name: string;
    state: "OK" | "ALARM" | "INSUFFICIENT_DATA" | "MISSING";
    reason?: string;
    /** The least breaching data it fires on: its period (of its metrics, for metric math) and datapoints to alarm. */
    firesAfter?: { periodSeconds: number; datapoints: number };
}

/** Alarms that cannot fire within a bake of `minutes`: they need more breaching data than that. */
export function slowerThanBake(states: readonly AlarmState[], minutes: number): (AlarmState & { firesAfter: { periodSeconds: number; datapoints: number } })[] {
    return states.filter((a): a is AlarmState & { firesAfter: { periodSeconds: number; datapoints: number } } =>
        a.firesAfter !== undefined && a.firesAfter.periodSeconds * a.firesAfter.datapoints > minutes * 60);
}

/** The first alarm that is firing, if any. */
export function firingAlarm(states: readonly AlarmState[]): AlarmState | undefined {
    return states.find((a) => a.state === "ALARM");
}

/** Reads a typed config value from `pulumi config --json` entries: objectValue, JSON text, or plain text. */
export function configValue(entry: unknown): unknown {
    if (!isRecord(entry)) return undefined;
    if (entry["objectValue"] !== undefined) return entry["objectValue"];
    const v = entry["value"];
    if (typeof v !== "string") return undefined;
    const t = v.trim();
    if (t.startsWith("[") || t.startsWith("{")) {
        try {
            return JSON.parse(t);
        } catch {
            return v;
        }
    }
    return v;
}

/** Reads a project-level config entry of Pulumi.yaml: `key: value`, `key: {value: …}` or `key: {default: …}`. */
export function projectConfigValue(entry: unknown): unknown {
    if (isRecord(entry)) {
        if ("value" in entry) return entry["value"];
        if ("default" in entry) return entry["default"];
        return undefined;
    }
    return entry;
}

/** Quotes one argument for a POSIX shell, so printed commands can be pasted (URNs contain `$`). */
export function shellQuote(arg: string): string {
    return /^[A-Za-z0-9_\-.,:/=@+]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line for people to read or paste. */
export function formatCommand(argv: readonly string[]): string {
    return argv.map(shellQuote).join(" ");
}
