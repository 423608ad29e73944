// Runs the pack's policies over an offline preview (policy/stack-model.ts StackPreview),
// the way the Pulumi engine and @pulumi/policy's server (server.js) run them during
// `pulumi preview --policy-pack policy`, without the CLI and without constructing the
// PolicyPack (which would start serving).
//
// What each policy sees, mirroring the engine:
// - validateResource: once per resource, `props` = the resource's *inputs* (the engine's
//   Analyze call gets the checked inputs of the resource about to be created or updated), as
//   `unknownCheckingProxy(props)`, so reading a value the preview does not know throws the
//   engine's UnknownValueError, reported (as the engine does) as an advisory "can't run
//   policy during preview". Not-applicable answers are recorded, not reported.
// - validateStack: once, with every resource; each resource's `props` are its *outputs*
//   (the engine's AnalyzeStack gets the planned outputs: inputs plus what the provider
//   computes) = the mock cloud's state (which echoes the inputs and adds ids, ARNs, ...)
//   overlaid with the inputs (so a test that edits a preview's inputs is judged on them),
//   plus `id` for custom resources;
//   the stack resource's props are the stack outputs. `parent`, `dependencies`,
//   `propertyDependencies`, `opts` and `provider` are filled in: the mock runtime records no
//   dependencies, so a property depends on every resource whose id or ARN (or, for a remote
//   component or stack reference, an *Id/*Ids/*Arn output) appears in its value — which is
//   what the engine records for values passed from one resource's outputs to another.
// - Secrets: the engine unwraps them; offline, the preview has masked them ("[secret]") and
//   listed their paths. Each resource carries those paths as `secretPaths` (an offline-only
//   extension, see policy/rules/support.ts); the stack resource carries the secret output names.
// - Enforcement level: policy config's, else the policy's, else the pack's ("mandatory");
//   "disabled" skips the policy; "remediate" is reported as "mandatory", as the engine does
//   for validations. Config: the schema defaults overlaid with policy config (the CLI applies
//   schema defaults; the rules apply them again themselves).
import type {
    EnforcementLevel, Policies, PolicyConfigSchema, PolicyProviderResource, PolicyResource, PolicyResourceOptions,
    ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidationArgs,
} from "@pulumi/policy";
import type { PreviewResource, StackPreview } from "./stack-model";
import { policies as packPolicies } from "./policies";
import { SECRET_MASK, SecretAware, isUnknownValueError, policyProxy } from "./rules/support";

export interface Violation {
    policy: string;
    enforcementLevel: EnforcementLevel;
    urn: string;
    type: string;
    name: string;
    message: string;
}

export interface NotApplicable {
    policy: string;
    /** The resource a resource validation was not applicable to; absent for a stack validation. */
    urn?: string;
    reason?: string;
}

/** Per-policy config, as in a policy config file: an enforcement level, or an object of settings. */
export type PolicyConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface PackRun {
    violations: Violation[];
    notApplicable: NotApplicable[];
}

export interface CheckOptions {
    /** The policies to run (default: the pack's). */
    policies?: Policies;
    /** The pack's enforcement level (default "mandatory", as policy/index.ts sets it). */
    packEnforcementLevel?: EnforcementLevel;
}

/** A resource as the offline runner hands it to stack validations. */
export type OfflinePolicyResource = PolicyResource & SecretAware;

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

function typeOfClass(resourceClass: unknown): string | undefined {
    const t = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof t === "string" && t.length > 0 ? t : undefined;
}

function stringLeaves(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => stringLeaves(v, out));
    else if (value !== null && typeof value === "object") Object.values(value).forEach((v) => stringLeaves(v, out));
    return out;
}

/** The values by which other resources refer to `r`. */
function referenceValues(r: PreviewResource): string[] {
    const values = [r.id, r.state.arn].filter((v): v is string => typeof v === "string");
    const outputs = r.type === "pulumi:pulumi:StackReference" ? (r.state.outputs as Record<string, unknown> | undefined) ?? {} : r.custom ? {} : r.state;
    for (const [key, value] of Object.entries(outputs)) {
        if (/(Id|Ids|Arn|Arns)$/.test(key)) values.push(...stringLeaves(value));
    }
    return values.filter((v) => v !== "" && v !== SECRET_MASK);
}

function options(r: PreviewResource): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [],
    };
    if (r.parent) opts.parent = r.parent;
    return opts;
}

/** The default provider the engine would name for a custom resource of a package (its config from the stack's config). */
function defaultProvider(preview: StackPreview, r: PreviewResource): PolicyProviderResource | undefined {
    const pkg = r.type.split(":")[0];
    if (!r.custom || pkg === "pulumi") return undefined;
    const declared = preview.resources.find((p) => p.type === `pulumi:providers:${pkg}`);
    if (declared) return { type: declared.type, name: declared.name, urn: declared.urn, props: { ...declared.inputs } };
    const props = Object.fromEntries(Object.entries(preview.config).filter(([k]) => k.startsWith(`${pkg}:`)).map(([k, v]) => [k.slice(pkg.length + 1), v]));
    return { type: `pulumi:providers:${pkg}`, name: "default", urn: `urn:pulumi:${preview.stack}::${preview.project}::pulumi:providers:${pkg}::default`, props };
}

function clone<T>(value: T): T {
    return structuredClone(value);
}

function withProxy<T extends object>(value: T): T {
    return policyProxy.unknownCheckingProxy(value);
}

function isTypeFn(type: string) {
    return (resourceClass: unknown): boolean => typeOfClass(resourceClass) === type;
}

/**
 * The stack's resources as @pulumi/policy's server builds them for validateStack: type,
 * props (outputs), urn, name, opts, provider, parent (the parent's PolicyResource),
 * dependencies, propertyDependencies, isType/asType, and the offline `secretPaths`.
 */
export function policyResources(preview: StackPreview): OfflinePolicyResource[] {
    const byValue = new Map<string, PreviewResource[]>();
    for (const r of preview.resources) {
        for (const v of referenceValues(r)) byValue.set(v, [...(byValue.get(v) ?? []), r]);
    }
    const byUrn = new Map<string, OfflinePolicyResource>();
    const resources = preview.resources.map((r) => {
        const outputs: Record<string, unknown> = r.type === "pulumi:pulumi:Stack"
            ? clone(preview.outputs)
            : { ...clone(r.state), ...clone(r.inputs), ...(r.custom && r.id ? { id: r.id } : {}) };
        const props = withProxy(outputs);
        const isType = isTypeFn(r.type);
        const resource = {
            type: r.type, name: r.name, urn: r.urn, props, opts: options(r),
            dependencies: [] as PolicyResource[], propertyDependencies: {} as Record<string, PolicyResource[]>,
            secretPaths: r.type === "pulumi:pulumi:Stack" ? [...preview.secretOutputs] : [...r.secretInputs],
            isType,
            asType: (resourceClass: unknown) => (isType(resourceClass) ? props : undefined),
        } as unknown as OfflinePolicyResource;
        const provider = defaultProvider(preview, r);
        if (provider) resource.provider = provider;
        byUrn.set(r.urn, resource);
        return resource;
    });
    preview.resources.forEach((r, i) => {
        const resource = resources[i];
        if (r.parent && byUrn.has(r.parent)) resource.parent = byUrn.get(r.parent);
        for (const [key, value] of Object.entries(r.inputs)) {
            const deps = new Set<PolicyResource>();
            for (const leaf of stringLeaves(value)) {
                for (const d of byValue.get(leaf) ?? []) if (d.urn !== r.urn) deps.add(byUrn.get(d.urn) as PolicyResource);
            }
            if (deps.size === 0) continue;
            resource.propertyDependencies[key] = [...deps];
            for (const d of deps) if (!resource.dependencies.includes(d)) resource.dependencies.push(d);
        }
    });
    return resources;
}

/** The settings a policy sees through getConfig(): schema defaults overlaid with its policy config. */
function settingsFor(name: string, schema: PolicyConfigSchema | undefined, config: PolicyConfig): { level?: EnforcementLevel; values: Record<string, unknown> } {
    const values: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        const d = (property as { default?: unknown }).default;
        if (d !== undefined) values[key] = clone(d);
    }
    const given = config[name];
    if (typeof given === "string") return { level: given, values };
    if (given) {
        const { enforcementLevel, ...rest } = given;
        return { level: enforcementLevel, values: { ...values, ...rest } };
    }
    return { values };
}

/** Runs every policy over one stack's offline preview: violations and not-applicable answers. */
export function runPack(preview: StackPreview, config: PolicyConfig = {}, opts: CheckOptions = {}): PackRun {
    const policies = opts.policies ?? packPolicies;
    const stackResources = policyResources(preview);
    const stackUrn = preview.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? `urn:pulumi:${preview.stack}::${preview.project}::pulumi:pulumi:Stack::${preview.project}-${preview.stack}`;
    const run: PackRun = { violations: [], notApplicable: [] };
    const stackTags = new Map<string, string>();

    for (const policy of policies) {
        const { level, values } = settingsFor(policy.name, policy.configSchema, config);
        let enforcementLevel: EnforcementLevel = level ?? policy.enforcementLevel ?? opts.packEnforcementLevel ?? "mandatory";
        if (enforcementLevel === "disabled") continue;
        if (enforcementLevel === "remediate") enforcementLevel = "mandatory";
        const getConfig = <T extends object>(): T => clone(values) as T;
        const reporter = (fallback: { urn: string; type: string; name: string }): ReportViolation => (message: string, urn?: string) => {
            const target = (urn ? preview.resources.find((r) => r.urn === urn) : undefined) ?? fallback;
            run.violations.push({ policy: policy.name, enforcementLevel, urn: target.urn, type: target.type, name: target.name, message });
        };
        const attempt = (f: () => unknown, at: { urn: string; type: string; name: string }, resourceUrn?: string) => {
            try {
                const result = f();
                if (result instanceof Promise) throw new Error(`policy ${policy.name} is asynchronous; the offline runner runs synchronous policies only`);
            } catch (e) {
                if (e instanceof NotApplicableError) {
                    run.notApplicable.push({ policy: policy.name, urn: resourceUrn, reason: e.reason });
                } else if (isUnknownValueError(e)) {
                    run.violations.push({
                        policy: policy.name, enforcementLevel: "advisory", urn: at.urn, type: at.type, name: at.name,
                        message: `can't run policy '${policy.name}' during preview: ${(e as Error).message}`,
                    });
                } else {
                    throw new Error(`policy ${policy.name} failed on ${at.urn}: ${(e as Error).stack ?? String(e)}`);
                }
            }
        };

        if (!("validateStack" in policy)) {
            if (!policy.validateResource) {
                run.notApplicable.push({ policy: policy.name, reason: "Policy does not implement validateResource" });
                continue;
            }
            const validations: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            const onlyType = validations.length === 1 ? typeOfClass(validations[0]) : undefined;
            for (const r of preview.resources) {
                if (onlyType && r.type !== onlyType) {
                    run.notApplicable.push({ policy: policy.name, urn: r.urn, reason: `Policy only applies to resources of type '${onlyType}'` });
                    continue;
                }
                const props = withProxy(r.type === "pulumi:pulumi:Stack" ? {} : clone(r.inputs));
                const isType = isTypeFn(r.type);
                const args = {
                    type: r.type, props, urn: r.urn, name: r.name, opts: options(r), stackTags,
                    isType, asType: (resourceClass: unknown) => (isType(resourceClass) ? props : undefined),
                    getConfig, notApplicable, secretPaths: [...r.secretInputs],
                } as unknown as ResourceValidationArgs & SecretAware;
                const provider = defaultProvider(preview, r);
                if (provider) args.provider = provider;
                for (const validate of validations) attempt(() => validate(args, reporter(r)), r, r.urn);
            }
        } else {
            const validateStack = policy.validateStack;
            const onlyType = typeOfClass(validateStack);
            if (onlyType && !stackResources.some((r) => r.type === onlyType)) {
                run.notApplicable.push({ policy: policy.name, reason: `Policy only applies to resources of type '${onlyType}'` });
                continue;
            }
            const args: StackValidationArgs = { resources: stackResources, getConfig, stackTags, notApplicable };
            const stack = { urn: stackUrn, type: "pulumi:pulumi:Stack", name: `${preview.project}-${preview.stack}` };
            attempt(() => validateStack(args, reporter(stack)), stack);
        }
    }
    return run;
}

/** Every violation the pack reports for one stack's offline preview. */
export function checkStack(preview: StackPreview, policyConfig: PolicyConfig = {}, opts: CheckOptions = {}): Violation[] {
    return runPack(preview, policyConfig, opts).violations;
}
