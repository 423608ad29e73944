// Helpers shared by the rules: type filters with the engine's not-applicable semantics,
// unknown-safe reads (a real `pulumi preview` hands policies values that are not known yet),
// reference resolution between resources, and what can be known about secretness.
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { Secret } from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";

/**
 * The parts of @pulumi/policy's internal proxy module the rules use. The engine wraps every
 * `props` in `unknownCheckingProxy`, which throws `UnknownValueError` when a rule reads a
 * value that is unknown during preview (an id not yet allocated, ...). The module is public
 * JavaScript but its typings are stripped (`@internal`), hence this interface.
 */
interface PolicyProxyModule {
    UnknownValueError: new (...args: never[]) => Error;
    unknownCheckingProxy<T>(value: T): T;
    getSpecialProxyTarget: string;
    unknownBooleanValue: string;
    unknownNumberValue: string;
    unknownStringValue: string;
    unknownArrayValue: string;
    unknownAssetValue: string;
    unknownArchiveValue: string;
    unknownObjectValue: string;
}
export const policyProxy = proxyModule as unknown as PolicyProxyModule;

/** A value that is not known during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** What the offline preview shows instead of a secret value (policy/stack-model.ts SECRET_MASK). */
export const SECRET_MASK = "[secret]";

const SENTINELS = new Set<unknown>([
    policyProxy.unknownBooleanValue, policyProxy.unknownNumberValue, policyProxy.unknownStringValue,
    policyProxy.unknownArrayValue, policyProxy.unknownAssetValue, policyProxy.unknownArchiveValue, policyProxy.unknownObjectValue,
]);

export function isUnknownValueError(e: unknown): boolean {
    return e instanceof policyProxy.UnknownValueError;
}

/** The engine's sentinel strings for unknown values (also what the Pulumi SDK sends for an unknown). */
export function isUnknownSentinel(value: unknown): boolean {
    return SENTINELS.has(value);
}

/**
 * Reads `root[k1][k2]...` without throwing on unknown values: UNKNOWN when the value (or an
 * object on the way) is unknown, undefined when it is absent.
 */
export function read(root: unknown, ...keys: (string | number)[]): unknown {
    let current = root;
    try {
        if (isUnknownSentinel(current)) return UNKNOWN;
        for (const key of keys) {
            if (current === UNKNOWN) return UNKNOWN;
            if (current === null || typeof current !== "object") return undefined;
            current = (current as Record<string | number, unknown>)[key];
            if (isUnknownSentinel(current)) return UNKNOWN;
        }
    } catch (e) {
        if (isUnknownValueError(e)) return UNKNOWN;
        throw e;
    }
    return current;
}

/** Elements of an array value, each read unknown-safely; UNKNOWN when the array itself is unknown, [] when absent. */
export function elements(value: unknown): unknown[] | Unknown {
    if (value === UNKNOWN) return UNKNOWN;
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return [value];
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(read(value, i));
    return out;
}

/** Keys of an object value (reading keys never touches unknown values). */
export function keysOf(value: unknown): string[] {
    return value !== null && typeof value === "object" ? Object.keys(value) : [];
}

/** A value whose content a rule cannot compare: unknown in preview, or masked by the offline preview. */
export function isOpaque(value: unknown): boolean {
    return value === UNKNOWN || value === SECRET_MASK;
}

/** A set property: present, or unknown (set to something that is not known yet). Absent, null, "" and false are not set. */
export function isSet(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.length > 0;
    return value !== undefined && value !== null && value !== "" && value !== false;
}

export function describe(value: unknown): string {
    if (value === UNKNOWN) return "unknown";
    if (value === undefined || value === null) return "unset";
    return JSON.stringify(value);
}

/** A resource validation that applies to the given types only, answering notApplicable otherwise (as validateResourceOfType does). */
export function forTypes(types: readonly string[], check: (args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) {
            return args.notApplicable(`Policy only applies to resources of type ${types.map((t) => `'${t}'`).join(", ")}`);
        }
        check(args, report);
    };
}

export function ofType(resources: readonly PolicyResource[], ...types: string[]): PolicyResource[] {
    return resources.filter((r) => types.includes(r.type));
}

/** A policy's settings: the schema defaults, overridden by what policy config gives. */
export function settings<T extends object>(defaults: T, given: Partial<T> | undefined): T {
    const out = { ...defaults };
    for (const [key, value] of Object.entries(given ?? {})) {
        if (value !== undefined && key in defaults) (out as Record<string, unknown>)[key] = value;
    }
    return out;
}

/**
 * The resources a property of `from` refers to. Under the real engine `propertyDependencies`
 * records them even while the ids are unknown; the offline runner derives them from ids and
 * ARNs. Known string values are also matched against each candidate's `id` and `arn`.
 */
export function referenced(from: PolicyResource, property: string, values: unknown[], candidates: readonly PolicyResource[]): { resources: PolicyResource[]; unresolved: string[]; opaque: boolean } {
    const byDependency = (from.propertyDependencies[property] ?? []).filter((d) => candidates.includes(d));
    const resources = new Set<PolicyResource>(byDependency);
    const unresolved: string[] = [];
    let opaque = false;
    for (const value of values) {
        if (isOpaque(value)) {
            opaque = true;
            continue;
        }
        if (typeof value !== "string") continue;
        const match = candidates.find((c) => read(c.props, "id") === value || read(c.props, "arn") === value);
        if (match) resources.add(match);
        else unresolved.push(value);
    }
    return { resources: [...resources], unresolved, opaque };
}

/** Whether one resource refers to another: "maybe" when values a preview does not know yet leave it open. */
export type Match = "yes" | "no" | "maybe";

/** Whether two references are the same: equal known values, or a shared dependency; "maybe" when unknown values leave it open. */
export function sameReference(a: PolicyResource, b: PolicyResource, property: string, bOwn?: PolicyResource): Match {
    const va = read(a.props, property);
    const vb = read(b.props, property);
    if (!isOpaque(va) && !isOpaque(vb) && va !== undefined && vb !== undefined) return va === vb ? "yes" : "no";
    const da = a.propertyDependencies[property] ?? [];
    const db = b.propertyDependencies[property] ?? [];
    if ((bOwn && da.includes(bOwn)) || da.some((d) => db.includes(d))) return "yes";
    if (da.length > 0 && db.length > 0) return "no";
    return isOpaque(va) || isOpaque(vb) ? "maybe" : "no";
}

export function both(a: Match, b: Match): Match {
    return a === "no" || b === "no" ? "no" : a === "yes" && b === "yes" ? "yes" : "maybe";
}

/**
 * Whether `from[property]` refers to `target` (one of `candidates`): by dependency or by its known id
 * or ARN (as `referenced` resolves them); "maybe" when the value is unknown and no dependency names
 * another candidate.
 */
export function refersTo(from: PolicyResource, property: string, target: PolicyResource, candidates: readonly PolicyResource[]): Match {
    const { resources, opaque } = referenced(from, property, [read(from.props, property)], candidates);
    if (resources.includes(target)) return "yes";
    return resources.length === 0 && opaque ? "maybe" : "no";
}

/** The id of a resource as a string, when known. */
export function idOf(resource: PolicyResource): string | undefined {
    const id = read(resource.props, "id");
    return typeof id === "string" && !isOpaque(id) ? id : undefined;
}

// ---------------------------------------------------------------------------------------------
// Secretness.
//
// @pulumi/policy 1.21 (server.js, makeAnalyzeRpcFun / makeAnalyzeStackRpcFun) deserializes the
// properties it hands validateResource and validateStack with `deserializeProperties(props,
// false)`, and deserialize.js unwraps every secret into its plain value in that mode: a
// validation cannot tell a secret from a plain value. Only remediations
// (makeRemediateRpcFun) get `deserializeProperties(props, true)`: secrets stay wrapped in
// `Secret` instances behind `secretsPreservingProxy`, reachable through the proxies'
// `getSpecialProxyTarget` key. So:
//   - under the real CLI a validation answers notApplicable (it cannot know), and the
//     remediation (enforcement level "remediate") sees the truth and turns plain values into
//     secrets;
//   - the offline runner knows the secret paths (the preview's `secretInputs`) and passes them
//     as `secretPaths`, an extension of the args the real engine does not have.
// ---------------------------------------------------------------------------------------------

/** Offline extension of the engine's args: the dot paths ("authToken", "environment.variables.X", "a[0]") that are secret. */
export interface SecretAware {
    secretPaths?: readonly string[];
}

/** Whether `path` is secret or inside a secret, given the secret paths. */
export function isSecretPath(secretPaths: readonly string[], path: string): boolean {
    return secretPaths.some((p) => p === "" || path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

/**
 * The objects behind the engine's proxies, outermost first. A validation's props are
 * `unknownCheckingProxy(plain)`: one level. A remediation's props are
 * `unknownCheckingProxy(secretsPreservingProxy(raw))`: two levels, and `raw` keeps `Secret`
 * instances where the engine sent secrets.
 */
function proxyTargets(props: unknown): unknown[] {
    const targets: unknown[] = [];
    let current = props;
    for (let i = 0; i < 4 && current !== null && typeof current === "object"; i++) {
        const inner = (current as Record<string, unknown>)[policyProxy.getSpecialProxyTarget];
        if (inner === undefined || inner === current) break;
        targets.push(inner);
        current = inner;
    }
    return targets;
}

/** Paths of `Secret`-wrapped values in a raw property tree. */
export function wrappedSecretPaths(raw: unknown, at = "", out: string[] = []): string[] {
    if (raw instanceof Secret) {
        out.push(at);
    } else if (Array.isArray(raw)) {
        raw.forEach((v, i) => wrappedSecretPaths(v, `${at}[${i}]`, out));
    } else if (raw !== null && typeof raw === "object") {
        for (const [k, v] of Object.entries(raw)) wrappedSecretPaths(v, at ? `${at}.${k}` : k, out);
    }
    return out;
}

/** The raw properties of a remediation request (secrets still wrapped), or undefined for a validation's props. */
export function secretPreservingRaw(props: unknown): Record<string, unknown> | undefined {
    const targets = proxyTargets(props);
    return targets.length >= 2 ? targets[targets.length - 1] as Record<string, unknown> : undefined;
}

/**
 * The secret paths of a resource's properties when they can be known: the offline runner's
 * `secretPaths`, or the `Secret` wrappers of a remediation request. undefined under the real
 * engine's validations, which never say.
 */
export function secretPathsOf(args: { props: unknown } & SecretAware): readonly string[] | undefined {
    if (args.secretPaths) return args.secretPaths;
    const raw = secretPreservingRaw(args.props);
    return raw ? wrappedSecretPaths(raw) : undefined;
}
