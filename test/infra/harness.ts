// Runs components under Pulumi's mock runtime in this process and hands back what they
// registered, so tests assert on the inputs each resource received.
import * as pulumi from "@pulumi/pulumi";
import { ConfigSource } from "../../config";
import { MockCloud, RecordedResource, isSecretValue, resolveOutput } from "../../preview/mock-cloud";
import { formatRefusal } from "../../preview/aws-rules";
import { configSource } from "../../stack-config";

/** Outputs other stacks answer to a StackReference, by stack name; tests fill it. */
export const referencedStacks = new Map<string, Record<string, unknown>>();
/** The mock AWS account the components are built in: its API Gateway settings already name a CloudWatch role. */
export const cloud = new MockCloud({
    region: "us-east-1",
    stackOutputs: (name) => referencedStacks.get(name.split("/").pop() as string),
    account: { cloudWatchRoleArn: "arn:aws:iam::123456789012:role/api-gateway-cloudwatch", cloudWatchRoleSource: "the test account" },
});
let mocksReady: Promise<void> | undefined;

/** Installs the mock cloud once per process (the runtime is global). */
export function useMockCloud(): Promise<void> {
    mocksReady ??= pulumi.runtime.setMocks(cloud, "api-ring", "red", false, "organization");
    return mocksReady;
}

/** The value of an Output, for assertions. */
export const resolve = resolveOutput;

/** Replaces Pulumi's secret wrappers by their values, for assertions. */
export function unwrap(value: unknown): unknown {
    if (isSecretValue(value)) return unwrap(value.value);
    if (Array.isArray(value)) return value.map(unwrap);
    if (value && typeof value === "object" && value.constructor === Object) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
    }
    return value;
}

export interface Built<T> {
    component: T;
    /** Every resource the component registered, itself included. */
    resources: RecordedResource[];
    /** The one resource of a type (and name suffix); fails when there is not exactly one. */
    one(type: string, nameSuffix?: string): RecordedResource;
    all(type: string): RecordedResource[];
}

/** Constructs a component and waits until it and every child are registered. */
export async function build<T extends pulumi.ComponentResource>(make: (opts: pulumi.ComponentResourceOptions) => T): Promise<Built<T>> {
    await useMockCloud();
    const created: pulumi.Resource[] = [];
    const component = make({ transformations: [(a) => { created.push(a.resource); return undefined; }] });
    await resolve(component.urn);
    await Promise.all(created.map((r) => resolve(r.urn)));
    const mine = new Set<string>();
    for (const r of [component, ...created]) mine.add(await resolve(r.urn));
    const resources = cloud.resources.filter((r) => [...mine].some((urn) => urn.endsWith(`::${r.name}`) && urn.split("::")[2].endsWith(r.type)));
    // What AWS would refuse fails the test that built it, as it would fail `pulumi up`.
    const refused = cloud.refusals.filter((f) => resources.some((r) => r.type === f.type && r.name === f.name));
    if (refused.length > 0) throw new Error(`AWS would refuse:\n${refused.map(formatRefusal).join("\n")}`);
    const all = (type: string) => resources.filter((r) => r.type === type);
    const one = (type: string, nameSuffix = "") => {
        const found = all(type).filter((r) => r.name.endsWith(nameSuffix));
        if (found.length !== 1) throw new Error(`expected one ${type}${nameSuffix ? ` named *${nameSuffix}` : ""}, found ${found.length}`);
        return found[0];
    };
    return { component, resources, one, all };
}

/** A ConfigSource over a plain map, as a stack's config would be after `pulumi config set`. */
export function mapSource(stack: string, values: Record<string, string>, secretKeys: string[] = []): ConfigSource {
    return configSource({ project: "api-ring", stack, values, secretKeys });
}
