// The figures the authorizer pair publishes to CloudWatch, in the embedded metric format (EMF,
// JSON log lines written by Powertools for AWS Lambda's Metrics): names,
// dimensions, the environment that names the slot, and wrappers that count around the
// handlers without touching their logic. The program builds its alarms and the ring dashboard
// from the same constants, so the two sides cannot drift apart.
import type { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import type { Environment } from "./settings";
import type { ThreescaleClient } from "./threescale";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** CloudWatch namespace of the handlers' own metrics. */
export const METRICS_NAMESPACE = "api-ring";

/** Every metric carries the slot as `service` (`<project>-<slot>`); decisions also carry their `source`. */
export const SERVICE_DIMENSION = "service";
export const SOURCE_DIMENSION = "source";

/** Metric names. */
export const METRIC = {
    /** One per authorizer answer, by `source` (cache, 3scale, stale, fail-open, fail-closed). */
    decisions: "Decisions",
    /** Tokens refused before any I/O (API Gateway answers 401); Lambda counts each as an error. */
    rejectedTokens: "RejectedTokens",
    /** Milliseconds of one 3scale authorization call (authorize.xml on a miss). */
    threescaleLatency: "ThreescaleLatency",
    /** Hits the reporter reported to 3scale, and its transactions.xml calls. */
    reportedHits: "ReportedHits",
    reportCalls: "ReportCalls",
    /** Reporter invocations that failed (the counts went back to Redis; Lambda retries, then dead-letters). */
    reportFailures: "ReportFailures",
    /**
     * Hits 3scale will never take, kept apart in the rejected record: a request it says must not be
     * repeated unchanged, no credential to report by, older than a day. Alarmed: always a fault.
     */
    rejectedHits: "RejectedHits",
    /** Hits of applications 3scale no longer knows (deleted), kept apart in the rejected record. */
    refusedHits: "RefusedHits",
    /** Hits of reports with no reply, or taken and unverifiable, that no figure could check: assumed taken. */
    unverifiedHits: "UnverifiedHits",
    /**
     * Hits 3scale took (202) in shared calls with no witness to verify them: lost, unseen, if its report
     * job dropped the call (an application in it deleted since it was confirmed). Without porta only
     * applications with a limit on hits can witness, so this is most of a ring of unlimited plans.
     */
    atRiskHits: "AtRiskHits",
} as const;

/** Where an authorizer answer came from (the `source` the backend sees in the context). */
export const DECISION_SOURCES = ["cache", "3scale", "stale", "fail-open", "fail-closed"] as const;

/** The `service` dimension of a slot's metrics. */
export function serviceName(project: string, slot: string): string {
    return `${project}-${slot}`;
}

/** The environment that turns the metrics on: Powertools' own variables. */
export function metricsEnvironment(service: string): Record<string, string> {
    return { POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME: service };
}

/** The metrics library, loaded by the first write: a cold start that answers from the cache never loads it. */
export const METRICS_PACKAGE = "@aws-lambda-powertools/metrics";

/** A container's Powertools Metrics, loaded and created on first use. */
export type LazyMetrics = () => Metrics;

const COUNT: Unit = "Count";
const MILLISECONDS: Unit = "Milliseconds";

/** One container's metrics; undefined when the environment names no service (tests, the local run): nothing is published. */
export function createMetrics(env: Environment = process.env): LazyMetrics | undefined {
    const service = env.POWERTOOLS_SERVICE_NAME;
    if (!service) return undefined;
    const namespace = env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE;
    let metrics: Metrics | undefined;
    return () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        metrics ??= new (require(METRICS_PACKAGE) as typeof import("@aws-lambda-powertools/metrics")).Metrics({ namespace, serviceName: service });
        return metrics;
    };
}

/** Writes what is stored: one EMF line, none when nothing was counted. */
function publish(metrics: Metrics): void {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * How long a container holds its decision counts before writing them. A cache hit is answered in
 * about 0.1 ms; a log line per decision would cost it more than the Redis round trip does (and
 * CloudWatch Logs ingestion per request). At most this much of a container's counts is lost when
 * Lambda ends the container.
 */
export const DECISIONS_HOLD_MS = 1000;

/**
 * Counts each authorizer answer by its source, and each token refused with `rejectedMessage`
 * (API Gateway's 401) apart, so the fault alarm can tell them from real errors. Refused tokens are
 * written at once (the alarm sets them against Lambda's own Errors of the same minute); decisions
 * are held and written at most once per DECISIONS_HOLD_MS, one line a source, stamped with the
 * time of the last decision they count; the first write comes that long after the container
 * started. Decisions held through an idle spell are written, with their own time, by the next
 * invocation.
 */
export function instrumentAuthorizer<A extends unknown[]>(
    handler: (...args: A) => Promise<APIGatewayAuthorizerResult>, metrics: LazyMetrics | undefined, rejectedMessage: string,
    now: () => number = Date.now,
): (...args: A) => Promise<APIGatewayAuthorizerResult> {
    if (!metrics) return handler;
    const held = new Map<string, number>();
    let heldLast = 0;
    let writtenAt = now();
    const write = (at: number): void => {
        for (const [source, count] of held) {
            const m = metrics();
            m.setTimestamp(heldLast);
            m.addDimensions({ [SOURCE_DIMENSION]: source });
            m.addMetric(METRIC.decisions, COUNT, count);
            m.publishStoredMetrics();
        }
        held.clear();
        writtenAt = at;
    };
    const count = (source: string): void => {
        const t = now();
        const due = t - writtenAt >= DECISIONS_HOLD_MS;
        // After an idle spell what was held keeps its own time.
        if (held.size > 0 && t - heldLast >= DECISIONS_HOLD_MS) write(t);
        held.set(source, (held.get(source) ?? 0) + 1);
        heldLast = t;
        if (due) write(t);
    };
    // Every argument goes through: the Lambda context names the invocation a hit belongs to.
    return async (...args) => {
        try {
            const result = await handler(...args);
            const source = result.context?.source;
            if (typeof source === "string") count(source);
            return result;
        } catch (err) {
            if (err instanceof Error && err.message === rejectedMessage) {
                const m = metrics();
                m.setTimestamp(now());
                m.addMetric(METRIC.rejectedTokens, COUNT, 1);
                publish(m);
            }
            throw err;
        }
    };
}

/** Times each 3scale authorization call, authorize.xml or authrep.xml (its own EMF line, by service only). */
export function timeThreescale(client: ThreescaleClient, metrics: LazyMetrics | undefined): ThreescaleClient {
    if (!metrics) return client;
    let latency: Metrics | undefined;
    const timed = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
        const started = performance.now();
        try {
            return await call(...args);
        } finally {
            (latency ??= metrics().singleMetric()).addMetric(METRIC.threescaleLatency, MILLISECONDS, performance.now() - started);
        }
    };
    return { ...client, authrep: timed(client.authrep), authorize: timed(client.authorize) };
}

/** What of a reporter run the metrics read (usage-reporter.ts ReportSummary). */
export interface ReportFigures {
    hits: number;
    calls: number;
    rejected: number;
    expired: number;
    refused: number;
    reconciled: { unverified: number };
    verified: { unverified: number };
    atRisk: number;
}

/** Counts what each reporter invocation reported, kept apart or could not check, and the invocations that failed. */
export function instrumentReporter<E, R extends { runs: ReportFigures[] }>(
    handler: (event: E) => Promise<R>, metrics: LazyMetrics | undefined,
): (event: E) => Promise<R> {
    if (!metrics) return handler;
    return async (event) => {
        try {
            const result = await handler(event);
            const total = (of: (r: ReportFigures) => number): number => result.runs.reduce((n, r) => n + of(r), 0);
            metrics().addMetric(METRIC.reportedHits, COUNT, total((r) => r.hits));
            metrics().addMetric(METRIC.reportCalls, COUNT, total((r) => r.calls));
            metrics().addMetric(METRIC.rejectedHits, COUNT, total((r) => r.rejected + r.expired));
            metrics().addMetric(METRIC.refusedHits, COUNT, total((r) => r.refused));
            metrics().addMetric(METRIC.unverifiedHits, COUNT, total((r) => r.reconciled.unverified + r.verified.unverified));
            metrics().addMetric(METRIC.atRiskHits, COUNT, total((r) => r.atRisk));
            return result;
        } catch (err) {
            metrics().addMetric(METRIC.reportFailures, COUNT, 1);
            throw err;
        } finally {
            publish(metrics());
        }
    };
}
