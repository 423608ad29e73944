// The ring's arithmetic and guard rails for the ring commands (ring/cli.ts).
// Pure: no Pulumi import, no I/O. Everything here is decided from plain data that
// ring/ops.ts reads through the Automation API, so it is unit-tested exhaustively.

/** Exit codes a pipeline can rely on. */
export const EXIT = {
    /** The command did what it was asked (or, with --dry-run, would do it). */
    ok: 0,
    /** A pulumi operation (or reading the stacks) failed; nothing was refused. */
    failed: 1,
    /** Bad command line: unknown command or option, missing argument. */
    usage: 2,
    /** A guard refused: slot outside the ring, never deployed, live, nothing to roll back to. */
    refused: 3,
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

/** The ring as read from the primary stack. */
export interface RingState {
    ring: Ring;
    /** `liveSlot` from the primary's outputs: what the domain points at now. Undefined before the primary's first deploy. */
    liveSlot?: string;
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
    if (primary.deployed && state.configuredLive !== undefined && state.configuredLive !== live && slot === state.configuredLive) {
        throw new GuardRefusal(`slot "${slot}" (stack ${target.stack}) is named by ring:live on the primary stack ${primary.stack}, ` +
            `but the domain still points at ${live ?? "nothing"}: a flip to "${slot}" is half done, and the next \`up\` of ${primary.stack} makes it live`,
            `finish the flip (\`${RING_CMD} flip ${slot}\`), or undo it (\`pulumi config set ring:live ${live ?? ring.order[0]} -s ${primary.stack}\`)`);
    }
    if (slot !== ring.primary && !primary.deployed) {
        throw new GuardRefusal(`slot "${slot}" (stack ${target.stack}) reads the VPC and Redis from the primary "${ring.primary}" (stack ${primary.stack}), which has never been deployed`,
            `deploy the primary first: \`${RING_CMD} deploy ${ring.primary}\` (or \`${RING_CMD} deploy\` with nothing live)`);
    }
    const reason = requested !== undefined
        ? `requested; live slot is ${live ?? "none"}`
        : live === undefined
            ? (primary.deployed ? `the primary reports no live slot, so the first slot` : `nothing is live yet (primary ${ring.primary} never deployed), so the first slot`)
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
}

/** Checks a flip to `target` and says what it sets. */
export function planFlip(state: RingState, target: string): FlipPlan {
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
    const from = state.liveSlot;
    if (from === target && state.configuredLive === target) {
        return { target, from, primaryStack: primary.stack, config: [], noop: true };
    }
    const config: ConfigChange[] = [{ key: "ring:live", value: target }];
    // A previous slot outside the ring (e.g. bootstrap) cannot be rolled back to, and the
    // program refuses it in ring:previousLive: forget the older one instead.
    if (from !== undefined && from !== target) config.push(inRing(ring, from) ? { key: "ring:previousLive", value: from } : { key: "ring:previousLive" });
    return { target, from, primaryStack: primary.stack, config, noop: false };
}

/** Checks a rollback: a flip back to `ring:previousLive`. */
export function planRollback(state: RingState): FlipPlan {
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
    return planFlip(state, prev);
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
}

export interface RingStatus {
    order: string[];
    primary: string;
    /** What the domain points at (primary's `liveSlot` output). */
    live?: string;
    liveUrl?: string;
    /** ring:live on the primary; differs from `live` only while a flip is half done. */
    configuredLive?: string;
    previousLive?: string;
    /** Advice when state and config disagree. */
    warnings: string[];
    slots: SlotStatus[];
}

function str(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** Builds the status report (never includes secret outputs). */
export function buildStatus(state: RingState): RingStatus {
    const primary = primaryState(state);
    const live = currentLive(state);
    const warnings: string[] = [];
    if (primary.deployed && state.configuredLive !== undefined && state.configuredLive !== live) {
        warnings.push(`ring:live on ${primary.stack} is "${state.configuredLive}" but the domain points at "${live ?? "nothing"}": ` +
            `finish with \`${RING_CMD} flip ${state.configuredLive}\` or reset ring:live`);
    }
    if (live !== undefined && !inRing(state.ring, live)) {
        warnings.push(`the live slot "${live}" is not in ring:order; \`${RING_CMD} deploy\` will release to ${state.ring.order[0]}`);
    }
    return {
        order: state.ring.order,
        primary: state.ring.primary,
        live,
        liveUrl: primary.deployed ? str(primary.outputs["liveUrl"]) : undefined,
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
        })),
    };
}

/** Renders the status report as a table for people. */
export function formatStatus(st: RingStatus, project = "api-ring"): string {
    const lines: string[] = [];
    lines.push(`ring ${project}: order [${st.order.join(", ")}], primary ${st.primary}`);
    lines.push(`live: ${st.live ?? "none"}${st.liveUrl ? ` (${st.liveUrl})` : ""}` +
        `${st.previousLive ? `, previous: ${st.previousLive}` : ""}`);
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
