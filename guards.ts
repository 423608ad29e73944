// The ring's guard rails, checked while the program runs so `pulumi preview` already
// fails. Each message names what is wrong and the command that fixes it.
import * as pulumi from "@pulumi/pulumi";

export class GuardError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "GuardError";
    }
}

/** Refuses a changed spec in the live slot unless ring:allowLiveUpdate says so. */
export function checkLiveUpdate(slot: string, live: string | undefined, allowLiveUpdate: boolean,
    deployedSha: string | undefined, newSha: string): void {
    if (slot !== live || allowLiveUpdate || deployedSha === undefined || deployedSha === newSha) return;
    throw new GuardError(`slot "${slot}" is live and its OpenAPI document changed ` +
        `(deployed spec ${deployedSha.slice(0, 12)}, new spec ${newSha.slice(0, 12)}). ` +
        `Release to the idle slot instead (\`npm run ring -- deploy\`, then \`npm run ring -- flip <slot>\`), ` +
        `or, to change the live slot in place on purpose, run \`pulumi config set ring:allowLiveUpdate true -s ${slot}\`.`);
}

/** Refuses to point the domain at a slot that has never been deployed. */
export function checkLiveDeployed(live: string, restApiId: unknown): void {
    if (typeof restApiId === "string" && restApiId !== "") return;
    throw new GuardError(`ring:live is "${live}", but stack "${live}" has never been deployed (it has no outputs). ` +
        `Deploy it first (\`pulumi up -s ${live}\`), or point ring:live at a deployed slot.`);
}

/** Refuses to build a secondary slot before the primary has built the shared network. */
export function checkPrimaryDeployed(slot: string, primary: string, vpcId: unknown): void {
    if (typeof vpcId === "string" && vpcId !== "") return;
    throw new GuardError(`slot "${slot}" reads the VPC and Redis from the primary "${primary}", which has never been deployed ` +
        `(it has no outputs). Deploy the primary first: \`pulumi up -s ${primary}\`.`);
}
