// The stack outputs: a public API that other Pulumi projects, the ring commands and CI read.
// Renaming or removing a field here is a breaking change; test/outputs.test.ts pins the names.

/** What moved the live pointer. */
export type RingEventKind = "flip" | "rollback" | "auto-rollback";
export const RING_EVENT_KINDS: readonly RingEventKind[] = ["flip", "rollback", "auto-rollback"];

/** Whether the smoke test ran before the move: passed, skipped with --skip-gate, or not run (an automatic flip-back). */
export type GateOutcome = "passed" | "skipped" | "not-run";
export const GATE_OUTCOMES: readonly GateOutcome[] = ["passed", "skipped", "not-run"];

/** One move of the live pointer, as the ring commands record it (newest last). */
export interface RingHistoryEntry {
    /** ISO 8601 time the move was made. */
    at: string;
    kind: RingEventKind;
    /** The slot live before; a mapping outside the ring is named `<stage> (api <id>)`; null when nothing was mapped. */
    from: string | null;
    to: string;
    /** Release ids (stage variable `id`) of the two slots at the time, when known. */
    fromRelease?: string;
    toRelease?: string;
    /** The Pulumi user and the local account that ran the command. */
    by: string;
    /** --reason, or for an automatic flip-back the alarm that fired and its reason. */
    why: string;
    gate: GateOutcome;
}

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
    /** CloudWatch alarms on this slot (5XX rate, p99 latency, authorizer errors and throttles): what `ring flip` watches while it bakes. */
    alarmNames: string[];
    /** The alarm on this slot's reporter dead-letter queue (usage at risk of never being reported); not part of the bake. */
    deadLetterAlarmName: string;
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
    /** Every flip, rollback and automatic flip-back, newest last, at most ring:historyLimit entries. */
    ringHistory: RingHistoryEntry[];
    /** The ring's CloudWatch dashboard (every slot side by side) and its console URL. */
    dashboardName: string;
    dashboardUrl: string;
}

export const SLOT_OUTPUT_NAMES: readonly (keyof SlotOutputs)[] = [
    "slot", "restApiId", "stageName", "invokeUrl", "executionArn", "specSha256", "releaseId",
    "authorizerFunctionName", "reporterFunctionName", "usageTopicArn", "deadLetterQueueUrl", "alarmNames",
    "deadLetterAlarmName",
];

export const PRIMARY_OUTPUT_NAMES: readonly (keyof PrimaryOutputs)[] = [
    ...SLOT_OUTPUT_NAMES,
    "liveSlot", "liveUrl", "vpcId", "privateSubnetIds", "lambdaSecurityGroupId", "redisEndpoint", "redisPort",
    "redisAuthToken", "ringHistory", "dashboardName", "dashboardUrl",
];

/** Outputs that are Pulumi secrets; everything else is plain. */
export const SECRET_OUTPUT_NAMES: readonly (keyof PrimaryOutputs)[] = ["redisAuthToken"];

/** The alarms of one slot, by what they watch. Names are derived from the project and the slot, so other stacks, the dashboard and the ring commands can name them. */
export interface SlotAlarmNames {
    serverErrors: string;
    latency: string;
    authorizerErrors: string;
    authorizerThrottles: string;
    deadLetters: string;
    /** Usage 3scale will never take (handlers/metrics.ts RejectedHits). */
    rejectedUsage: string;
}

export function slotAlarmNames(project: string, slot: string): SlotAlarmNames {
    const prefix = `${project}-${slot}`;
    return {
        serverErrors: `${prefix}-5xx-rate`,
        latency: `${prefix}-latency-p99`,
        authorizerErrors: `${prefix}-authorizer-errors`,
        authorizerThrottles: `${prefix}-authorizer-throttles`,
        deadLetters: `${prefix}-usage-dead-letters`,
        rejectedUsage: `${prefix}-usage-rejected`,
    };
}

/** The alarms `ring flip` watches while it bakes: everything but the metering alarms (dead letters, rejected usage), which are not about serving. */
export function bakeAlarmNames(names: SlotAlarmNames): string[] {
    return [names.serverErrors, names.latency, names.authorizerErrors, names.authorizerThrottles];
}

/** What the program returns for a stack: every field of T as a Pulumi input. */
export type StackOutputs<T> = { [K in keyof T]: import("@pulumi/pulumi").Input<T[K]> };
