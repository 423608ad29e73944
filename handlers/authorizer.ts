// The API Gateway TOKEN authorizer (DESIGN.md section 5).
//   token -> reject malformed (401) -> Redis lookup + hit count (one round trip)
//   -> fresh hit: cached answer | miss or stale: 3scale authrep hits=1
//   -> cache the decision (TTL, kept for the stale TTL) or the denial (negative TTL)
//   -> 3scale failing: the failure mode decides; Redis failing: straight to 3scale.
// Routes are derived from the cached plan with the current config at every request,
// so a change of the plan -> routes map applies at once, without waiting for the TTL.
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import type { Redis } from "ioredis";
import { buildPolicy, routesForPlan } from "./access-policy";
import { CachedDecision, createDecisionCache } from "./decision-cache";
import { formatUsageField, tokenHash } from "./keys";
import { createMetrics, instrumentAuthorizer, timeThreescale } from "./metrics";
import { createRedisClient, redisUsable, withTimeout } from "./redis-client";
import { createKeySealer, KeySealer } from "./sealed-key";
import { AuthorizerSettings, Environment, settingsFromEnvironment } from "./settings";
import { createThreescaleClient, ThreescaleClient } from "./threescale";
import { createSnsPublisher, UsagePublisher } from "./usage";

export const MAX_TOKEN_BYTES = 512;

/** API Gateway turns exactly this error message into a 401. */
export const UNAUTHORIZED = "Unauthorized";

/** Where an answer came from, passed to the backend in the context. */
export type DecisionSource = "cache" | "3scale" | "stale" | "fail-open" | "fail-closed";

export interface AuthorizerDeps {
    settings: AuthorizerSettings;
    /** The container's Redis client; undefined runs without a cache. */
    redis?: Redis;
    threescale: ThreescaleClient;
    /** Nudges the usage reporter; undefined disables nudging (the schedule still flushes). */
    publisher?: UsagePublisher;
    sealer?: KeySealer;
    now?: () => number;
    log?: (message: string) => void;
}

export type AuthorizerHandler = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** The token from the identity header, `Bearer ` stripped; throws Unauthorized when unusable. */
export function extractToken(header: string | undefined | null, pattern: RegExp): string {
    if (typeof header !== "string") throw new Error(UNAUTHORIZED);
    const token = header.replace(/^Bearer +/i, "").trim();
    if (token === "" || Buffer.byteLength(token, "utf8") > MAX_TOKEN_BYTES || !pattern.test(token)) {
        throw new Error(UNAUTHORIZED);
    }
    return token;
}

/** The configured pattern must match the whole token. */
export function tokenRegExp(pattern: string): RegExp {
    return new RegExp(`^(?:${pattern})$`);
}

export function createAuthorizer(deps: AuthorizerDeps): AuthorizerHandler {
    const s = deps.settings;
    const now = deps.now ?? Date.now;
    const log = deps.log ?? ((m: string) => console.warn(m));
    const pattern = tokenRegExp(s.tokenPattern);
    const sealer = deps.sealer ?? createKeySealer(s.threescale.serviceToken, s.threescale.serviceId);
    const redis = deps.redis;
    const cache = redis ? createDecisionCache(redis, { ...s, serviceId: s.threescale.serviceId }, now) : undefined;
    // Own bound on top of ioredis' commandTimeout (covers connection setup too).
    const redisBound = Math.max(1, s.redis.timeoutMs);

    const useRedis = (): boolean => redis !== undefined && redisUsable(redis);

    const nudge = async (reason: "window" | "request"): Promise<void> => {
        if (!deps.publisher) return;
        try {
            await withTimeout(deps.publisher.publish({ serviceId: s.threescale.serviceId, reason, at: new Date(now()).toISOString() }), s.threescale.timeoutMs, "usage nudge");
        } catch (e) {
            log(`authorizer: usage nudge failed (${(e as Error).message}); the next request or the schedule retries`);
            if (cache && reason === "window" && useRedis()) await withTimeout(cache.releaseWindow(), redisBound, "redis").catch(() => undefined);
        }
    };

    const countUnseenHit = async (usageField: string): Promise<void> => {
        if (!cache || usageField === "" || !useRedis()) return;
        try {
            const { publish } = await withTimeout(cache.countHit(usageField), redisBound, "redis count");
            if (publish) await nudge(s.usageWindowSeconds === 0 ? "request" : "window");
        } catch (e) {
            log(`authorizer: could not count a hit (${(e as Error).message})`);
        }
    };

    const allow = (methodArn: string, hash: string, plan: string, appId: string, source: DecisionSource): APIGatewayAuthorizerResult =>
        buildPolicy({
            methodArn,
            principalId: appId !== "" ? appId : `key-${hash.slice(0, 16)}`,
            routes: routesForPlan(plan === "" ? undefined : plan, s.planRoutes, s.defaultRoutes),
            context: { plan, appId, source },
        });
    const deny = (methodArn: string, hash: string, appId: string, reason: string, source: DecisionSource): APIGatewayAuthorizerResult =>
        buildPolicy({
            methodArn,
            principalId: appId !== "" ? appId : `key-${hash.slice(0, 16)}`,
            routes: undefined,
            context: { plan: "", appId, source, reason },
        });

    return async (event) => {
        const token = extractToken(event?.authorizationToken, pattern);
        const hash = tokenHash(token);
        const methodArn = event.methodArn;

        let stale: CachedDecision | undefined;
        let redisOk = useRedis();
        if (cache && redisOk) {
            try {
                const hit = await withTimeout(cache.lookup(hash), redisBound, "redis lookup");
                const d = hit.decision;
                if (d && d.fresh) {
                    if (!d.allowed) return deny(methodArn, hash, d.appId, d.reason, "cache");
                    if (hit.publish) await nudge(s.usageWindowSeconds === 0 ? "request" : "window");
                    return allow(methodArn, hash, d.plan, d.appId, "cache");
                }
                stale = d;
            } catch (e) {
                redisOk = false;
                log(`authorizer: redis unavailable, asking 3scale directly (${(e as Error).message})`);
            }
        }

        const outcome = await deps.threescale.authrep(token, { hits: 1 });
        if (outcome.kind === "authorized") {
            const appId = outcome.appId ?? "";
            if (cache && redisOk) {
                const usageField = formatUsageField({
                    hash,
                    limited: outcome.usageReports.length > 0,
                    uid: appId !== "" ? `a:${appId}` : `k:${sealer.seal(token)}`,
                });
                await withTimeout(cache.storeAllowed(hash, { plan: outcome.plan, appId, usageField }), redisBound, "redis store")
                    .catch((e: Error) => log(`authorizer: could not cache a decision (${e.message})`));
            }
            return allow(methodArn, hash, outcome.plan, appId, "3scale");
        }
        if (outcome.kind === "denied") {
            if (cache && redisOk) {
                await withTimeout(cache.storeDenied(hash, outcome.reason), redisBound, "redis store")
                    .catch((e: Error) => log(`authorizer: could not cache a denial (${e.message})`));
            }
            return deny(methodArn, hash, outcome.appId ?? "", outcome.reason, "3scale");
        }

        log(`authorizer: 3scale failed (${outcome.code}: ${outcome.reason}); failure mode ${s.failureMode}`);
        if (s.failureMode !== "strict" && stale) {
            // The last known answer: kept for the stale TTL (allowed) or the negative TTL (denied).
            if (!stale.allowed) return deny(methodArn, hash, stale.appId, stale.reason, "stale");
            await countUnseenHit(stale.usageField);
            return allow(methodArn, hash, stale.plan, stale.appId, "stale");
        }
        if (s.failureMode === "allow") {
            // Nothing known about this key: the routes of an unknown plan.
            await countUnseenHit(formatUsageField({ hash, limited: true, uid: `k:${sealer.seal(token)}` }));
            return allow(methodArn, hash, "", "", "fail-open");
        }
        return deny(methodArn, hash, "", `3scale unavailable: ${outcome.code}`, "fail-closed");
    };
}

/**
 * The Lambda entry point factory (pass as `callbackFactory`): reads the settings and
 * creates the Redis client, 3scale client and SNS publisher once per container.
 */
export function createAuthorizerHandler(env: Environment = process.env): AuthorizerHandler {
    const settings = settingsFromEnvironment(env);
    const metrics = createMetrics(env);
    return instrumentAuthorizer(createAuthorizer({
        settings,
        redis: settings.redis.host !== "" ? createRedisClient(settings.redis) : undefined,
        threescale: timeThreescale(createThreescaleClient(settings.threescale), metrics),
        publisher: settings.usageTopicArn !== "" ? createSnsPublisher(settings.usageTopicArn) : undefined,
    }), metrics, UNAUTHORIZED);
}
