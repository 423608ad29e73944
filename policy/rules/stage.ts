// Rule 5: every stage has access logging and method settings for */* with throttling limits
// and a log level. A stack validation: a stage and its method settings are separate resources.
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, both, describe, isSet, ofType, read, sameReference, settings } from "./support";
import { T } from "./types";

export interface StageLimitsConfig {
    /** Highest steady-state rate (requests per second) a stage may allow. */
    maxRateLimit: number;
    /** Highest burst a stage may allow. */
    maxBurstLimit: number;
    /** Lowest rate a stage may set (0: any rate above 0). */
    minRateLimit: number;
    /** Lowest burst a stage may set (0: any burst above 0). */
    minBurstLimit: number;
    /** Log levels a stage may use. */
    logLevels: string[];
    /** Whether an enabled response cache must be encrypted (cacheDataEncrypted). */
    requireCacheEncryption: boolean;
}

export const STAGE_LIMITS_DEFAULTS: StageLimitsConfig = {
    maxRateLimit: 5000, maxBurstLimit: 5000, minRateLimit: 0, minBurstLimit: 0, logLevels: ["OFF", "ERROR", "INFO"], requireCacheEncryption: true,
};

function checkLimit(report: ReportViolation, urn: string, stage: string, key: string, value: unknown, min: number, max: number, configKey: string): void {
    if (value === UNKNOWN) return;
    const n = typeof value === "number" ? value : Number.NaN;
    if (!(n > 0)) report(`stage ${stage}: ${key} is ${describe(value)}; set a limit above 0 (${configKey}).`, urn);
    else if (n > max) report(`stage ${stage}: ${key} ${n} is above the policy's maximum ${max}; lower it (${configKey}).`, urn);
    else if (n < min) report(`stage ${stage}: ${key} ${n} is below the policy's minimum ${min}; raise it (${configKey}).`, urn);
}

function check(all: readonly PolicyResource[], limits: StageLimitsConfig, report: ReportViolation): void {
    const allSettings = ofType(all, T.methodSettings);
    for (const stage of ofType(all, T.stage)) {
        const stageName = read(stage.props, "stageName");
        const label = typeof stageName === "string" ? `${stageName} (${stage.name})` : stage.name;
        const destination = read(stage.props, "accessLogSettings", "destinationArn");
        const format = read(stage.props, "accessLogSettings", "format");
        if (!isSet(destination) || !isSet(format)) {
            const what = !isSet(destination) && !isSet(format) ? "no accessLogSettings" : !isSet(destination) ? "no accessLogSettings.destinationArn" : "no accessLogSettings.format";
            report(`stage ${label} has ${what}; set accessLogSettings with a CloudWatch log group ARN and a format.`, stage.urn);
        }
        const matches = allSettings.filter((m) => read(m.props, "methodPath") === "*/*")
            .map((m) => ({ m, match: both(sameReference(m, stage, "restApi"), sameReference(m, stage, "stageName", stage)) }));
        // Settings that may belong to this stage (ids unknown in preview) count as present, but
        // only the ones known to belong to it are judged.
        const mine = matches.filter((x) => x.match === "yes").map((x) => x.m);
        if (mine.length === 0 && !matches.some((x) => x.match === "maybe")) {
            report(`stage ${label} has no aws.apigateway.MethodSettings for methodPath */*; add them with throttlingRateLimit, throttlingBurstLimit and loggingLevel.`, stage.urn);
            continue;
        }
        for (const m of mine) {
            const s = read(m.props, "settings");
            if (s === UNKNOWN) continue;
            checkLimit(report, m.urn, label, "throttlingRateLimit", read(s, "throttlingRateLimit"), limits.minRateLimit, limits.maxRateLimit, "gateway:rateLimit");
            checkLimit(report, m.urn, label, "throttlingBurstLimit", read(s, "throttlingBurstLimit"), limits.minBurstLimit, limits.maxBurstLimit, "gateway:burstLimit");
            const level = read(s, "loggingLevel");
            if (level !== UNKNOWN && !limits.logLevels.includes(level as string)) {
                report(`stage ${label}: loggingLevel is ${describe(level)}; set one of ${limits.logLevels.join(", ")} (gateway:logLevel).`, m.urn);
            }
            const encrypted = read(s, "cacheDataEncrypted");
            if (limits.requireCacheEncryption && read(s, "cachingEnabled") === true && encrypted !== true && encrypted !== UNKNOWN) {
                report(`stage ${label}: response caching is on without cacheDataEncrypted; set cacheDataEncrypted: true.`, m.urn);
            }
        }
    }
}

export const stageThrottlingAndLogging: StackValidationPolicy = {
    name: "stage-throttling-and-logging",
    description: "Every API Gateway stage has access logging, and method settings for */* with rate and burst limits within the policy's bounds, a log level, and an encrypted cache when caching is on.",
    remediationSteps: "Set the stage's accessLogSettings, and create aws.apigateway.MethodSettings { restApi, stageName, methodPath: \"*/*\", settings: { throttlingRateLimit, throttlingBurstLimit, loggingLevel } }.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxRateLimit: { type: "number", default: STAGE_LIMITS_DEFAULTS.maxRateLimit, description: "Highest steady-state rate (requests per second) a stage may allow." },
            maxBurstLimit: { type: "number", default: STAGE_LIMITS_DEFAULTS.maxBurstLimit, description: "Highest burst a stage may allow." },
            minRateLimit: { type: "number", default: STAGE_LIMITS_DEFAULTS.minRateLimit, description: "Lowest rate a stage may set (0: anything above 0)." },
            minBurstLimit: { type: "number", default: STAGE_LIMITS_DEFAULTS.minBurstLimit, description: "Lowest burst a stage may set (0: anything above 0)." },
            logLevels: { type: "array", items: { type: "string", enum: ["OFF", "ERROR", "INFO"] }, default: STAGE_LIMITS_DEFAULTS.logLevels, description: "Log levels a stage may use." },
            requireCacheEncryption: { type: "boolean", default: true, description: "An enabled response cache must set cacheDataEncrypted." },
        },
    },
    validateStack: (args, report) => check(args.resources, settings(STAGE_LIMITS_DEFAULTS, args.getConfig<Partial<StageLimitsConfig>>()), report),
};
