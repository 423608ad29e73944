// The stack outputs: a public API that other Pulumi projects, the ring commands and CI read.
// Renaming or removing a field here is a breaking change; test/outputs.test.ts pins the names.

/** Outputs every slot exports. */
export interface SlotOutputs {
    /** The slot (= stack) name, e.g. "red". */
    slot: string;
    restApiId: string;
    /** Stage name; equal to the slot name. */
    stageName: string;
    /** https://{restApiId}.execute-api.{region}.amazonaws.com/{stage} */
    invokeUrl: string;
    /** execute-api ARN of the stage, for IAM policies and Lambda permissions. */
    executionArn: string;
    /** sha256 of the bundled OpenAPI body this slot serves (with the authorizer injected). */
    specSha256: string;
    /** The release id, also the stage variable `id` the heartbeat returns. */
    releaseId: string;
    authorizerFunctionName: string;
    reporterFunctionName: string;
    usageTopicArn: string;
    deadLetterQueueUrl: string;
}

/** Outputs only the primary slot exports: the shared network and the live pointer. */
export interface PrimaryOutputs extends SlotOutputs {
    /** The slot the custom domain points at. */
    liveSlot: string;
    /** https://{domain}/ */
    liveUrl: string;
    vpcId: string;
    privateSubnetIds: string[];
    lambdaSecurityGroupId: string;
    redisEndpoint: string;
    redisPort: number;
    /** Secret: the Redis AUTH token, read by the other slots' authorizers. */
    redisAuthToken: string;
}

export const SLOT_OUTPUT_NAMES: readonly (keyof SlotOutputs)[] = [
    "slot", "restApiId", "stageName", "invokeUrl", "executionArn", "specSha256", "releaseId",
    "authorizerFunctionName", "reporterFunctionName", "usageTopicArn", "deadLetterQueueUrl",
];

export const PRIMARY_OUTPUT_NAMES: readonly (keyof PrimaryOutputs)[] = [
    ...SLOT_OUTPUT_NAMES,
    "liveSlot", "liveUrl", "vpcId", "privateSubnetIds", "lambdaSecurityGroupId", "redisEndpoint", "redisPort",
    "redisAuthToken",
];

/** Outputs that are Pulumi secrets; everything else is plain. */
export const SECRET_OUTPUT_NAMES: readonly (keyof PrimaryOutputs)[] = ["redisAuthToken"];

/** What the program returns for a stack: every field of T as a Pulumi input. */
export type StackOutputs<T> = { [K in keyof T]: import("@pulumi/pulumi").Input<T[K]> };
