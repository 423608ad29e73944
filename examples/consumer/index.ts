// Another Pulumi project reading the ring's outputs: a monitoring or client project would
// do this to find the live URL, the stage to alarm on, or the VPC to join.
// The output names and types come from api-ring's outputs.ts, so a renamed output is a
// compile error here rather than a runtime surprise.
import * as pulumi from "@pulumi/pulumi";
import type { PrimaryOutputs } from "../../outputs";

/** A StackReference whose outputs are typed by the ring's contract. */
export class RingReference {
    private readonly ref: pulumi.StackReference;
    constructor(name: string, stack: string) {
        this.ref = new pulumi.StackReference(name, { name: stack });
    }

    output<K extends keyof PrimaryOutputs>(key: K): pulumi.Output<PrimaryOutputs[K]> {
        return this.ref.requireOutput(key) as pulumi.Output<PrimaryOutputs[K]>;
    }
}

const config = new pulumi.Config("consumer");
const ring = new RingReference("ring", config.get("ringStack") ?? "organization/api-ring/red");

export const liveSlot = ring.output("liveSlot");
export const liveUrl = ring.output("liveUrl");
export const heartbeatUrl = pulumi.interpolate`${ring.output("liveUrl")}heartbeat`;
export const privateSubnetCount = ring.output("privateSubnetIds").apply((ids) => ids.length);
export const usageTopicArn = ring.output("usageTopicArn");
// The last move of the live pointer: who flipped, from which release to which, and why.
export const lastFlip = ring.output("ringHistory").apply((history) => history[history.length - 1] ?? null);
export const dashboardUrl = ring.output("dashboardUrl");
