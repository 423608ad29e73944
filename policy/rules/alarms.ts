// Rule 12: every slot is watched. Each API Gateway stage has CloudWatch alarms on its 5XX
// responses and its latency; each Lambda that API Gateway invokes (the authorizer) has alarms
// on its errors and throttles; each dead-letter queue of a function has an alarm on its depth.
// A stack validation: alarms name what they watch by metric dimensions, not by reference.
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, elements, idOf, isOpaque, keysOf, ofType, read, referenced } from "./support";
import { T } from "./types";

/** One metric an alarm evaluates: its own, or one of its metric queries'. */
interface WatchedMetric {
    namespace: unknown;
    metricName: unknown;
    dimensions: unknown;
}

/** What a slot must have an alarm on. */
interface Requirement {
    namespace: string;
    metricName: string;
    /** Dimension name to the value it must have; UNKNOWN when the value is not known (preview). */
    dimensions: Record<string, unknown>;
}

function watchedMetrics(alarm: PolicyResource): WatchedMetric[] {
    const own = { namespace: read(alarm.props, "namespace"), metricName: read(alarm.props, "metricName"), dimensions: read(alarm.props, "dimensions") };
    const queries = elements(read(alarm.props, "metricQueries"));
    if (queries === UNKNOWN) return [own, { namespace: UNKNOWN, metricName: UNKNOWN, dimensions: UNKNOWN }];
    return [own, ...queries.map((q) => ({
        namespace: read(q, "metric", "namespace"), metricName: read(q, "metric", "metricName"), dimensions: read(q, "metric", "dimensions"),
    }))];
}

/** A value matches when equal, or when either side is not known (a preview cannot tell yet). */
function matches(actual: unknown, expected: unknown): boolean {
    return isOpaque(actual) || isOpaque(expected) || actual === expected;
}

function satisfies(metric: WatchedMetric, need: Requirement): boolean {
    if (!matches(metric.namespace, need.namespace) || !matches(metric.metricName, need.metricName)) return false;
    if (metric.dimensions === UNKNOWN) return true;
    return Object.entries(need.dimensions).every(([name, value]) => matches(read(metric.dimensions, name), value));
}

function label(need: Requirement): string {
    const dims = Object.entries(need.dimensions).map(([k, v]) => `${k} ${describe(v)}`).join(", ");
    return `${need.namespace} ${need.metricName} (${dims})`;
}

/** A resource's name as AWS knows it: its `name` output, else its id. */
function awsName(r: PolicyResource): unknown {
    const name = read(r.props, "name");
    return typeof name === "string" || name === UNKNOWN ? name : idOf(r) ?? UNKNOWN;
}

function requirements(all: readonly PolicyResource[]): { resource: PolicyResource; what: string; need: Requirement }[] {
    const out: { resource: PolicyResource; what: string; need: Requirement }[] = [];
    const apis = ofType(all, T.restApi);
    for (const stage of ofType(all, T.stage)) {
        const stageName = read(stage.props, "stageName");
        const api = referenced(stage, "restApi", [read(stage.props, "restApi")], apis).resources[0];
        const dimensions = { ApiName: api ? awsName(api) : UNKNOWN, Stage: stageName };
        const what = `stage ${typeof stageName === "string" ? stageName : stage.name}`;
        for (const metricName of ["5XXError", "Latency"]) out.push({ resource: stage, what, need: { namespace: "AWS/ApiGateway", metricName, dimensions } });
    }
    const functions = ofType(all, T.lambdaFunction);
    const invokedByApiGateway = new Set<PolicyResource>();
    for (const permission of ofType(all, T.lambdaPermission)) {
        if (read(permission.props, "principal") !== "apigateway.amazonaws.com") continue;
        referenced(permission, "function", [read(permission.props, "function")], functions).resources.forEach((f) => invokedByApiGateway.add(f));
    }
    for (const fn of invokedByApiGateway) {
        for (const metricName of ["Errors", "Throttles"]) {
            out.push({ resource: fn, what: `authorizer function ${fn.name}`, need: { namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: awsName(fn) } } });
        }
    }
    const queues = ofType(all, T.queue);
    for (const fn of functions) {
        const target = read(fn.props, "deadLetterConfig", "targetArn");
        if (target === undefined || keysOf(read(fn.props, "deadLetterConfig")).length === 0) continue;
        for (const queue of referenced(fn, "deadLetterConfig", [target], queues).resources) {
            out.push({
                resource: queue, what: `dead-letter queue ${queue.name} (of ${fn.name})`,
                need: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: awsName(queue) } },
            });
        }
    }
    return out;
}

function check(all: readonly PolicyResource[], report: ReportViolation): void {
    const watched = ofType(all, T.metricAlarm).flatMap(watchedMetrics);
    for (const { resource, what, need } of requirements(all)) {
        if (!watched.some((m) => satisfies(m, need))) {
            report(`${what} has no CloudWatch alarm on ${label(need)}; add an aws.cloudwatch.MetricAlarm on it (components/slotWatch.ts makes one per slot).`, resource.urn);
        }
    }
}

export const slotsHaveAlarms: StackValidationPolicy = {
    name: "slots-have-alarms",
    description: "Every API Gateway stage has CloudWatch alarms on its 5XX responses and latency, every function API Gateway invokes on its errors and throttles, and every dead-letter queue on its depth.",
    remediationSteps: "Create aws.cloudwatch.MetricAlarm resources on AWS/ApiGateway 5XXError and Latency (ApiName, Stage), AWS/Lambda Errors and Throttles (FunctionName) and AWS/SQS ApproximateNumberOfMessagesVisible (QueueName), as components/slotWatch.ts does.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => check(args.resources, report),
};
