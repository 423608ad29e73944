// The ring's guard rails, checked while a program runs so `pulumi preview` already fails, with a
// message that names what is wrong and the command that fixes it.
import * as pulumi from "@pulumi/pulumi";

export class GuardError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "GuardError";
    }
}

/** Refuses a changed spec in the live slot (`live`: what the live pointer says) unless ring:allowLiveUpdate says so. */
export function checkLiveUpdate(slot: string, live: unknown, allowLiveUpdate: boolean, deployedSha: unknown, newSha: string): void {
    if (slot !== live || allowLiveUpdate || typeof deployedSha !== "string" || deployedSha === newSha) return;
    throw new GuardError(`slot "${slot}" is live and its OpenAPI document changed ` +
        `(deployed spec ${deployedSha.slice(0, 12)}, new spec ${newSha.slice(0, 12)}). ` +
        `Release to the idle slot instead (\`npm run ring -- deploy\`, then \`npm run ring -- flip <slot>\`), ` +
        `or, to change the live slot in place on purpose, run \`pulumi config set ring:allowLiveUpdate true -s ${slot}\`.`);
}

/** Refuses to point the domain (or a cohort) at a slot that has never been deployed. */
export function checkLiveDeployed(slot: string, restApiId: unknown): void {
    if (typeof restApiId === "string" && restApiId !== "") return;
    throw new GuardError(`the live pointer would send requests to slot "${slot}", but stack "${slot}" has never been deployed (it has no outputs). ` +
        `Deploy it first (\`npm run ring -- deploy ${slot}\`), or flip to a deployed slot.`);
}

/** Refuses to build a secondary slot before the primary has built the shared network. */
export function checkPrimaryDeployed(slot: string, primary: string, vpcId: unknown): void {
    if (typeof vpcId === "string" && vpcId !== "") return;
    throw new GuardError(`slot "${slot}" reads the VPC and Redis from the primary "${primary}", which has never been deployed ` +
        `(it has no outputs). Deploy the primary first: \`pulumi up -s ${primary}\`.`);
}

/**
 * Refuses to update a primary whose state may still hold the custom domain's mapping: a ring deployed
 * before the live pointer exported `liveSlot` (a slot name) from its primary, whose program owned the
 * mapping. This program declares no mapping, so updating such a stack would delete it from AWS (an
 * outage) unless the mapping was moved to the live pointer's stack first. Only a live pointer that
 * names a live slot has taken it over (`ring migrate` ends with that); one that exports `liveSlot:
 * null` (a plain `pulumi up` of its stack before the move) maps nothing and does not count.
 */
export function checkMappingMoved(slot: string, deployed: Record<string, unknown>, pointer: Record<string, unknown>, pointerProject: string): void {
    if (typeof deployed["liveSlot"] !== "string" || (typeof pointer["liveSlot"] === "string" && pointer["liveSlot"] !== "")) return;
    const pointerSays = "liveSlot" in pointer ? `says ${JSON.stringify(pointer["liveSlot"])} is live` : "has no liveSlot";
    throw new GuardError(`stack "${slot}" was deployed by a ring that kept the custom domain's mapping in the primary's state (its last outputs export liveSlot ${JSON.stringify(deployed["liveSlot"])}), ` +
        `and the live pointer (project ${pointerProject}) has not taken it over (it ${pointerSays}): this update would delete the mapping, and the domain would serve nothing. ` +
        `Move it first: \`npm run ring -- migrate\` (README, "Moving a ring deployed before the live pointer"), then rerun.`);
}
