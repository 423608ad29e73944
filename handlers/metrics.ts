// The figures the authorizer pair publishes to CloudWatch, in the embedded metric format:
// names, dimensions and the environment that names the slot. The program builds its alarms
// and the ring dashboard from the same constants, so the two sides cannot drift apart.

/** CloudWatch namespace of the handlers' own metrics. */
export const METRICS_NAMESPACE = "api-ring";

/** Every metric carries the slot as `service` (`<project>-<slot>`); decisions also carry their `source`. */
export const SERVICE_DIMENSION = "service";
export const SOURCE_DIMENSION = "source";

/** Metric names. */
export const METRIC = {
    /** One per authorizer answer, by source (cache, 3scale, stale, fail-open, fail-closed). */
    decisions: "Decisions",
    /** 1 when the answer came from the Redis cache, 0 otherwise: its average is the cache hit rate. */
    cacheHit: "CacheHit",
    /** Tokens refused before any I/O (API Gateway answers 401); Lambda counts each as an error. */
    rejectedTokens: "RejectedTokens",
    /** Milliseconds of one 3scale authrep call. */
    threescaleLatency: "ThreescaleLatency",
    /** Hits the reporter reported to 3scale, and its transactions.xml calls. */
    reportedHits: "ReportedHits",
    reportCalls: "ReportCalls",
    /** Reporter invocations that failed (the counts went back to Redis; Lambda retries, then dead-letters). */
    reportFailures: "ReportFailures",
} as const;

/** Where an authorizer answer came from (the `source` the backend sees in the context). */
export const DECISION_SOURCES = ["cache", "3scale", "stale", "fail-open", "fail-closed"] as const;

/** The `service` dimension of a slot's metrics. */
export function serviceName(project: string, slot: string): string {
    return `${project}-${slot}`;
}
