// Another Pulumi project reading the ring's outputs: a monitoring or client project would do this to
// find the live URL, the stage to alarm on, or the VPC to join. Two stacks: the primary slot (the
// shared network, and every slot's own API) and the live pointer (which slot is live, its history and
// the cohorts). The output names and types come from api-ring's outputs.ts, so a renamed output is a
// compile error here rather than a runtime surprise.
import * as pulumi from "@pulumi/pulumi";
import type { LivePointerOutputs, PrimaryOutputs } from "../../outputs";

/** A StackReference whose outputs are typed by one of the ring's contracts. */
export class TypedReference<T> {
    private readonly ref: pulumi.StackReference;
    constructor(name: string, stack: string) {
        this.ref = new pulumi.StackReference(name, { name: stack });
    }

    output<K extends keyof T & string>(key: K): pulumi.Output<T[K]> {
        return this.ref.requireOutput(key) as pulumi.Output<T[K]>;
    }
}

const config = new pulumi.Config("consumer");
const primary = new TypedReference<PrimaryOutputs>("ring-primary", config.get("primaryStack") ?? "organization/api-ring/red");
const pointer = new TypedReference<LivePointerOutputs>("ring-live-pointer", config.get("livePointerStack") ?? "organization/api-ring-live/live");

export const liveSlot = pointer.output("liveSlot");
export const liveUrl = pointer.output("liveUrl");
export const heartbeatUrl = pulumi.interpolate`${pointer.output("liveUrl")}heartbeat`;
export const privateSubnetCount = primary.output("privateSubnetIds").apply((ids) => ids.length);
export const usageTopicArn = primary.output("usageTopicArn");
// The last move of the live pointer: who flipped, from which release to which, and why.
export const lastFlip = pointer.output("ringHistory").apply((history) => history[history.length - 1] ?? null);
export const cohorts = pointer.output("cohorts").apply((list) => list.map((c) => `${c.headers.map((h) => `${h.name}=${h.value}`).join(" and ")} -> ${c.slot}`));
export const dashboardUrl = primary.output("dashboardUrl");
