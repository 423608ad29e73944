// The usage reporter Lambda: woken by the SNS nudge the authorizer publishes at most once
// per usage window, and by a schedule that flushes whatever is left. A failure throws
// (after the counts are back in Redis) so Lambda retries and then dead-letters the event.
import type { EventBridgeEvent, SNSEvent } from "aws-lambda";
import type { Redis } from "ioredis";
import { createMetrics, instrumentReporter } from "./metrics";
import { createPortaClient } from "./porta";
import { createRedisClient } from "./redis-client";
import { createKeySealer } from "./sealed-key";
import { createSecretsReader } from "./secrets";
import { AuthorizerSettings, Environment, settingsFromEnvironment, withSecrets } from "./settings";
import { createThreescaleClient, ThreescaleClient, ThreescaleClientOptions } from "./threescale";
import { createUsageReporter, ReportSummary, UsageReporterOptions } from "./usage-reporter";

export type ReporterEvent = SNSEvent | EventBridgeEvent<string, unknown> | Record<string, never>;

export interface ReporterResult {
    runs: (ReportSummary & { trigger: string })[];
}

export type ReporterHandler = (event: ReporterEvent) => Promise<ReporterResult>;

export interface ReporterDeps {
    settings: AuthorizerSettings;
    redis: Redis;
    threescale: ThreescaleClient;
    options?: Partial<Omit<UsageReporterOptions, "client" | "threescale" | "serviceId">>;
}

function isSnsEvent(event: ReporterEvent): event is SNSEvent {
    return Array.isArray((event as SNSEvent).Records);
}

export function createReporter(deps: ReporterDeps): ReporterHandler {
    const s = deps.settings;
    const { adminUrl, accessToken } = s.threescale;
    const reporter = createUsageReporter({
        client: deps.redis,
        threescale: deps.threescale,
        porta: adminUrl && accessToken ? createPortaClient({ adminUrl, accessToken, timeoutMs: Math.max(s.threescale.timeoutMs, 2000) }) : undefined,
        serviceId: s.threescale.serviceId,
        cacheTtlSeconds: s.cacheTtlSeconds,
        sealer: createKeySealer(s.threescale.serviceToken, s.threescale.serviceId),
        ...deps.options,
    });
    return async (event) => {
        const runs: ReporterResult["runs"] = [];
        if (event && isSnsEvent(event)) {
            for (const record of event.Records) {
                const id = record.Sns?.MessageId;
                runs.push({ trigger: `sns:${id}`, ...(await reporter.flush(id ? `sns:${id}` : undefined)) });
            }
        } else {
            // EventBridge redelivers a scheduled event with the same id.
            const id = (event as EventBridgeEvent<string, unknown> | undefined)?.id;
            runs.push({ trigger: id ? `schedule:${id}` : "direct", ...(await reporter.flush(id ? `schedule:${id}` : undefined)) });
        }
        return { runs };
    };
}

/** Bound on the reporter's read of its secrets: it is off the request path, and a failure only delays a report. */
const REPORTER_SECRETS_TIMEOUT_MS = 5000;

/**
 * The Lambda entry point factory (the archive's index.js calls it once per container). The secrets are
 * read by the first invocation (not at module load: secrets.ts); while the store cannot be read an invocation fails at once (the counts stay in
 * Redis; Lambda retries, then the dead-letter queue holds the event) and the next read waits for the back-off.
 */
export function createReporterHandler(env: Environment = process.env, options: { threescale?: ThreescaleClientOptions; log?: (m: string) => void } = {}): ReporterHandler & { close(): void } {
    const deployed = settingsFromEnvironment(env);
    const secrets = createSecretsReader(deployed.secretParameters, { env, timeoutMs: REPORTER_SECRETS_TIMEOUT_MS, log: options.log });
    let reporter: ReporterHandler | undefined;
    let redis: Redis | undefined;
    const handler = instrumentReporter(async (event: ReporterEvent) => {
        if (!reporter) {
            const settings = withSecrets(deployed, await secrets.get());
            redis = createRedisClient({ ...settings.redis, timeoutMs: Math.max(settings.redis.timeoutMs, 2000) });
            reporter = createReporter({
                settings,
                redis,
                threescale: createThreescaleClient({ ...settings.threescale, timeoutMs: Math.max(settings.threescale.timeoutMs, 5000) }, options.threescale),
            });
        }
        return reporter(event);
    }, createMetrics(env));
    // Lambda never closes a container; the local run does, and its Redis client must go with it.
    return Object.assign(handler, { close: () => redis?.disconnect() });
}
