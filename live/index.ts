// The live pointer's program (the project in live/, compiled with the ring commands to bin/live/):
// the custom domain's base path mapping aimed at the live slot, the cohorts' routing rules, and the
// domain when the project creates it. It never runs a slot's program or reads the working tree's API
// document: it reads each slot it points at through a StackReference (restApiId, stageName), its own
// last state through a StackReference to itself, and a ring command's change from the environment.
import * as pulumi from "@pulumi/pulumi";
import { DomainFlip, SlotTarget } from "../components/domainFlip";
import { ConfigError, readLivePointerConfig, runtimeConfigSource } from "../config";
import { checkLiveDeployed } from "../guards";
import { LivePointerOutputs, StackOutputs, referencedOutputs } from "../outputs";
import { LIVE_CHANGE_ENV, LivePointerError, STATE_OUTPUTS, nextState, readChange, stateFromOutputs } from "./change";

async function livePointerProgram(): Promise<StackOutputs<LivePointerOutputs>> {
    const config = readLivePointerConfig(runtimeConfigSource());
    const org = pulumi.getOrganization();
    const self = `${org}/${config.project}/${config.stack}`;
    // A reference to the stack being updated answers its last deployment's outputs (none before the first).
    const previous = stateFromOutputs(await referencedOutputs(new pulumi.StackReference("previous", { name: self }), STATE_OUTPUTS), config.stack);
    const state = nextState(previous, readChange(process.env[LIVE_CHANGE_ENV]), config.historyLimit);

    // Each slot the domain sends requests to, read from its own stack: never a slot's program.
    const targets = new Map<string, SlotTarget>();
    for (const slot of new Set([...(state.liveSlot ? [state.liveSlot] : []), ...state.cohorts.map((c) => c.slot)])) {
        const ref = new pulumi.StackReference(`slot-${slot}`, { name: `${org}/${config.slotProject}/${slot}` });
        const restApiId = await ref.getOutputValue("restApiId");
        checkLiveDeployed(slot, restApiId);
        targets.set(slot, { restApiId: restApiId as string, stageName: ref.requireOutput("stageName") as pulumi.Output<string> });
    }
    // With nothing to map, no rule and no domain to create, the program declares nothing: the stack of a
    // ring not moved yet stays empty, so `ring migrate` can still move the primary's DomainFlip into it.
    const declares = state.liveSlot !== null || state.cohorts.length > 0 || config.domain.certificateArn !== undefined;
    const flip = declares ? new DomainFlip("live", {
        domainName: config.domain.name,
        basePath: config.domain.basePath,
        live: state.liveSlot ? targets.get(state.liveSlot) : undefined,
        cohorts: state.cohorts.map((cohort) => ({ cohort, ...(targets.get(cohort.slot) as SlotTarget) })),
        certificateArn: config.domain.certificateArn,
        hostedZoneId: config.domain.hostedZoneId,
        tags: { "api-ring:project": config.slotProject, "api-ring:role": "live-pointer" },
    }) : undefined;
    return {
        liveSlot: state.liveSlot,
        previousLive: state.previousLive,
        liveUrl: flip?.liveUrl ?? `https://${config.domain.name}/${config.domain.basePath}`,
        domainName: flip?.domainName ?? config.domain.name,
        ringHistory: state.ringHistory,
        cohorts: state.cohorts,
    };
}

/** Config errors and refusals are the user's to fix: report them without a stack trace. */
export = async () => {
    try {
        return await livePointerProgram();
    } catch (e) {
        if (e instanceof ConfigError || e instanceof LivePointerError) throw new pulumi.RunError(e.message);
        throw e;
    }
};
