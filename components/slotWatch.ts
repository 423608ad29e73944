import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmThresholds } from "../config";
import { METRICS_NAMESPACE, METRIC, SERVICE_DIMENSION, serviceName } from "../handlers/metrics";
import { slotAlarmNames } from "../outputs";

/** API Gateway names a REST API's metrics by the API's name and the stage. */
export function apiDimensions(apiName: pulumi.Input<string>, stageName: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
    return { ApiName: apiName, Stage: stageName };
}

export interface SlotWatchArgs {
    project: string;
    slot: string;
    /** The REST API's name (API Gateway's ApiName metric dimension) and the stage. */
    apiName: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
    authorizerFunctionName: pulumi.Input<string>;
    /** The reporter's dead-letter queue name (SQS's QueueName dimension). */
    deadLetterQueueName: pulumi.Input<string>;
    thresholds: AlarmThresholds;
    tags?: Record<string, string>;
}

/**
 * The watch over one slot: CloudWatch alarms on its API's 5XX rate and p99 latency, its
 * authorizer's faults and throttles (the set `ring flip` watches while it bakes and flips
 * back on), on its reporter's dead-letter queue (usage at risk) and on usage 3scale will never take. Thresholds come from
 * config; missing data never breaches, so an idle slot stays OK.
 */
export class SlotWatch extends pulumi.ComponentResource {
    readonly alarms: aws.cloudwatch.MetricAlarm[];
    readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
    readonly rejectedUsageAlarm: aws.cloudwatch.MetricAlarm;
    /** Names of the alarms the bake watches. */
    readonly alarmNames: pulumi.Output<string[]>;
    readonly deadLetterAlarmName: pulumi.Output<string>;

    constructor(name: string, args: SlotWatchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:SlotWatch", name, {}, opts);
        const t = args.thresholds;
        const names = slotAlarmNames(args.project, args.slot);
        const tags = { ...args.tags, "api-ring:component": "SlotWatch", "api-ring:slot": args.slot };
        const actions = t.actionsTopicArn ? [t.actionsTopicArn] : [];
        const common = {
            evaluationPeriods: t.evaluationPeriods,
            datapointsToAlarm: t.datapointsToAlarm,
            treatMissingData: "notBreaching",
            alarmActions: actions,
            okActions: actions,
            tags,
        };
        const api = apiDimensions(args.apiName, args.stageName);
        const metric = (id: string, namespace: string, metricName: string, stat: string, dimensions: Record<string, pulumi.Input<string>>) => ({
            id, returnData: false, metric: { namespace, metricName, stat, period: t.periodSeconds, dimensions },
        });
        const requests = metric("requests", "AWS/ApiGateway", "Count", "Sum", api);
        // An API alarm over one API Gateway metric; too few requests say nothing, so below
        // alarms:minRequests a period counts as 0.
        const apiAlarm = (suffix: string, alarmName: string, what: string, threshold: number, watched: ReturnType<typeof metric>, result: { id: string; value: string; label: string }) =>
            new aws.cloudwatch.MetricAlarm(`${name}-${suffix}`, {
                ...common,
                name: alarmName,
                alarmDescription: `api-ring slot ${args.slot}: ${what} (with at least ${t.minRequests} requests a period)`,
                comparisonOperator: "GreaterThanThreshold",
                threshold,
                metricQueries: [
                    requests,
                    watched,
                    { id: result.id, expression: `IF(requests >= ${t.minRequests}, ${result.value}, 0)`, label: result.label, returnData: true },
                ],
            }, { parent: this });
        const serverErrors = apiAlarm("5xx-rate", names.serverErrors, `more than ${pct(t.serverErrorRate)} of requests answered 5XX`,
            t.serverErrorRate, metric("errors", "AWS/ApiGateway", "5XXError", "Sum", api), { id: "rate", value: "errors / requests", label: "5XX rate" });
        const latency = apiAlarm("latency-p99", names.latency, `p99 latency above ${t.latencyP99Ms} ms`,
            t.latencyP99Ms, metric("p99", "AWS/ApiGateway", "Latency", "p99", api), { id: "latency", value: "p99", label: "p99 latency (ms)" });

        // Lambda counts the authorizer's deliberate `Unauthorized` (a 401 for a malformed token) as
        // an error; the handler counts those itself, so faults are the difference.
        const fn = { FunctionName: args.authorizerFunctionName };
        const authorizerErrors = new aws.cloudwatch.MetricAlarm(`${name}-authorizer-errors`, {
            ...common,
            name: names.authorizerErrors,
            alarmDescription: `api-ring slot ${args.slot}: ${t.authorizerErrors} or more authorizer faults a period (Lambda errors other than refused tokens)`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.authorizerErrors,
            metricQueries: [
                metric("errors", "AWS/Lambda", "Errors", "Sum", fn),
                metric("rejected", METRICS_NAMESPACE, METRIC.rejectedTokens, "Sum", { [SERVICE_DIMENSION]: serviceName(args.project, args.slot) }),
                { id: "faults", expression: "FILL(errors, 0) - FILL(rejected, 0)", label: "authorizer faults", returnData: true },
            ],
        }, { parent: this });

        const authorizerThrottles = new aws.cloudwatch.MetricAlarm(`${name}-authorizer-throttles`, {
            ...common,
            name: names.authorizerThrottles,
            alarmDescription: `api-ring slot ${args.slot}: ${t.authorizerThrottles} or more authorizer throttles a period`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.authorizerThrottles,
            namespace: "AWS/Lambda",
            metricName: "Throttles",
            statistic: "Sum",
            period: t.periodSeconds,
            dimensions: fn,
        }, { parent: this });

        this.deadLetterAlarm = new aws.cloudwatch.MetricAlarm(`${name}-usage-dead-letters`, {
            ...common,
            name: names.deadLetters,
            alarmDescription: `api-ring slot ${args.slot}: ${t.deadLetterMessages} or more usage reports in the reporter's dead-letter queue; that usage has not reached 3scale`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.deadLetterMessages,
            // A message in the queue is at risk from the first minute.
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            statistic: "Maximum",
            period: t.periodSeconds,
            dimensions: { QueueName: args.deadLetterQueueName },
        }, { parent: this });

        // Usage 3scale will never take (a request it cannot read, no credential, over a day old): kept
        // apart in Redis with its reason (usage:v1:<service>:rejected); any of it is a fault to look at.
        this.rejectedUsageAlarm = new aws.cloudwatch.MetricAlarm(`${name}-usage-rejected`, {
            ...common,
            name: names.rejectedUsage,
            alarmDescription: `api-ring slot ${args.slot}: usage 3scale will never take was kept apart; its records (code, reason, application, hits) are in Redis at usage:v1:<service id>:rejected`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            evaluationPeriods: 1,
            datapointsToAlarm: 1,
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.rejectedHits,
            statistic: "Sum",
            period: t.periodSeconds,
            dimensions: { [SERVICE_DIMENSION]: serviceName(args.project, args.slot) },
        }, { parent: this });

        this.alarms = [serverErrors, latency, authorizerErrors, authorizerThrottles];
        this.alarmNames = pulumi.all(this.alarms.map((a) => a.name));
        this.deadLetterAlarmName = this.deadLetterAlarm.name;
        this.registerOutputs({ alarmNames: this.alarmNames, deadLetterAlarmName: this.deadLetterAlarmName });
    }
}

function pct(rate: number): string {
    return `${Number((rate * 100).toFixed(3))} %`;
}
