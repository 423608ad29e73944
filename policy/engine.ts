// Runs the pack's policies over an offline preview, the way the Pulumi engine runs them
// during `pulumi preview --policy-pack`: each resource validation on every resource (props =
// inputs plus the outputs the mock cloud computed, secrets unwrapped as the engine does, and
// the secret paths passed alongside), each stack validation once over all resources, with
// not-applicable and per-policy config handled as the engine does. Used by the offline
// policy check and the tests; it never constructs the PolicyPack.
import {
    EnforcementLevel, Policies, PolicyConfigSchema, PolicyResource, ResourceValidationArgs, StackValidationArgs,
} from "@pulumi/policy";
import type { PreviewResource, StackPreview } from "../scripts/preview-model";
import { policies as packPolicies } from "./policies";

export interface Violation {
    policy: string;
    enforcementLevel: EnforcementLevel;
    urn: string;
    type: string;
    name: string;
    message: string;
}

/** Per-policy config, as in a policy config file: an enforcement level, or an object of settings. */
export type PolicyConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

class NotApplicable extends Error {}

function stringLeaves(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => stringLeaves(v, out));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => stringLeaves(v, out));
    return out;
}

function policyResources(preview: StackPreview): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const resources = preview.resources.map((r) => {
        const resource: PolicyResource = {
            type: r.type, name: r.name, urn: r.urn,
            props: { ...r.state, ...r.inputs },
            opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
            dependencies: [], propertyDependencies: {},
        } as unknown as PolicyResource;
        byUrn.set(r.urn, resource);
        return resource;
    });
    // The mock runtime does not record dependencies; a property that holds another resource's
    // id or ARN depends on it, which is what the engine would report.
    const byValue = new Map<string, PreviewResource>();
    for (const r of preview.resources) {
        if (r.id) byValue.set(r.id, r);
        if (typeof r.state.arn === "string") byValue.set(r.state.arn, r);
    }
    preview.resources.forEach((r, i) => {
        const resource = resources[i] as { parent?: PolicyResource; dependencies: PolicyResource[]; propertyDependencies: Record<string, PolicyResource[]> };
        if (r.parent) resource.parent = byUrn.get(r.parent);
        for (const [key, value] of Object.entries(r.inputs)) {
            const deps = [...new Set(stringLeaves(value).map((v) => byValue.get(v)).filter((d): d is PreviewResource => d !== undefined && d.urn !== r.urn))]
                .map((d) => byUrn.get(d.urn) as PolicyResource);
            if (deps.length > 0) resource.propertyDependencies[key] = deps;
            resource.dependencies.push(...deps.filter((d) => !resource.dependencies.includes(d)));
        }
    });
    return resources;
}

function settingsFor(name: string, schema: PolicyConfigSchema | undefined, config: PolicyConfig): { level?: EnforcementLevel; values: Record<string, unknown> } {
    const values: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        if ((property as { default?: unknown }).default !== undefined) values[key] = (property as { default?: unknown }).default;
    }
    const given = config[name];
    if (typeof given === "string") return { level: given, values };
    if (given) {
        const { enforcementLevel, ...rest } = given;
        return { level: enforcementLevel, values: { ...values, ...rest } };
    }
    return { values };
}

/** Every violation the pack reports for one stack's offline preview. */
export function checkStack(preview: StackPreview, config: PolicyConfig = {}, policies: Policies = packPolicies): Violation[] {
    const resources = policyResources(preview);
    const violations: Violation[] = [];
    const notApplicable = (reason?: string): never => {
        throw new NotApplicable(reason);
    };
    for (const policy of policies) {
        const { level, values } = settingsFor(policy.name, policy.configSchema, config);
        const enforcementLevel = level ?? policy.enforcementLevel ?? "mandatory";
        if (enforcementLevel === "disabled") continue;
        const record = (resource: { urn: string; type: string; name: string }) => (message: string, urn?: string) => {
            const target = urn ? resources.find((r) => r.urn === urn) ?? resource : resource;
            violations.push({ policy: policy.name, enforcementLevel, urn: target.urn, type: target.type, name: target.name, message });
        };
        const run = (f: () => unknown) => {
            try {
                f();
            } catch (e) {
                if (!(e instanceof NotApplicable)) throw e;
            }
        };
        if ("validateResource" in policy && policy.validateResource) {
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            for (const resource of resources) {
                const args = {
                    type: resource.type, props: resource.props, urn: resource.urn, name: resource.name, opts: resource.opts,
                    stackTags: new Map<string, string>(), notApplicable, getConfig: () => values,
                    isType: () => false, asType: () => undefined,
                    secretPaths: preview.resources.find((r) => r.urn === resource.urn)?.secretInputs ?? [],
                } as unknown as ResourceValidationArgs;
                for (const validate of validations) run(() => validate(args, record(resource)));
            }
        }
        if ("validateStack" in policy && policy.validateStack) {
            const args = { resources, stackTags: new Map<string, string>(), notApplicable, getConfig: () => values } as unknown as StackValidationArgs;
            const stack = { urn: preview.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "", type: "pulumi:pulumi:Stack", name: preview.stack };
            const validateStack = policy.validateStack;
            run(() => validateStack(args, record(stack)));
        }
    }
    return violations;
}
