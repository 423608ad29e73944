// The region a stack deploys to, found as the AWS provider finds it.

/** Where the region came from, for messages. */
export interface ProviderRegion {
    region: string;
    from: "aws:region" | "AWS_REGION" | "AWS_DEFAULT_REGION";
}

/**
 * The region @pulumi/aws deploys a stack to: its `aws:region`, else the environment's AWS_REGION, then
 * AWS_DEFAULT_REGION (@pulumi/aws config/vars.js, `region`; provider.js reads the same variables).
 * Undefined when none is set: the provider then takes the AWS SDK's own chain (a profile's region), which
 * the program cannot see, so nothing should be refused on a guess.
 */
export function providerRegion(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): ProviderRegion | undefined {
    if (configured) return { region: configured, from: "aws:region" };
    if (env.AWS_REGION) return { region: env.AWS_REGION, from: "AWS_REGION" };
    if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, from: "AWS_DEFAULT_REGION" };
    return undefined;
}

/** An ARN in another region than the stack's: both regions, for the message. */
export interface OtherRegion {
    deployed: ProviderRegion;
    /** The ARN's region (its fourth field: arn:<partition>:<service>:<region>:...). */
    arnRegion: string;
}

/**
 * Whether `arn`, a regional resource the stack uses, is in another region than the stack's (`configured`:
 * its aws:region; else the environment's, as providerRegion reads it). Undefined when it is in the
 * stack's region, or when no region is known here: nothing is refused on a guess.
 */
export function otherRegion(arn: string | undefined, configured: string | undefined, env: NodeJS.ProcessEnv): OtherRegion | undefined {
    const deployed = providerRegion(configured, env);
    const arnRegion = arn?.split(":")[3];
    return deployed && arnRegion !== undefined && arnRegion !== deployed.region ? { deployed, arnRegion } : undefined;
}
