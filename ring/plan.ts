// The ring's arithmetic and guard rails for the ring commands (ring/cli.ts).
// Pure: no Pulumi import, no I/O. Everything here is decided from plain data that
// ring/ops.ts reads through the Automation API and the AWS SDK, so it is unit-tested exhaustively.
import type { RingHistoryEntry } from "../outputs";

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

/** Resource type of the live pointer in the primary stack. */
export const MAPPING_TYPE = "aws:apigateway/basePathMapping:BasePathMapping";

/** The component that owns the mapping in the primary's program (components/domainFlip.ts, created in index.ts). */
export const DOMAIN_FLIP_TYPE = "api-ring:ring:DomainFlip";
export const DOMAIN_FLIP_NAME = "live";

/** The default ring when Pulumi.yaml does not say. */
export const DEFAULT_ORDER: readonly string[] = ["red", "black"];

/** How the commands refer to themselves in fixes. */
export const RING_CMD = "npm run ring --";

/** Pulumi stack names: letters, digits, '-', '_', '.'. */
const SLOT_NAME = /^[A-Za-z0-9_.-]+$/;

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

/** The ring as read from the primary stack and from AWS. */
export interface RingState {
    ring: Ring;
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
    /** Whether the primary's Pulumi state already holds the mapping (read only before the primary's first deploy). */
    primaryStateHasMapping?: boolean;
    /** `ring:live` from the primary's config: what the next `up` of the primary points the domain at. */
    configuredLive?: string;
    /** `ring:previousLive` from the primary's config. */
    previousLive?: string;
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
                EXIT.failed, "use stack names made of letters, digits, '-', '_' and '.'");
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

function slotState(state: RingState, slot: string): SlotState | undefined {
    return state.slots.find((s) => s.slot === slot);
}

function primaryState(state: RingState): SlotState {
    const p = slotState(state, state.ring.primary);
    if (!p) throw new Error(`internal: no state for primary slot ${state.ring.primary}`);
    return p;
}

/** The slot the custom domain serves now, if the primary has been deployed. */
export function currentLive(state: RingState): string | undefined {
    return primaryState(state).deployed ? state.liveSlot : undefined;
}

/** The slot a mapping points at, by the slots' outputs (restApiId and stage); a label for a mapping outside the ring. */
export function liveLabel(slots: readonly SlotState[], mapping: LiveMapping): string {
    const slot = slots.find((s) => s.deployed && s.outputs["restApiId"] === mapping.restApiId && (str(s.outputs["stageName"]) ?? s.slot) === mapping.stage);
    return slot ? slot.slot : `${mapping.stage} (api ${mapping.restApiId})`;
}

/** What AWS maps and what ring:live says, when they differ. */
export interface Drift {
    /** What AWS maps: a slot, a label outside the ring, or "nothing". */
    aws: string;
    /** ring:live on the primary. */
    config: string;
    message: string;
    fix: string;
}

/**
 * Drift: the domain's mapping in AWS is not what ring:live says (someone flipped in the console
 * or with another tool, or a flip was left half done). Only once the primary is deployed and the
 * mapping was read.
 */
export function detectDrift(state: RingState): Drift | undefined {
    const primary = primaryState(state);
    if (!primary.deployed || state.mapping === undefined) return undefined;
    const intent = state.configuredLive ?? state.ring.primary;
    const aws = state.mapping === null ? undefined : state.liveSlot;
    if (aws === intent) return undefined;
    const domain = state.domain ?? "the custom domain";
    const awsText = state.mapping === null ? "nothing (AWS has no base path mapping for it)"
        : aws !== undefined && inRing(state.ring, aws) ? `${aws} (api ${state.mapping.restApiId}, stage ${state.mapping.stage})`
            : `stage ${state.mapping.stage} of api ${state.mapping.restApiId}, outside the ring`;
    const fixes: string[] = [];
    if (aws !== undefined && inRing(state.ring, aws)) {
        fixes.push(`if the change in AWS was meant, record it: \`${RING_CMD} flip ${aws} --override-drift --reason "<why>"\``);
    }
    if (state.mapping === null) {
        fixes.push(`to recreate the mapping: \`pulumi refresh --yes -s ${primary.stack}\`, then \`pulumi up -s ${primary.stack}\``);
    } else {
        fixes.push(`to point ${domain} back at ${intent}: \`${RING_CMD} flip ${intent} --override-drift --reason "<why>"\``);
    }
    return {
        aws: aws ?? "nothing",
        config: intent,
        message: `drift: AWS maps ${domain} to ${awsText}, but ring:live on stack ${primary.stack} says ${intent}`,
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

export interface DeployPlan {
    /** The slot (= stack) `up` runs on. */
    slot: string;
    stack: string;
    /** What is live now (undefined before the primary's first deploy). */
    live?: string;
    /** True when the stack does not exist yet and will be created. */
    createsStack: boolean;
    /** One line saying why this slot. */
    reason: string;
}

/**
 * Picks the slot `deploy` releases to: the one after the live slot (or `requested`),
 * never the live slot, never a slot the primary's `ring:live` is about to point at.
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
    if (slot === ring.primary && !primary.deployed && state.mapping && state.primaryStateHasMapping !== true) {
        throw new GuardRefusal(`${state.domain ?? "the custom domain"} already has a base path mapping in AWS (to ${state.liveSlot ?? "?"}), ` +
            `which the primary's first \`up\` would fail to create (ConflictException)`,
            `adopt it into stack ${primary.stack} first (README, "Adopting an existing mapping"): \`pulumi import --file adopt.json --protect=false --generate-code=false --yes -s ${primary.stack}\` ` +
            `with ${adoptionImportFile(state.domain ?? "<domain>/")}; the primary's first up then points the domain at ring:live`);
    }
    if (slot !== ring.primary && !primary.deployed) {
        throw new GuardRefusal(`slot "${slot}" (stack ${target.stack}) reads the VPC and Redis from the primary "${ring.primary}" (stack ${primary.stack}), which has never been deployed`,
            `deploy the primary first: \`${RING_CMD} deploy ${ring.primary}\` (or \`${RING_CMD} deploy\` with nothing live)`);
    }
    const reason = requested !== undefined
        ? `requested; live slot is ${live ?? "none"}`
        : !primary.deployed && state.liveSlot !== undefined
            ? `the domain serves ${state.liveSlot}, which is not in the ring [${ring.order.join(", ")}], and the primary was never deployed, so the first slot`
            : live === undefined
            ? (primary.deployed ? `AWS maps nothing to the domain, so the first slot` : `nothing is live yet (primary ${ring.primary} never deployed), so the first slot`)
            : !inRing(ring, live)
                ? `the live slot ${live} is not in the ring [${ring.order.join(", ")}], so the first slot`
                : `next after live slot ${live} in ring order [${ring.order.join(", ")}]`;
    return { slot, stack: target.stack, live, createsStack: !stackExists(slot), reason };
}

/** One `pulumi config set` (value given) or `pulumi config rm` (no value) on a stack. */
export interface ConfigChange {
    key: string;
    value?: string;
}

export interface FlipPlan {
    /** The slot the domain will point at. */
    target: string;
    /** The slot live before the flip (recorded as ring:previousLive). */
    from?: string;
    /** The primary's stack: where config is set and the mapping is updated. */
    primaryStack: string;
    /** Config the flip sets (or, with no value, removes) on the primary, in order. */
    config: ConfigChange[];
    /** True when the target is already live and config agrees: nothing to do. */
    noop: boolean;
    /** The drift this flip resolves (with --override-drift). */
    overrides?: Drift;
}

export interface FlipOptions {
    /** Flip even though AWS and ring:live disagree (the flip resolves the drift; it is recorded). */
    overrideDrift?: boolean;
}

/** Checks a flip to `target` and says what it sets. */
export function planFlip(state: RingState, target: string, options: FlipOptions = {}): FlipPlan {
    const { ring } = state;
    if (!inRing(ring, target)) refuseOutsideRing(ring, target, "flip target");
    const primary = primaryState(state);
    const t = slotState(state, target);
    if (!t) throw new Error(`internal: no state for slot ${target}`);
    if (!primary.deployed) {
        throw new GuardRefusal(`the primary slot "${ring.primary}" (stack ${primary.stack}) has never been deployed, so there is no live mapping to flip`,
            `deploy it first: \`${RING_CMD} deploy ${ring.primary}\``);
    }
    if (!t.deployed) {
        throw new GuardRefusal(`slot "${target}" (stack ${t.stack}) has never been deployed (its stack has no outputs); the domain cannot point at it`,
            `deploy it first: \`${RING_CMD} deploy ${target}\`, smoke-test its stage URL, then flip`);
    }
    const drift = refuseOnDrift(state, `flip to slot "${target}"`, options.overrideDrift);
    const from = state.liveSlot;
    if (from === target && state.configuredLive === target) {
        return { target, from, primaryStack: primary.stack, config: [], noop: true };
    }
    const config: ConfigChange[] = [{ key: "ring:live", value: target }];
    // A previous slot outside the ring (e.g. bootstrap) cannot be rolled back to, and the
    // program refuses it in ring:previousLive: forget the older one instead.
    if (from !== undefined && from !== target) config.push(inRing(ring, from) ? { key: "ring:previousLive", value: from } : { key: "ring:previousLive" });
    return { target, from, primaryStack: primary.stack, config, noop: false, overrides: drift };
}

/** Checks a rollback: a flip back to `ring:previousLive`. */
export function planRollback(state: RingState, options: FlipOptions = {}): FlipPlan {
    const primary = primaryState(state);
    const prev = state.previousLive;
    if (prev === undefined || prev === "") {
        throw new GuardRefusal(`no previous live slot is recorded (ring:previousLive is not set on the primary stack ${primary.stack}); nothing to roll back to`,
            `flip explicitly: \`${RING_CMD} flip <slot>\` (one of ${state.ring.order.join(", ")})`);
    }
    if (prev === state.liveSlot) {
        throw new GuardRefusal(`ring:previousLive on stack ${primary.stack} is "${prev}", which is already live; nothing to roll back`,
            `flip explicitly: \`${RING_CMD} flip <slot>\`, or check \`${RING_CMD} status\``);
    }
    return planFlip(state, prev, options);
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
                delete: r["delete"] === true,
            });
        }
    }
    return out;
}

/** The mapping URN a flip targets; refuses when the primary's state has none. */
export function mappingTargets(resources: readonly ExportedResource[], primarySlot: string, primaryStack: string): string[] {
    const urns = findMappingUrns(resources);
    if (urns.length === 0) {
        throw new GuardRefusal(`the primary slot "${primarySlot}" (stack ${primaryStack}) has no ${MAPPING_TYPE} in its state, so there is no live mapping to flip`,
            `set domain:name on ${primaryStack} and run \`pulumi up -s ${primaryStack}\` to create the mapping, then flip`);
    }
    return urns;
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

/** The history with `entry` appended, oldest dropped beyond `limit`. */
export function appendHistory(history: readonly RingHistoryEntry[], entry: RingHistoryEntry, limit: number): RingHistoryEntry[] {
    return [...history, entry].slice(-Math.max(1, limit));
}

/** One history entry on one line, for people. */
export function formatHistoryEntry(e: RingHistoryEntry): string {
    const releases = e.fromRelease || e.toRelease ? ` (${e.fromRelease ?? "?"} -> ${e.toRelease ?? "?"})` : "";
    return `${e.at}  ${e.kind} ${e.from ?? "nothing"} -> ${e.to}${releases}  by ${e.by}  gate ${e.gate}${e.why ? `  why: ${e.why}` : ""}`;
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
    specSha256?: string;
    releaseId?: string;
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
    /** AWS and ring:live disagree. */
    drift?: Drift;
    /** Every recorded flip, rollback and automatic flip-back, oldest first. */
    history: RingHistoryEntry[];
    liveUrl?: string;
    /** ring:live on the primary; differs from `live` only on drift (a console flip, a flip left half done). */
    configuredLive?: string;
    previousLive?: string;
    /** Advice when state and config disagree. */
    warnings: string[];
    slots: SlotStatus[];
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** What status adds to the state: the history, the alarms' states, and what could not be read. */
export interface StatusExtras {
    history?: RingHistoryEntry[];
    /** Set when AWS could not be read: the live slot is unknown. */
    awsError?: string;
    alarms?: Record<string, AlarmState[]>;
    warnings?: string[];
}

/** Builds the status report (never includes secret outputs). */
export function buildStatus(state: RingState, extras: StatusExtras = {}): RingStatus {
    const primary = primaryState(state);
    const live = currentLive(state);
    const warnings: string[] = [...(extras.warnings ?? [])];
    const drift = detectDrift(state);
    if (drift) warnings.push(`${drift.message}; ${drift.fix}`);
    if (live !== undefined && !inRing(state.ring, live)) {
        warnings.push(`the live slot "${live}" is not in ring:order; \`${RING_CMD} deploy\` will release to ${state.ring.order[0]}`);
    }
    return {
        order: state.ring.order,
        primary: state.ring.primary,
        live,
        liveUrl: primary.deployed ? str(primary.outputs["liveUrl"]) : undefined,
        awsError: extras.awsError,
        domain: state.domain,
        mapping: state.mapping === undefined ? undefined
            : state.mapping === null ? null
                : { ...state.mapping, ...(inRing(state.ring, state.liveSlot) ? { slot: state.liveSlot } : {}) },
        drift,
        history: extras.history ?? [],
        configuredLive: state.configuredLive,
        previousLive: state.previousLive,
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
            alarms: extras.alarms?.[s.slot],
        })),
    };
}

/** History entries `status` prints; `--json` gives them all. */
export const HISTORY_SHOWN = 5;

/** Renders the status report as a table for people. */
export function formatStatus(st: RingStatus, project = "api-ring"): string {
    const lines: string[] = [];
    lines.push(`ring ${project}: order [${st.order.join(", ")}], primary ${st.primary}`);
    lines.push(`live: ${st.live ?? (st.awsError ? "unknown (AWS could not be read)" : "none")}${st.liveUrl ? ` (${st.liveUrl})` : ""}` +
        `${st.previousLive ? `, previous: ${st.previousLive}` : ""}`);
    if (st.mapping !== undefined) {
        const aws = st.mapping === null ? "no mapping" : `api ${st.mapping.restApiId}, stage ${st.mapping.stage}`;
        lines.push(`mapping: ${st.domain ?? "domain"} -> ${aws} (AWS); ring:live: ${st.configuredLive ?? "unset"}${st.drift ? "  DRIFT" : ""}`);
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
