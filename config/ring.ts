// ring:*: the ring's slots, which one is primary and live, and how `ring flip` gates, watches and
// records a flip (the flip procedure, which the ring commands read too).
import type { CredentialSource } from "../handlers/credentials";
import { GATE_OUTCOMES, RING_EVENT_KINDS, RingHistoryEntry } from "../outputs";
import type { DomainConfig } from "./domain";
import { Reader, isStringList, shown } from "./reader";

export interface RingSettings {
    order: string[];
    primary: string;
    /** The live slot; set only on the primary, which owns the mapping. */
    live?: string;
    /** The slot live before the last flip, recorded by `ring flip` for `ring rollback`. */
    previousLive?: string;
    allowLiveUpdate: boolean;
    /** The ring's history (ring:history, written by the ring commands), its newest ring:historyLimit entries. */
    history: RingHistoryEntry[];
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
    /** Every recorded move of the live pointer, oldest first. */
    history: RingHistoryEntry[];
    /** How many history entries are kept. */
    historyLimit: number;
}

/** What the ring commands read from a stack's config, validated with the program's rules. */
export interface RingCommandConfig {
    procedure: FlipProcedure;
    /** The custom domain whose mapping is the live pointer (set on the primary). */
    domain?: Pick<DomainConfig, "name" | "basePath">;
    /** Where the slot's authorizer reads the caller's credential. */
    credentials: CredentialSource;
}

export const RING_KEYS: readonly string[] = [
    "ring:order", "ring:primary", "ring:live", "ring:previousLive", "ring:allowLiveUpdate",
    "ring:bakeMinutes", "ring:smokeTest", "ring:smokeTestKey", "ring:history", "ring:historyLimit",
];

function isHistoryEntry(value: unknown): value is RingHistoryEntry {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const e = value as Record<string, unknown>;
    const text = (v: unknown) => typeof v === "string" && v !== "";
    const optionalText = (v: unknown) => v === undefined || typeof v === "string";
    return text(e.at) && !Number.isNaN(Date.parse(String(e.at))) &&
        (RING_EVENT_KINDS as readonly unknown[]).includes(e.kind) &&
        (e.from === null || text(e.from)) && text(e.to) &&
        optionalText(e.fromRelease) && optionalText(e.toRelease) &&
        typeof e.by === "string" && typeof e.why === "string" &&
        (GATE_OUTCOMES as readonly unknown[]).includes(e.gate);
}

function isHistory(value: unknown): value is RingHistoryEntry[] {
    return Array.isArray(value) && value.every(isHistoryEntry);
}

const SMOKE_TEST = /^(?:(GET|HEAD) )?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?)$/;

/** The flip procedure's keys (ring:bakeMinutes, ring:smokeTest, ring:smokeTestKey, ring:history, ring:historyLimit). */
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
    return {
        bakeMinutes: r.number("ring:bakeMinutes", 10, 0, 180, false),
        smokeTest,
        smokeTestKey,
        history: r.json("ring:history", [], isHistory,
            "a list of history entries as the ring commands write them ({at, kind, from, to, by, why, gate}); fix or remove it with `pulumi config rm ring:history`"),
        historyLimit: r.number("ring:historyLimit", 20, 1, 200, true),
    };
}

/** The ring as the stack `slot` sees it: the slots, the primary, and (on the primary) the live slot. */
export function ringSettings(r: Reader, slot: string): RingSettings {
    const order = r.json("ring:order", ["red", "black"], isStringList, "a non-empty list of slot (stack) names, e.g. [red, black]");
    const slotsOk = order.length > 0 && new Set(order).size === order.length && order.every((s) => /^[A-Za-z0-9_.-]+$/.test(s));
    if (!slotsOk) r.problem("ring:order", shown(JSON.stringify(order)), "a non-empty list of distinct stack names");
    const inRing = (key: string, fallback: string | undefined): string | undefined => {
        const value = r.string(key, undefined);
        if (value !== undefined && !order.includes(value)) {
            r.problem(key, shown(value), `a slot of ring:order (${order.join(", ")})`);
            return fallback;
        }
        return value ?? fallback;
    };
    const primary = inRing("ring:primary", order[0]) ?? order[0];
    if (!order.includes(slot)) {
        r.problem("ring:order", shown(JSON.stringify(order)), `a list that contains this stack "${slot}" ` +
            `(add it to ring:order in Pulumi.yaml, or select a stack of the ring: ${order.join(", ")})`);
    }
    const isPrimary = slot === primary;
    const live = inRing("ring:live", undefined);
    if (isPrimary && live === undefined && r.raw("ring:live") === undefined) {
        r.problem("ring:live", "nothing", `the live slot, one of ${order.join(", ")} (set it with \`pulumi config set ring:live ${primary}\`)`);
    }
    if (!isPrimary && r.raw("ring:live") !== undefined) {
        r.problem("ring:live", shown(r.raw("ring:live") ?? ""), `no value on "${slot}": the live slot is set on the primary "${primary}" only`);
    }
    const procedure = flipProcedure(r);
    for (const key of ["ring:history", "ring:smokeTestKey"]) {
        if (!isPrimary && r.raw(key) !== undefined) {
            r.problem(key, "a value", `no value on "${slot}": the ring commands read ${key} from the primary "${primary}" only`);
        }
    }
    return {
        order,
        primary,
        live: isPrimary ? live ?? primary : undefined,
        previousLive: inRing("ring:previousLive", undefined),
        allowLiveUpdate: r.boolean("ring:allowLiveUpdate", false),
        history: procedure.history.slice(-procedure.historyLimit),
    };
}
