// The stack outputs: a public API that other Pulumi projects, the ring commands and CI read.
// Renaming or removing a field here is a breaking change; test/infra/program.test.ts pins the names
// of the slots' outputs and test/infra/live-pointer.test.ts those of the live pointer's stack.

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
    /** The cohorts the move removed (a flip ends every cohort: README, "Header cohorts"). */
    removedCohorts?: Cohort[];
}

/** Checks a value read back from state or sent by a ring command: a history entry as the ring commands write them. */
export function isRingHistoryEntry(value: unknown): value is RingHistoryEntry {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const e = value as Record<string, unknown>;
    const text = (v: unknown) => typeof v === "string" && v !== "";
    const optionalText = (v: unknown) => v === undefined || typeof v === "string";
    return text(e.at) && !Number.isNaN(Date.parse(String(e.at))) &&
        (RING_EVENT_KINDS as readonly unknown[]).includes(e.kind) &&
        (e.from === null || text(e.from)) && text(e.to) &&
        optionalText(e.fromRelease) && optionalText(e.toRelease) &&
        typeof e.by === "string" && typeof e.why === "string" &&
        (GATE_OUTCOMES as readonly unknown[]).includes(e.gate) &&
        (e.removedCohorts === undefined || Array.isArray(e.removedCohorts));
}

/** One header a cohort's requests carry: its name (case-insensitive) and a value glob (`beta`, `beta*`, `*beta`, `*beta*`). */
export interface CohortHeader {
    name: string;
    value: string;
}

/**
 * A header cohort: requests to the custom domain carrying every one of `headers` reach `slot`, whatever
 * is live (an API Gateway routing rule, evaluated before the base path mapping).
 */
export interface Cohort {
    slot: string;
    /** One or two headers, all of which must match. */
    headers: CohortHeader[];
    /** The routing rule's priority, 1 to 1,000,000: the lowest is evaluated first. */
    priority: number;
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

/** Outputs only the primary slot exports: the shared network. */
export interface PrimaryOutputs extends SlotOutputs {
    vpcId: string;
    privateSubnetIds: string[];
    lambdaSecurityGroupId: string;
    redisEndpoint: string;
    redisPort: number;
    /** Secret: the Redis AUTH token, read by the other slots' authorizers. */
    redisAuthToken: string;
    /** The ring's CloudWatch dashboard (every slot side by side) and its console URL. */
    dashboardName: string;
    dashboardUrl: string;
}

/** Outputs of the live pointer's stack (the project in live/): which slot is live, its history and the cohorts. */
export interface LivePointerOutputs {
    /** The slot the custom domain's base path mapping points at; null before the first flip. */
    liveSlot: string | null;
    /** The slot live before the last move, which `ring rollback` returns to; null when there was none. */
    previousLive: string | null;
    /** https://{domain}/{base path} */
    liveUrl: string;
    domainName: string;
    /** Every flip, rollback and automatic flip-back, oldest first, at most ring:historyLimit entries. */
    ringHistory: RingHistoryEntry[];
    /** The header cohorts, by priority. */
    cohorts: Cohort[];
}

export const SLOT_OUTPUT_NAMES: readonly (keyof SlotOutputs)[] = [
    "slot", "restApiId", "stageName", "invokeUrl", "executionArn", "specSha256", "releaseId",
    "authorizerFunctionName", "reporterFunctionName", "usageTopicArn", "deadLetterQueueUrl", "alarmNames",
    "deadLetterAlarmName",
];

export const PRIMARY_OUTPUT_NAMES: readonly (keyof PrimaryOutputs)[] = [
    ...SLOT_OUTPUT_NAMES,
    "vpcId", "privateSubnetIds", "lambdaSecurityGroupId", "redisEndpoint", "redisPort", "redisAuthToken", "dashboardName", "dashboardUrl",
];

export const LIVE_POINTER_OUTPUT_NAMES: readonly (keyof LivePointerOutputs)[] = [
    "liveSlot", "previousLive", "liveUrl", "domainName", "ringHistory", "cohorts",
];

/**
 * A slot (stack) name: letters, digits, - and _ (a stage, a function, a queue and an IAM role are named
 * after it; config/ring.ts adds the length limits). One pattern for config, the ring commands and the
 * live pointer's state.
 */
export const SLOT_NAME = /^[A-Za-z0-9_-]+$/;

/** The live pointer's project is the slot project's name with this suffix, and its one stack is LIVE_POINTER_STACK (README, "The live pointer"). */
export const LIVE_POINTER_PROJECT_SUFFIX = "-live";
export const LIVE_POINTER_STACK = "live";

/** Outputs of the primary when it owns the region's API Gateway CloudWatch role (`gateway:cloudWatchRole: create`). */
export interface AccountSettingsOutputs {
    /** The role API Gateway writes the region's logs with; other slots and projects read that the account has one. */
    gatewayCloudWatchRoleArn: string;
}

export const ACCOUNT_SETTINGS_OUTPUT_NAMES: readonly (keyof AccountSettingsOutputs)[] = ["gatewayCloudWatchRoleArn"];

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

/** The named outputs of another stack as a StackReference reads them (its last deployment's); those it lacks are left out. */
export async function referencedOutputs(ref: import("@pulumi/pulumi").StackReference, names: readonly string[]): Promise<Record<string, unknown>> {
    const outputs: Record<string, unknown> = {};
    for (const name of names) {
        const value: unknown = await ref.getOutputValue(name);
        if (value !== undefined) outputs[name] = value;
    }
    return outputs;
}
