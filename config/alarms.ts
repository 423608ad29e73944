// alarms:*: the thresholds of a slot's CloudWatch alarms, which `ring flip` watches while it bakes.
import { Reader } from "./reader";

/** Thresholds of a slot's CloudWatch alarms (alarms:*). */
export interface AlarmThresholds {
    /** 5XX responses / requests above which the API alarm fires (0.05 = 5 %). */
    serverErrorRate: number;
    /** p99 latency, in milliseconds, above which the latency alarm fires. */
    latencyP99Ms: number;
    /** Authorizer faults per period (Lambda errors minus the tokens it refused on purpose) at which its alarm fires. */
    authorizerErrors: number;
    /** Authorizer throttles per period at which its alarm fires. */
    authorizerThrottles: number;
    /** Messages in the slot's reporter dead-letter queue at which its alarm fires. */
    deadLetterMessages: number;
    /** Requests per period below which the rate and latency alarms stay quiet (too few to judge). */
    minRequests: number;
    periodSeconds: number;
    evaluationPeriods: number;
    /** Breaching periods among evaluationPeriods that fire an alarm. */
    datapointsToAlarm: number;
    /** SNS topic notified when an alarm fires or clears; none when unset. */
    actionsTopicArn?: string;
}

export const ALARM_KEYS: readonly string[] = [
    "alarms:serverErrorRate", "alarms:latencyP99Ms", "alarms:authorizerErrors", "alarms:authorizerThrottles",
    "alarms:deadLetterMessages", "alarms:minRequests", "alarms:periodSeconds", "alarms:evaluationPeriods",
    "alarms:datapointsToAlarm", "alarms:actionsTopicArn",
];

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/** The alarms:* keys of one slot. */
export function alarmThresholds(r: Reader): AlarmThresholds {
    const evaluationPeriods = r.number("alarms:evaluationPeriods", 3, 1, 60, true);
    const datapointsToAlarm = r.number("alarms:datapointsToAlarm", Math.min(2, evaluationPeriods), 1, 60, true);
    if (datapointsToAlarm > evaluationPeriods) {
        r.problem("alarms:datapointsToAlarm", String(datapointsToAlarm), `at most alarms:evaluationPeriods (${evaluationPeriods})`);
    }
    const periodSeconds = r.number("alarms:periodSeconds", 60, 60, 3600, true);
    if (periodSeconds % 60 !== 0) r.problem("alarms:periodSeconds", String(periodSeconds), "a multiple of 60 (API Gateway and Lambda publish one-minute metrics)");
    return {
        serverErrorRate: r.number("alarms:serverErrorRate", 0.05, 0.001, 1, false),
        latencyP99Ms: r.number("alarms:latencyP99Ms", 3000, 10, 29000, true),
        authorizerErrors: r.number("alarms:authorizerErrors", 1, 1, 100000, true),
        authorizerThrottles: r.number("alarms:authorizerThrottles", 1, 1, 100000, true),
        deadLetterMessages: r.number("alarms:deadLetterMessages", 1, 1, 100000, true),
        minRequests: r.number("alarms:minRequests", 20, 0, 1000000, true),
        periodSeconds,
        evaluationPeriods,
        datapointsToAlarm,
        actionsTopicArn: r.string("alarms:actionsTopicArn", undefined, SNS_TOPIC_ARN, "an SNS topic ARN, e.g. arn:aws:sns:us-east-1:123456789012:ops"),
    };
}
