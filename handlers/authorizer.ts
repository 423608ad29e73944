// The API Gateway TOKEN authorizer (DESIGN.md section 5).
//   token -> reject malformed (401) -> Redis lookup (one script: decision, route, limits, count)
//   -> fresh hit: the cached answer, the hit counted unless the route is outside the plan or
//      the application's limits are used up
//   -> miss or stale: 3scale authorize.xml (never counts) -> cache the decision, sync the
//      application's limits, count the hit (one script) | cache the denial
//   -> 3scale failing: the failure mode decides; Redis not answering: straight to 3scale, and
//      the hit is counted in this container until Redis answers again.
// Every allowed request is counted exactly once, in Redis, and reported from there; nothing
// denied is counted. A script that Redis runs after the authorizer stopped waiting for it counts
// nothing (decision-cache.ts), so a stalled Redis never adds a count to one made elsewhere.
// Routes are derived from the cached plan with the current config at every request,
// so a change of the plan -> routes map applies at once, without waiting for the TTL.
import { randomUUID } from "crypto";
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent, Context } from "aws-lambda";
import type { Redis } from "ioredis";
import { buildPolicy, routeGrant, routesForPlan } from "./access-policy";
import { createDecisionCache, RouteGrant, SpilledHit } from "./decision-cache";
import { appUid, isKeyOnlyUid, minuteOf, sealIdentity, tokenHash, usageField } from "./keys";
import { createMetrics, instrumentAuthorizer, timeThreescale } from "./metrics";
import { createRedisClient, redisUsable, withTimeout } from "./redis-client";
import { createKeySealer, KeySealer } from "./sealed-key";
import { AuthorizerSettings, Environment, settingsFromEnvironment } from "./settings";
import { createThreescaleClient, Identity, ThreescaleClient, UsageReport } from "./threescale";
import { createSnsPublisher, UsagePublisher } from "./usage";

export const MAX_TOKEN_BYTES = 512;

/** API Gateway turns exactly this error message into a 401. */
export const UNAUTHORIZED = "Unauthorized";

/** Where an answer came from, passed to the backend in the context. */
export type DecisionSource = "cache" | "3scale" | "stale" | "fail-open" | "fail-closed";

/** Denial reasons the authorizer itself gives (3scale's own are passed on as they come). */
export const REASONS = {
    route: "route not in plan",
    limits: "usage limits are exceeded",
    uncounted: "usage cannot be counted",
};

/** Hits one container may hold while Redis does not answer; past it, requests are denied rather than served uncounted. */
export const MAX_SPILLED_HITS = 50_000;

/** Distinct unconfirmed credentials (allow mode) the service keeps counts for; past it they are denied. */
export const MAX_UNCONFIRMED_CREDENTIALS = 100_000;

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

/** Only awsRequestId is read from the Lambda context: it names the invocation a hit belongs to. */
export type AuthorizerHandler = (event: APIGatewayTokenAuthorizerEvent, context?: Pick<Context, "awsRequestId">) => Promise<APIGatewayAuthorizerResult>;

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

/** 3scale's limits on hits, as the ledger keeps them: "period,max,endMs,current;..." (endMs -1: eternity). */
export function limitsField(reports: UsageReport[]): string {
    return hitsReports(reports).map((r) => `${r.period},${r.maxValue},${r.endMs ?? -1},${r.currentValue}`).join(";");
}

/** The clean baseline a report in doubt is reconciled against: "period,startMs,endMs,current;...". */
export function baselineField(reports: UsageReport[]): string {
    return hitsReports(reports).map((r) => `${r.period},${r.startMs ?? -1},${r.endMs ?? -1},${r.currentValue}`).join(";");
}

/** Only limits on `hits` matter: api-ring reports hits only, and apisonator checks the limits of the metrics in the usage. */
function hitsReports(reports: UsageReport[]): UsageReport[] {
    return reports.filter((r) => r.metric === "hits" && (r.period === "eternity" || r.endMs !== undefined));
}

/** What this container last learned about an application's limits: hits left after the last count. */
interface KnownApp {
    left: number;
}

/** The handler, and how many hits it holds for Redis (counted in this container while Redis did not answer). */
export type CountingAuthorizer = AuthorizerHandler & { heldHits(): number };

export function createAuthorizer(deps: AuthorizerDeps): CountingAuthorizer {
    const s = deps.settings;
    const now = deps.now ?? Date.now;
    const log = deps.log ?? ((m: string) => console.warn(m));
    const pattern = tokenRegExp(s.tokenPattern);
    const sealer = deps.sealer ?? createKeySealer(s.threescale.serviceToken, s.threescale.serviceId);
    const redis = deps.redis;
    const cache = redis ? createDecisionCache(redis, { ...s, serviceId: s.threescale.serviceId }, now) : undefined;
    // Own bound on top of ioredis' commandTimeout (covers connection setup too).
    const redisBound = Math.max(1, s.redis.timeoutMs);
    // A counting script must run this long before the bound ends, so its reply can still arrive
    // in time (network and clock skew between Lambda and ElastiCache: well under a millisecond).
    const deadlineMargin = Math.min(50, Math.floor(redisBound / 3));
    // Per container, created when the container starts (never module-level state: see closure.test.ts).
    const spilled: SpilledHit[] = [];
    const spilledByUid = new Map<string, number>();
    const knownApps = new Map<string, KnownApp>();
    const grants = new Map<string, RouteGrant>();
    let replaying: Promise<void> | undefined;

    const useRedis = (): boolean => redis !== undefined && redisUsable(redis);
    // Against Redis's own clock (TIME), so always the real clock, never an injected one.
    const deadline = (): number => Date.now() + redisBound - deadlineMargin;

    const grantFor = (methodArn: string): RouteGrant => {
        let grant = grants.get(methodArn);
        if (!grant) {
            if (grants.size >= 1000) grants.clear();
            grant = routeGrant(methodArn, s.planRoutes, s.defaultRoutes);
            grants.set(methodArn, grant);
        }
        return grant;
    };
    const planGrants = (plan: string, grant: RouteGrant): boolean =>
        grant.granting.includes(plan) || (!grant.known.includes(plan) && grant.defaultGrants);

    const remember = (uid: string, left: number): void => {
        if (knownApps.size >= 10_000) knownApps.clear();
        knownApps.set(uid, { left });
    };

    const nudge = async (): Promise<void> => {
        if (!deps.publisher) return;
        const reason = s.usageWindowSeconds === 0 ? "request" : "window";
        try {
            await withTimeout(deps.publisher.publish({ serviceId: s.threescale.serviceId, reason, at: new Date(now()).toISOString() }), s.threescale.timeoutMs, "usage nudge");
        } catch (e) {
            log(`authorizer: usage nudge failed (${(e as Error).message}); the next request or the schedule retries`);
            if (cache && reason === "window" && useRedis()) await withTimeout(cache.releaseWindow(), redisBound, "redis").catch(() => undefined);
        }
    };

    /** Holds a hit Redis did not take in time; false when the container already holds too many. */
    const spill = (hit: SpilledHit): boolean => {
        if (spilled.length >= MAX_SPILLED_HITS) {
            log(`authorizer: ${MAX_SPILLED_HITS} hits wait for Redis in this container; denying until it answers`);
            return false;
        }
        spilled.push(hit);
        if (hit.uid !== "") spilledByUid.set(hit.uid, (spilledByUid.get(hit.uid) ?? 0) + 1);
        return true;
    };

    /** Counts the hits this container held once Redis answers; a replayed invocation counts once. */
    const replay = (): void => {
        if (!cache || spilled.length === 0 || replaying || !useRedis()) return;
        const batch = spilled.slice(0, 500);
        replaying = withTimeout(cache.replayHits(batch), redisBound, "redis replay")
            .then(async ({ publish }) => {
                spilled.splice(0, batch.length);
                for (const h of batch) {
                    const n = (spilledByUid.get(h.uid) ?? 1) - 1;
                    if (n > 0) spilledByUid.set(h.uid, n);
                    else spilledByUid.delete(h.uid);
                }
                if (publish) await nudge();
            }, () => undefined)
            .finally(() => {
                replaying = undefined;
            });
    };

    const allow = (methodArn: string, hash: string, plan: string, appId: string, source: DecisionSource): APIGatewayAuthorizerResult =>
        buildPolicy({
            methodArn,
            principalId: appId !== "" ? appId : `key-${hash.slice(0, 16)}`,
            routes: routesForPlan(plan === "" ? undefined : plan, s.planRoutes, s.defaultRoutes),
            context: { plan, appId, source },
        });
    const deny = (methodArn: string, hash: string, appId: string, reason: string, source: DecisionSource, plan = ""): APIGatewayAuthorizerResult =>
        buildPolicy({
            methodArn,
            principalId: appId !== "" ? appId : `key-${hash.slice(0, 16)}`,
            routes: undefined,
            context: { plan, appId, source, reason },
        });
    const appIdOf = (uid: string): string => (isKeyOnlyUid(uid) ? "" : uid);

    /**
     * Counts a hit 3scale could not answer for (a stale decision, or allow mode). In Redis when it
     * answers in time, else in this container. Returns a denial reason when it cannot be counted.
     */
    const countUnseen = async (target: "pending" | "unconfirmed", who: string, uid: string, invocationId: string): Promise<string | undefined> => {
        const field = usageField(minuteOf(now()), who);
        if (cache && useRedis()) {
            try {
                const r = await withTimeout(cache.countHit(target, field, uid, deadline(), target === "unconfirmed" ? MAX_UNCONFIRMED_CREDENTIALS : 0), redisBound, "redis count");
                if (r.kind === "counted") {
                    if (uid !== "") remember(uid, r.left);
                    if (r.publish) await nudge();
                    return undefined;
                }
                if (r.kind === "limited") return REASONS.limits;
                if (r.kind === "full") return REASONS.uncounted;
            } catch (e) {
                log(`authorizer: Redis did not take a hit in time (${(e as Error).message}); this container keeps it`);
            }
        }
        if (uid !== "") {
            const known = knownApps.get(uid);
            if (known && known.left >= 0 && known.left - (spilledByUid.get(uid) ?? 0) < 1) return REASONS.limits;
        }
        return spill({ invocationId, target, field, uid }) ? undefined : REASONS.uncounted;
    };

    const handler: AuthorizerHandler = async (event, context) => {
        const token = extractToken(event?.authorizationToken, pattern);
        const hash = tokenHash(token);
        const methodArn = event.methodArn;
        const invocationId = context?.awsRequestId || randomUUID();
        const grant = grantFor(methodArn);
        replay();

        let stale: { plan: string; uid: string } | undefined;
        let epoch: string | undefined; // set when the lookup answered: Redis takes this request's writes
        let settled = "";
        if (cache && useRedis()) {
            try {
                const r = await withTimeout(cache.lookup(hash, minuteOf(now()), deadline(), grant), redisBound, "redis lookup");
                switch (r.kind) {
                    case "counted":
                        remember(r.uid, r.left);
                        if (r.publish) await nudge();
                        return allow(methodArn, hash, r.plan, appIdOf(r.uid), "cache");
                    case "denied": return deny(methodArn, hash, "", r.reason, "cache");
                    case "route": return deny(methodArn, hash, appIdOf(r.uid), REASONS.route, "cache", r.plan);
                    case "limited": return deny(methodArn, hash, appIdOf(r.uid), REASONS.limits, "cache", r.plan);
                    case "late": throw new Error("redis ran the lookup after its deadline");
                    case "stale": stale = { plan: r.plan, uid: r.uid }; epoch = r.epoch; settled = r.uid === "" ? "" : r.settled; break;
                    case "miss": epoch = r.epoch; break;
                }
            } catch (e) {
                log(`authorizer: redis unavailable, asking 3scale directly (${(e as Error).message})`);
            }
        }

        const identity: Identity = { userKey: token };
        // Without a cache at all, 3scale counts each request itself (authrep); the plan, and so the
        // route check, is known only from its answer.
        const outcome = cache ? await deps.threescale.authorize(identity, { hits: 1 }) : await deps.threescale.authrep(identity, { hits: 1 });
        if (!cache && outcome.kind === "authorized") {
            const appId = appIdOf(appUid(outcome.appId, hash));
            return planGrants(outcome.plan, grant) ? allow(methodArn, hash, outcome.plan, appId, "3scale") : deny(methodArn, hash, appId, REASONS.route, "3scale", outcome.plan);
        }
        if (outcome.kind === "authorized") {
            const uid = appUid(outcome.appId, hash);
            const appId = appIdOf(uid);
            const granted = planGrants(outcome.plan, grant);
            const reports = hitsReports(outcome.usageReports);
            if (cache && epoch !== undefined) {
                try {
                    const stored = await withTimeout(cache.storeAllowed(hash, minuteOf(now()), deadline(), {
                        plan: outcome.plan,
                        uid,
                        limits: limitsField(reports),
                        baseline: baselineField(reports),
                        periodEnd: Math.min(Infinity, ...reports.map((r) => r.endMs ?? Infinity)),
                        sealedCredential: sealIdentity(sealer, identity),
                        epoch,
                        settled: stale?.uid === uid ? settled : "",
                        count: granted,
                    }), redisBound, "redis store");
                    if (stored.kind === "late") throw new Error("redis ran the store after its deadline");
                    if (stored.kind === "limited") return deny(methodArn, hash, appId, REASONS.limits, "3scale", outcome.plan);
                    if (stored.kind === "counted") {
                        remember(uid, stored.left);
                        if (stored.publish) await nudge();
                    }
                    return granted ? allow(methodArn, hash, outcome.plan, appId, "3scale") : deny(methodArn, hash, appId, REASONS.route, "3scale", outcome.plan);
                } catch (e) {
                    log(`authorizer: could not cache a decision (${(e as Error).message})`);
                }
            }
            if (!granted) return deny(methodArn, hash, appId, REASONS.route, "3scale", outcome.plan);
            // Redis did not take the hit: count it here. 3scale's figures leave out what is still
            // unreported, so also keep within what this container last knew was left.
            const fromThreescale = Math.min(Infinity, ...reports.map((r) => r.maxValue - r.currentValue));
            const known = knownApps.get(uid);
            const left = Math.min(fromThreescale, known && known.left >= 0 ? known.left : Infinity) - (spilledByUid.get(uid) ?? 0);
            if (left < 1) return deny(methodArn, hash, appId, REASONS.limits, "3scale", outcome.plan);
            const confirmed = { credential: sealIdentity(sealer, identity), at: now() };
            if (!spill({ invocationId, target: "pending", field: usageField(minuteOf(now()), uid), uid, confirmed })) {
                return deny(methodArn, hash, appId, REASONS.uncounted, "3scale", outcome.plan);
            }
            return allow(methodArn, hash, outcome.plan, appId, "3scale");
        }
        if (outcome.kind === "denied") {
            if (cache && epoch !== undefined) {
                const refuses = outcome.code === "user_key_invalid" || outcome.code === "application_not_found";
                await withTimeout(cache.storeDenied(hash, deadline(), outcome.reason, refuses), redisBound, "redis store")
                    .catch((e: Error) => log(`authorizer: could not cache a denial (${e.message})`));
            }
            return deny(methodArn, hash, outcome.appId ?? "", outcome.reason, "3scale", outcome.plan);
        }

        log(`authorizer: 3scale failed (${outcome.code}: ${outcome.reason}); failure mode ${s.failureMode}`);
        if (s.failureMode !== "strict" && stale) {
            // The last known answer, kept for the stale TTL; its application's local limits still apply.
            const appId = appIdOf(stale.uid);
            if (!planGrants(stale.plan, grant)) return deny(methodArn, hash, appId, REASONS.route, "stale", stale.plan);
            const refused = await countUnseen("pending", stale.uid, stale.uid, invocationId);
            if (refused) return deny(methodArn, hash, appId, refused, "stale", stale.plan);
            return allow(methodArn, hash, stale.plan, appId, "stale");
        }
        if (s.failureMode === "allow") {
            // Nothing known about this key: the routes of an unknown plan. 3scale never confirmed the
            // credential, so its hits are kept apart and reported only once 3scale confirms it (usage.ts).
            if (!grant.defaultGrants) return deny(methodArn, hash, "", REASONS.route, "fail-open");
            const refused = await countUnseen("unconfirmed", sealIdentity(sealer, identity), "", invocationId);
            if (refused) return deny(methodArn, hash, "", refused, "fail-open");
            return allow(methodArn, hash, "", "", "fail-open");
        }
        return deny(methodArn, hash, "", `3scale unavailable: ${outcome.code}`, "fail-closed");
    };
    return Object.assign(handler, { heldHits: () => spilled.length });
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
