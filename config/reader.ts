// What every config namespace reads through: the Reader, which checks keys and collects every problem
// instead of stopping at the first, the error that lists them, and the checks the namespaces share.
import * as pulumi from "@pulumi/pulumi";
import { isRouteList } from "../handlers/settings";

/** One bad key: which, what it got, what was expected. */
export interface ConfigProblem {
    key: string;
    got: string;
    expected: string;
}

export class ConfigError extends Error {
    constructor(readonly stack: string, readonly problems: ConfigProblem[]) {
        super(`stack "${stack}" has ${problems.length} invalid config value${problems.length === 1 ? "" : "s"}:\n` +
            problems.map((p) => `  - ${p.key}: got ${p.got}; expected ${p.expected}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** Where raw config comes from: the Pulumi runtime in a deployment, a plain map in tests. */
export interface ConfigSource {
    project: string;
    stack: string;
    /** Raw value as Pulumi stores it (objects and lists as JSON text). */
    get(key: string): string | undefined;
    isSecret(key: string): boolean;
    /** Every key present, when the source can list them (enables typo detection). */
    keys?(): string[];
}

/** Plain decimal numbers: no hex, exponent, sign, padding or empty string. */
const DECIMAL = /^\d+(\.\d+)?$/;

/** A quoted rendering of a raw value for messages. */
export function shown(raw: string): string {
    return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
}

/** Reads and checks keys, collecting every problem instead of stopping at the first. */
export class Reader {
    readonly problems: ConfigProblem[] = [];
    constructor(private readonly source: ConfigSource) {}

    problem(key: string, got: string, expected: string): void {
        this.problems.push({ key, got, expected });
    }

    raw(key: string): string | undefined {
        const value = this.source.get(key);
        return value === undefined || value === "" ? undefined : value;
    }

    string(key: string, fallback: string, pattern?: RegExp, expected?: string): string;
    string(key: string, fallback: undefined, pattern?: RegExp, expected?: string): string | undefined;
    string(key: string, fallback: string | undefined, pattern?: RegExp, expected = "a non-empty string"): string | undefined {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if (pattern && !pattern.test(raw)) {
            this.problem(key, shown(raw), expected);
            return fallback;
        }
        return raw;
    }

    required(key: string, pattern: RegExp, expected: string, why: string): string {
        const raw = this.raw(key);
        if (raw === undefined) {
            this.problem(key, "nothing", `${expected} (${why}; set it with \`pulumi config set ${key} <value>\`)`);
            return "";
        }
        return this.string(key, "", pattern, expected);
    }

    boolean(key: string, fallback: boolean): boolean {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if (raw === "true" || raw === "false") return raw === "true";
        this.problem(key, shown(raw), "true or false");
        return fallback;
    }

    number(key: string, fallback: number, min: number, max: number, integer: boolean): number {
        // An empty value is a mistake here, not "unset": Number("") is 0, Number("0x10") 16, Number(" 5 ") 5.
        const raw = this.source.get(key);
        if (raw === undefined) return fallback;
        const value = DECIMAL.test(raw) ? Number(raw) : NaN;
        if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
            this.problem(key, shown(raw), `${integer ? "a whole number" : "a number"} from ${min} to ${max}, written in decimal`);
            return fallback;
        }
        return value;
    }

    /** One of `allowed`; `context` qualifies the list in the message (e.g. "for engine redis"). */
    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[], context?: string): T {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        if ((allowed as readonly string[]).includes(raw)) return raw as T;
        this.problem(key, shown(raw), `one of ${allowed.join(", ")}${context ? ` ${context}` : ""}`);
        return fallback;
    }

    json<T>(key: string, fallback: T, check: (v: unknown) => v is T, expected: string): T {
        const raw = this.raw(key);
        if (raw === undefined) return fallback;
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            value = raw; // a bare string where structured config was expected
        }
        if (check(value)) {
            // JSON.parse makes __proto__ an own key; as a name it would reach JavaScript's object machinery
            // wherever the program or the handlers look a name up (plan routes, hosts, stage variables, ...).
            const named = machineryNames(value);
            for (const at of named) this.problem(`${key}.${at}`, JSON.stringify(at.split(".").pop()), "a name other than __proto__, constructor or prototype");
            return named.length === 0 ? value : fallback;
        }
        this.problem(key, shown(raw), expected);
        return fallback;
    }

    /** A secret: must be set as a Pulumi secret; its value is never echoed in messages. */
    secret(key: string, pattern: RegExp, expected: string): pulumi.Output<string> {
        const raw = this.raw(key);
        const setIt = `set it with \`pulumi config set --secret ${key} <value>\``;
        if (raw === undefined) {
            this.problem(key, "nothing", `${expected}, as a secret (${setIt})`);
        } else if (!this.source.isSecret(key)) {
            this.problem(key, "a plain-text value", `a secret (${setIt}, and remove the plain value)`);
        } else if (!pattern.test(raw)) {
            this.problem(key, `a secret of ${raw.length} characters`, expected);
        }
        return pulumi.secret(raw ?? "");
    }

    /** An optional secret: when set, it must be a Pulumi secret; its value is never echoed in messages. */
    optionalSecret(key: string, pattern: RegExp, expected: string): string | undefined {
        const raw = this.raw(key);
        if (raw === undefined) return undefined;
        if (!this.source.isSecret(key)) {
            this.problem(key, "a plain-text value", `a secret (set it with \`pulumi config set --secret ${key} <value>\`, and remove the plain value)`);
            return undefined;
        }
        if (!pattern.test(raw)) {
            this.problem(key, `a secret of ${raw.length} characters`, expected);
            return undefined;
        }
        return raw;
    }
}

export function isStringList(value: unknown): value is string[] {
    return isRouteList(value);
}

export function isStringMap(value: unknown): value is Record<string, string> {
    return typeof value === "object" && value !== null && !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "string");
}

const MACHINERY = new Set(["__proto__", "constructor", "prototype"]);

/** Where a parsed value uses __proto__, constructor or prototype as a key, as dotted paths ("Gold.__proto__"). */
function machineryNames(value: unknown, at = ""): string[] {
    if (value === null || typeof value !== "object") return [];
    return Object.keys(value).flatMap((k) => {
        const here = at === "" ? k : `${at}.${k}`;
        return MACHINERY.has(k) ? [here] : machineryNames((value as Record<string, unknown>)[k], here);
    });
}
