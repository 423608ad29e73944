// ring:*: the ring's slots, which one is primary, and how `ring flip` gates and watches a flip (the
// flip procedure, which the ring commands read from the primary). Which slot is live and the history
// are not config: they are the live pointer's state (the project in live/, README "The live pointer").
import type { CredentialSource } from "../handlers/credentials";
import type { DomainConfig } from "./domain";
import { Reader, isStringList, shown } from "./reader";
import { SLOT_NAME } from "../outputs";

export interface RingSettings {
    order: string[];
    primary: string;
    allowLiveUpdate: boolean;
}

/** The smoke test's authorized probe: one request through the target slot's stage with the test key. */
export interface SmokeProbe {
    method: "GET" | "HEAD";
    /** Path below the stage URL, e.g. /discovery/v1/catalogs. */
    path: string;
}

/** How `ring flip` gates and watches a flip; read from the primary (or Pulumi.yaml). */
export interface FlipProcedure {
    /** Minutes `ring flip` watches the new live slot's alarms; 0 skips the watch. */
    bakeMinutes: number;
    smokeTest?: SmokeProbe;
    /** The test key the probe sends (a secret): plain here, because only the ring commands read it. */
    smokeTestKey?: string;
}

/** What the ring commands read from a slot's config, validated with the program's rules. */
export interface RingCommandConfig {
    procedure: FlipProcedure;
    /** Where the slot's authorizer reads the caller's credential. */
    credentials: CredentialSource;
}

/** What the ring commands read from the live pointer's config. */
export interface LivePointerCommandConfig {
    /** The custom domain whose mapping is the live pointer. */
    domain: DomainConfig;
    /** The region of the domain (aws:region of the live pointer's stack). */
    region?: string;
}

export const RING_KEYS: readonly string[] = [
    "ring:order", "ring:primary", "ring:allowLiveUpdate", "ring:bakeMinutes", "ring:smokeTest", "ring:smokeTestKey",
];

/** Keys a ring before the live pointer kept on its primary, now the live pointer's state or config. */
export const MOVED_RING_KEYS: readonly string[] = ["ring:live", "ring:previousLive", "ring:history", "ring:historyLimit"];

/** The live pointer's own ring:* key: how many history entries its state keeps. */
export const LIVE_POINTER_RING_KEYS: readonly string[] = ["ring:historyLimit"];

const SMOKE_TEST = /^(?:(GET|HEAD) )?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?)$/;

/** The flip procedure's keys (ring:bakeMinutes, ring:smokeTest, ring:smokeTestKey). */
export function flipProcedure(r: Reader): FlipProcedure {
    let smokeTest: SmokeProbe | undefined;
    const probe = r.string("ring:smokeTest", undefined, SMOKE_TEST, "a request through the slot's stage, e.g. \"GET /discovery/v1/catalogs\" (GET or HEAD, a path starting with /)");
    if (probe !== undefined) {
        const m = SMOKE_TEST.exec(probe) as RegExpExecArray;
        smokeTest = { method: (m[1] ?? "GET") as SmokeProbe["method"], path: m[2] };
    }
    const smokeTestKey = r.optionalSecret("ring:smokeTestKey", /^\S{1,512}$/, "an API key the slot's authorizer accepts (1-512 characters, no spaces)");
    if (smokeTest && r.raw("ring:smokeTestKey") === undefined) {
        r.problem("ring:smokeTestKey", "nothing", "the test key the smoke test sends with ring:smokeTest, as a secret (set it with `pulumi config set --secret ring:smokeTestKey <key>`)");
    }
    if (!smokeTest && r.raw("ring:smokeTestKey") !== undefined) {
        r.problem("ring:smokeTest", "nothing", "the request the test key is sent with, e.g. \"GET /discovery/v1/catalogs\" (or remove ring:smokeTestKey)");
    }
    return { bakeMinutes: r.number("ring:bakeMinutes", 10, 0, 180, false), smokeTest, smokeTestKey };
}

/** The live pointer's ring:historyLimit: entries of the history its state keeps. */
export function historyLimit(r: Reader): number {
    return r.number("ring:historyLimit", 20, 1, 200, true);
}

/**
 * Refuses the keys a ring before the live pointer kept on its primary: a slot's program ignoring them
 * would let a stale ring:live look meaningful. They go with `npm run ring -- migrate`.
 */
function refuseMovedKeys(r: Reader, slot: string): void {
    for (const key of MOVED_RING_KEYS) {
        const raw = r.raw(key);
        if (raw === undefined) continue;
        const where = key === "ring:historyLimit" ? "config of the live pointer's stack (live/Pulumi.live.yaml)" : "state of the live pointer's stack (the project in live/), changed by the ring commands";
        r.problem(key, shown(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw),
            `no value on "${slot}": ${key} is now the ${where}. A ring deployed before the live pointer moves it with \`npm run ring -- migrate\`, ` +
            `which also removes it here (README, "Moving a ring deployed before the live pointer")`);
    }
}

/**
 * The longest slot name every resource named after it can carry: the authorizer's IAM role,
 * `<slot>-authorizer-pair-authorizer-role`, plus pulumi-aws's `-` and 7 characters, within IAM's 64
 * (CreateRole RoleName; the mock cloud's iam.role-name and autonaming rules). Stage, function, queue
 * and topic names take letters, digits, - and _ only (no `.`).
 */
export const SLOT_NAME_LIMIT = 64 - "-authorizer-pair-authorizer-role".length - 1 - 7;
/**
 * The primary also names the replication group, `<slot>-auth-cache-redis` plus `-` and 7 characters,
 * lower-cased, within ElastiCache's 40: a letter first, letters, digits and single hyphens
 * (CreateReplicationGroup ReplicationGroupId).
 */
export const PRIMARY_NAME_LIMIT = 40 - "-auth-cache-redis".length - 1 - 7;

function slotNameProblem(slot: string, isPrimary: boolean): string | undefined {
    if (!SLOT_NAME.test(slot) || slot.length > SLOT_NAME_LIMIT) {
        return `slot names of letters, digits, - and _, at most ${SLOT_NAME_LIMIT} characters (a stage, a function, a queue and an IAM role are named after each)`;
    }
    if (isPrimary && (!/^[A-Za-z][A-Za-z0-9-]*$/.test(slot) || slot.includes("--") || slot.endsWith("-") || slot.length > PRIMARY_NAME_LIMIT)) {
        return `a primary slot name of a letter, then letters, digits and single hyphens, at most ${PRIMARY_NAME_LIMIT} characters (the replication group id is named after it)`;
    }
    return undefined;
}

/** The ring as the stack `slot` sees it: the slots and the primary. */
export function ringSettings(r: Reader, slot: string): RingSettings {
    const order = r.json("ring:order", ["red", "black"], isStringList, "a non-empty list of slot (stack) names, e.g. [red, black]");
    const slotsOk = order.length > 0 && new Set(order).size === order.length;
    if (!slotsOk) r.problem("ring:order", shown(JSON.stringify(order)), "a non-empty list of distinct stack names");
    const requested = r.string("ring:primary", undefined);
    let primary = requested ?? order[0];
    if (requested !== undefined && !order.includes(requested)) {
        r.problem("ring:primary", shown(requested), `a slot of ring:order (${order.join(", ")})`);
        primary = order[0];
    }
    for (const name of slotsOk ? order : []) {
        const problem = slotNameProblem(name, name === primary);
        if (problem) r.problem("ring:order", shown(name), problem);
    }
    if (!order.includes(slot)) {
        r.problem("ring:order", shown(JSON.stringify(order)), `a list that contains this stack "${slot}" ` +
            `(add it to ring:order in Pulumi.yaml, or select a stack of the ring: ${order.join(", ")})`);
    }
    refuseMovedKeys(r, slot);
    flipProcedure(r);
    if (slot !== primary && r.raw("ring:smokeTestKey") !== undefined) {
        r.problem("ring:smokeTestKey", "a value", `no value on "${slot}": the ring commands read ring:smokeTestKey from the primary "${primary}" only`);
    }
    return { order, primary, allowLiveUpdate: r.boolean("ring:allowLiveUpdate", false) };
}
