// The API Gateway Lambda authorizer, TOKEN or REQUEST (DESIGN.md section 5).
//   credential (user_key, app_id + app_key, or a verified JWT) -> reject missing or malformed,
//   and a method ARN that is not this stage's (401) -> Redis lookup (one script: decision, route, limits, count)
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
import type { APIGatewayAuthorizerResult, Context } from "aws-lambda";
import type { Redis } from "ioredis";
import { buildPolicy, parseMethodArn, routeGrant, routesForPlan } from "./access-policy";
import { AuthorizerEvent, Credential, credentialText, CredentialSettings, extractCredential, UNAUTHORIZED, wholeValue } from "./credentials";
import { createJwtVerifier, JwtRefused, JwtVerifier } from "./jwt";
import { createDecisionCache, HitsLeft, RouteGrant, SpilledHit } from "./decision-cache";
import { appUid, isKeyOnlyUid, minuteOf, sealIdentity, tokenHash, usageField } from "./keys";
import { createLastKnownDecisions, LastKnownDecisions } from "./last-known-decisions";
import { createMetrics, DECISION_SOURCES, instrumentAuthorizer, timeThreescale } from "./metrics";
import { createRedisClient, redisUsable, withTimeout } from "./redis-client";
import { createKeySealer, KeySealer } from "./sealed-key";
import { createSecretsReader, PairSecrets, SecretsReader } from "./secrets";
import { AuthorizerSettings, DeployedSettings, Environment, NUDGE_WAIT_MS, settingsFromEnvironment, withSecrets } from "./settings";
import { createThreescaleClient, Identity, refusesCredential, ThreescaleClient, ThreescaleClientOptions, UsageReport } from "./threescale";
import { createSnsPublisher, UsagePublisher } from "./usage";

export { UNAUTHORIZED };

/** Where an answer came from, passed to the backend in the context. */
export type DecisionSource = (typeof DECISION_SOURCES)[number];

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
    /** Verifies JWTs (credentials jwt); created from `settings.jwt` when not given. */
    verifyJwt?: JwtVerifier;
    /** The container's last known decisions (resilient and allow modes); made here when not given. */
    lastKnown?: LastKnownDecisions;
    /** Hits served before the secrets were read (allow mode), to hold with the others. */
    unsealedHits?: UnsealedHit[];
    now?: () => number;
    log?: (message: string) => void;
}

/** Only awsRequestId is read from the Lambda context: it names the invocation a hit belongs to. */
export type AuthorizerHandler = (event: AuthorizerEvent, context?: Pick<Context, "awsRequestId">) => Promise<APIGatewayAuthorizerResult>;


/**
 * A reason as the gateway response template embeds it between quotes ("reason":"$context.authorizer.reason"):
 * no quote, backslash or control character, at most 200 characters.
 */
export function safeReason(reason: string): string {
    return reason.replace(/["\\\u0000-\u001f]/g, "'").slice(0, 200);
}

/** 3scale's limits on hits, as the ledger keeps them: "period,max,endMs,current;..." (endMs -1: eternity). */
export function limitsField(reports: UsageReport[]): string {
    return hitsReports(reports).map((r) => `${r.period},${r.maxValue},${r.endMs ?? -1},${r.currentValue}`).join(";");
}

/** The clean baseline a report in doubt is reconciled against: "period,startMs,endMs,current;...". */
export function baselineField(reports: UsageReport[]): string {
    return hitsReports(reports).map((r) => `${r.period},${r.startMs ?? -1},${r.endMs ?? -1},${r.currentValue}`).join(";");
}

/**
 * What the context tells a backend about the application's limits: hits left under the tightest
 * limit and seconds until it resets, -1 for none (apisonator's limit_headers convention).
 */
export const NO_LIMIT = { limitRemaining: -1, limitReset: -1 } as const;

/** The tightest limit of 3scale's figures after one more hit, as the lookup script picks it (the longer period on a tie). */
export function tightestLimit(reports: UsageReport[]): HitsLeft {
    let best: HitsLeft = { left: -1, endMs: -1 };
    for (const r of hitsReports(reports)) {
        const left = r.maxValue - r.currentValue - 1;
        const endMs = r.endMs ?? -1;
        const longer = endMs < 0 || (best.endMs >= 0 && endMs > best.endMs);
        if (best.left < 0 || left < best.left || (left === best.left && longer)) best = { left: Math.max(left, 0), endMs };
    }
    return best;
}

/** Only limits on `hits` matter: api-ring reports hits only, and apisonator checks the limits of the metrics in the usage. */
function hitsReports(reports: UsageReport[]): UsageReport[] {
    return reports.filter((r) => r.metric === "hits" && (r.period === "eternity" || r.endMs !== undefined));
}

/** Who API Gateway sees as the caller: the application, or a prefix of the credential's hash when 3scale named none. */
function principalOf(appId: string, hash: string): string {
    return appId !== "" ? appId : `key-${hash.slice(0, 16)}`;
}

/** `retryAfter`: whole seconds as text until a limits denial lifts, "" when no wait helps (the gateway response's Retry-After). */
function deny(methodArn: string, hash: string, appId: string, reason: string, source: DecisionSource, plan = "", retryAfter = ""): APIGatewayAuthorizerResult {
    return buildPolicy({ methodArn, principalId: principalOf(appId, hash), routes: undefined, context: { plan, appId, source, reason: safeReason(reason), retryAfter } });
}

/** Exactly the requested method and resource (allow mode, nothing known about the credential). */
function allowRequested(methodArn: string, hash: string): APIGatewayAuthorizerResult {
    return {
        principalId: principalOf("", hash),
        policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: [methodArn] }] },
        context: { plan: "", appId: "", source: "fail-open", ...NO_LIMIT },
    };
}

/** Refuses (Unauthorized) a method ARN that does not parse or is not of this stage ("" : any). */
function checkMethodArn(methodArn: string, stage: string, log: (m: string) => void): void {
    try {
        const arn = parseMethodArn(methodArn);
        if (stage === "" || arn.stage === stage) return;
        log(`authorizer: method ARN of stage ${arn.stage}, not ${stage}: refused`);
    } catch (e) {
        log(`authorizer: ${(e as Error).message}: refused`);
    }
    throw new Error(UNAUTHORIZED);
}

/** Who the caller is, as 3scale knows it: a JWT is verified first and names the application by a claim. */
async function identityOf(credential: Credential, verifyJwt: JwtVerifier | undefined, log: (m: string) => void): Promise<Identity> {
    switch (credential.kind) {
        case "user_key": return { userKey: credential.userKey };
        case "app_id_app_key": return { appId: credential.appId, appKey: credential.appKey };
        case "jwt": {
            if (!verifyJwt) throw new Error(UNAUTHORIZED);
            try {
                return { appId: (await verifyJwt(credential.token)).appId };
            } catch (e) {
                log(`authorizer: JWT refused (${e instanceof JwtRefused ? e.reason : (e as Error).message})`);
                throw new Error(UNAUTHORIZED);
            }
        }
    }
}

/** A hit served before the container could read its secrets (allow mode): sealed and held once it can. */
export interface UnsealedHit {
    invocationId: string;
    minute: number;
    identity: Identity;
}

/** The handler, and how many hits it holds for Redis (counted in this container while Redis did not answer). */
export type CountingAuthorizer = AuthorizerHandler & { heldHits(): number };

export function createAuthorizer(deps: AuthorizerDeps): CountingAuthorizer {
    const s = deps.settings;
    const now = deps.now ?? Date.now;
    const log = deps.log ?? ((m: string) => console.warn(m));
    const credentialSettings: CredentialSettings = { ...s.credentials, tokenPattern: s.tokenPattern };
    const pattern = wholeValue(s.tokenPattern);
    const verifyJwt: JwtVerifier | undefined = s.jwt ? (deps.verifyJwt ?? createJwtVerifier(s.jwt)) : undefined;
    const sealer = deps.sealer ?? createKeySealer(s.threescale.serviceToken, s.threescale.serviceId);
    const redis = deps.redis;
    const cache = redis ? createDecisionCache(redis, { ...s, serviceId: s.threescale.serviceId }, now) : undefined;
    // Own bound on top of ioredis' commandTimeout (covers connection setup too).
    const redisBound = Math.max(1, s.redis.timeoutMs);
    // A counting script must run this long before the bound ends, so its reply can still arrive
    // in time (network and clock skew between Lambda and ElastiCache: well under a millisecond).
    const deadlineMargin = Math.min(50, Math.floor(redisBound / 3));
    // Per handler: each container (and each test) has its own.
    const spilled: SpilledHit[] = [];
    const spilledByUid = new Map<string, number>();
    // What this container last learned of each application's limits: hits left after its last count (-1: none).
    const hitsLeft = new Map<string, HitsLeft>();
    const grants = new Map<string, RouteGrant>();
    let replaying: Promise<void> | undefined;
    // The last decision learned per credential hash, for when neither 3scale nor Redis can answer (item 7);
    // strict never falls back on one, so it keeps none.
    const lastKnown = s.failureMode === "strict" ? undefined : (deps.lastKnown ?? createLastKnownDecisions(now));
    const staleMs = s.staleTtlSeconds * 1000;
    // A cached decision was confirmed by 3scale at most the cache TTL ago, so Redis keeps it at least this much longer.
    const cachedStaleMs = Math.max(0, staleMs - s.cacheTtlSeconds * 1000);

    const useRedis = (): boolean => redis !== undefined && redisUsable(redis);
    // Against Redis's own clock (TIME), so always the real clock, never an injected one.
    const deadline = (): number => Date.now() + redisBound - deadlineMargin;

    /**
     * The route grant of a method ARN of this stage, kept per ARN (so a cache hit parses nothing);
     * any other ARN is refused before any I/O.
     */
    const grantFor = (event: AuthorizerEvent): { methodArn: string; grant: RouteGrant } => {
        const methodArn = event?.methodArn;
        let grant = grants.get(methodArn);
        if (!grant) {
            checkMethodArn(methodArn, s.stage, log);
            if (grants.size >= 1000) grants.clear();
            grant = routeGrant(methodArn, s.planRoutes, s.defaultRoutes);
            grants.set(methodArn, grant);
        }
        return { methodArn, grant };
    };
    const planGrants = (plan: string, grant: RouteGrant): boolean =>
        grant.granting.includes(plan) || (!grant.known.includes(plan) && grant.defaultGrants);

    const remember = (uid: string, hits: HitsLeft): void => {
        if (hitsLeft.size >= 10_000) hitsLeft.clear();
        hitsLeft.set(uid, hits);
    };
    /** Whole seconds until `at` (ms); -1 for never. */
    const secondsUntil = (at: number): number => (at < 0 ? -1 : Math.max(0, Math.ceil((at - now()) / 1000)));
    /** A limits denial's retry time for the context: seconds as text, "" when no wait helps (a period that never ends, or unknown). */
    const retryAfterOf = (retryAt: number | undefined): string => (retryAt !== undefined && retryAt > 0 ? String(secondsUntil(retryAt)) : "");

    /**
     * Wakes the reporter, at most once per window (the lookup script decides). The decision waits a
     * few milliseconds at most: an SNS that hangs or fails costs that, once per window, and the
     * window is not given back, so the next request does not try again; the schedule flushes.
     */
    const nudge = async (): Promise<void> => {
        if (!deps.publisher) return;
        const reason = s.usageWindowSeconds === 0 ? "request" : "window";
        const publishing = deps.publisher.publish({ serviceId: s.threescale.serviceId, reason, at: new Date(now()).toISOString() })
            .catch((e: Error) => log(`authorizer: usage nudge failed (${e.message}); the schedule flushes`));
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([publishing, new Promise<void>((resolve) => (waited = setTimeout(resolve, NUDGE_WAIT_MS)))]);
        clearTimeout(waited);
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
    for (const h of deps.unsealedHits ?? []) {
        spill({ invocationId: h.invocationId, target: "unconfirmed", field: usageField(h.minute, sealIdentity(sealer, h.identity)), uid: "" });
    }

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

    // A cache hit answers the same policy for the same route, plan and application again and again:
    // built once per container (bounded), so the hot path allocates no policy per request.
    const policies = new Map<string, APIGatewayAuthorizerResult>();
    const allow = (methodArn: string, hash: string, plan: string, appId: string, source: DecisionSource, hits?: HitsLeft): APIGatewayAuthorizerResult => {
        const principalId = principalOf(appId, hash);
        const key = `${methodArn}\n${plan}\n${principalId}\n${source}`;
        let result = policies.get(key);
        if (result === undefined) {
            if (policies.size >= 10_000) policies.clear();
            result = buildPolicy({ methodArn, principalId, routes: routesForPlan(plan === "" ? undefined : plan, s.planRoutes, s.defaultRoutes), context: { plan, appId, source, ...NO_LIMIT } });
            policies.set(key, result);
        }
        // Only a limited application's answer changes per request: two small copies, nothing rebuilt.
        if (hits === undefined || hits.left < 0) return result;
        return { ...result, context: { ...result.context, limitRemaining: hits.left, limitReset: secondsUntil(hits.endMs) } };
    };
    /** A denial; a limits denial carries when to retry. */
    const denyUntil = (methodArn: string, hash: string, appId: string, reason: string, source: DecisionSource, plan: string, retryAt: number | undefined): APIGatewayAuthorizerResult =>
        deny(methodArn, hash, appId, reason, source, plan, retryAfterOf(retryAt));
    const appIdOf = (uid: string): string => (isKeyOnlyUid(uid) ? "" : uid);

    /**
     * Counts a hit 3scale could not answer for (a stale decision, or allow mode). In Redis when it
     * answers in time, else in this container. Returns a denial (reason, and when a limit resets)
     * when it cannot be counted, else what is left of the application's limits.
     */
    const countUnseen = async (target: "pending" | "unconfirmed", who: string, uid: string, invocationId: string): Promise<{ refused: string; retryAt?: number } | { hits?: HitsLeft }> => {
        const field = usageField(minuteOf(now()), who);
        if (cache && useRedis()) {
            try {
                const r = await withTimeout(cache.countHit(target, field, uid, deadline(), target === "unconfirmed" ? MAX_UNCONFIRMED_CREDENTIALS : 0), redisBound, "redis count");
                if (r.kind === "counted") {
                    if (uid !== "") remember(uid, r);
                    if (r.publish) await nudge();
                    return { hits: r };
                }
                if (r.kind === "limited") return { refused: REASONS.limits, retryAt: r.retryAt };
                if (r.kind === "full") return { refused: REASONS.uncounted };
            } catch (e) {
                log(`authorizer: Redis did not take a hit in time (${(e as Error).message}); this container keeps it`);
            }
        }
        let hits: HitsLeft | undefined;
        if (uid !== "") {
            const known = hitsLeft.get(uid);
            if (known && known.left >= 0) {
                const left = known.left - (spilledByUid.get(uid) ?? 0);
                if (left < 1) return { refused: REASONS.limits, retryAt: known.endMs };
                hits = { left: left - 1, endMs: known.endMs };
            }
        }
        return spill({ invocationId, target, field, uid }) ? { hits } : { refused: REASONS.uncounted };
    };


    const handler: AuthorizerHandler = async (event, context) => {
        const credential = extractCredential(event, credentialSettings, pattern);
        const { methodArn, grant } = grantFor(event);
        // A JWT is verified on every request (signature and exp), so no cached decision outlives the token.
        const identity = await identityOf(credential, verifyJwt, log);
        const hash = tokenHash(credentialText(credential));
        const invocationId = context?.awsRequestId || randomUUID();
        replay();

        let stale: { plan: string; uid: string } | undefined;
        let epoch: string | undefined; // set when the lookup answered: Redis takes this request's writes
        let settled = "";
        if (cache && useRedis()) {
            try {
                const at = now();
                const r = await withTimeout(cache.lookup(hash, minuteOf(at), deadline(), grant), redisBound, "redis lookup");
                switch (r.kind) {
                    case "counted":
                        remember(r.uid, r);
                        lastKnown?.confirm(hash, r.plan, r.uid, at + cachedStaleMs);
                        if (r.publish) await nudge();
                        return allow(methodArn, hash, r.plan, appIdOf(r.uid), "cache", r);
                    case "denied":
                        lastKnown?.remember(hash, { allowed: false, reason: r.reason, until: at + staleMs });
                        return denyUntil(methodArn, hash, "", r.reason, "cache", "", r.retryAt);
                    case "route":
                        lastKnown?.confirm(hash, r.plan, r.uid, at + cachedStaleMs);
                        return deny(methodArn, hash, appIdOf(r.uid), REASONS.route, "cache", r.plan);
                    case "limited":
                        lastKnown?.confirm(hash, r.plan, r.uid, at + cachedStaleMs);
                        return denyUntil(methodArn, hash, appIdOf(r.uid), REASONS.limits, "cache", r.plan, r.retryAt);
                    case "late": throw new Error("redis ran the lookup after its deadline");
                    case "stale": stale = { plan: r.plan, uid: r.uid }; epoch = r.epoch; settled = r.uid === "" ? "" : r.settled; break;
                    case "miss": epoch = r.epoch; break;
                }
            } catch (e) {
                log(`authorizer: redis unavailable, asking 3scale directly (${(e as Error).message})`);
            }
        }

        // Without a cache at all, 3scale counts each request itself (authrep); the plan, and so the
        // route check, is known only from its answer.
        const outcome = cache ? await deps.threescale.authorize(identity, { hits: 1 }) : await deps.threescale.authrep(identity, { hits: 1 });
        if (outcome.kind === "authorized") {
            lastKnown?.remember(hash, { allowed: true, plan: outcome.plan, uid: appUid(outcome.appId, hash), until: now() + staleMs });
        } else if (outcome.kind === "denied") {
            lastKnown?.remember(hash, { allowed: false, reason: outcome.reason, until: now() + staleMs });
        }
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
                    if (stored.kind === "limited") return denyUntil(methodArn, hash, appId, REASONS.limits, "3scale", outcome.plan, stored.retryAt);
                    if (stored.kind === "counted") {
                        remember(uid, stored);
                        if (stored.publish) await nudge();
                        return allow(methodArn, hash, outcome.plan, appId, "3scale", stored);
                    }
                    return granted ? allow(methodArn, hash, outcome.plan, appId, "3scale") : deny(methodArn, hash, appId, REASONS.route, "3scale", outcome.plan);
                } catch (e) {
                    log(`authorizer: could not cache a decision (${(e as Error).message})`);
                }
            }
            if (!granted) return deny(methodArn, hash, appId, REASONS.route, "3scale", outcome.plan);
            // Redis did not take the hit: count it here. 3scale's figures leave out what is still
            // unreported, so also keep within what this container last knew was left.
            const tightest = tightestLimit(reports);
            const fromThreescale = tightest.left < 0 ? Infinity : tightest.left + 1;
            const known = hitsLeft.get(uid)?.left ?? -1;
            const left = Math.min(fromThreescale, known >= 0 ? known : Infinity) - (spilledByUid.get(uid) ?? 0);
            if (left < 1) return denyUntil(methodArn, hash, appId, REASONS.limits, "3scale", outcome.plan, tightest.endMs);
            const confirmed = { credential: sealIdentity(sealer, identity), at: now() };
            if (!spill({ invocationId, target: "pending", field: usageField(minuteOf(now()), uid), uid, confirmed })) {
                return deny(methodArn, hash, appId, REASONS.uncounted, "3scale", outcome.plan);
            }
            return allow(methodArn, hash, outcome.plan, appId, "3scale", Number.isFinite(left) ? { left: left - 1, endMs: tightest.endMs } : undefined);
        }
        if (outcome.kind === "denied") {
            // 3scale's limit_headers say when the exhausted limit resets, on its own clock.
            const reset = outcome.code === "limits_exceeded" ? outcome.limit?.reset ?? -1 : -1;
            const retryAt = reset >= 0 ? now() + reset * 1000 : 0;
            if (cache && epoch !== undefined) {
                await withTimeout(cache.storeDenied(hash, deadline(), outcome.reason, refusesCredential(outcome), retryAt), redisBound, "redis store")
                    .catch((e: Error) => log(`authorizer: could not cache a denial (${e.message})`));
            }
            return denyUntil(methodArn, hash, outcome.appId ?? "", outcome.reason, "3scale", outcome.plan ?? "", retryAt);
        }

        log(`authorizer: 3scale failed (${outcome.code}: ${outcome.reason}); failure mode ${s.failureMode}`);
        // The last known answer: Redis's (kept for the stale TTL), else this container's (Redis down or
        // without it); its application's local limits still apply.
        const known = stale ?? lastKnown?.recall(hash);
        if (known !== undefined && "reason" in known) return deny(methodArn, hash, "", known.reason, "stale");
        if (s.failureMode !== "strict" && known !== undefined) {
            const appId = appIdOf(known.uid);
            if (!planGrants(known.plan, grant)) return deny(methodArn, hash, appId, REASONS.route, "stale", known.plan);
            const counted = await countUnseen("pending", known.uid, known.uid, invocationId);
            if ("refused" in counted) return denyUntil(methodArn, hash, appId, counted.refused, "stale", known.plan, counted.retryAt);
            return allow(methodArn, hash, known.plan, appId, "stale", counted.hits);
        }
        if (s.failureMode === "allow") {
            // Nothing known about this credential: the requested route, as APIcast's allow mode lets the
            // request through. 3scale never confirmed the credential, so its hits are kept apart and
            // reported only once 3scale confirms it (usage.ts).
            const counted = await countUnseen("unconfirmed", sealIdentity(sealer, identity), "", invocationId);
            if ("refused" in counted) return deny(methodArn, hash, "", counted.refused, "fail-open");
            return allowRequested(methodArn, hash);
        }
        return deny(methodArn, hash, "", `3scale unavailable: ${outcome.code}`, "fail-closed");
    };
    return Object.assign(handler, { heldHits: () => spilled.length });
}

/**
 * How a container answers before it has read its secrets (the store unreachable at cold start): it can
 * reach neither 3scale nor Redis, so as both down with nothing known. strict and resilient deny
 * (fail-closed); allow serves exactly the requested route and holds each hit, with the credential in
 * memory only, until the secrets arrive to seal it. A missing or malformed credential or method ARN is
 * still Unauthorized before any I/O.
 */
export function createAuthorizerWithoutSecrets(s: DeployedSettings, deps: { verifyJwt?: JwtVerifier; now: () => number; log: (m: string) => void }):
    AuthorizerHandler & { takeHeld(): UnsealedHit[] } {
    const credentialSettings: CredentialSettings = { ...s.credentials, tokenPattern: s.tokenPattern };
    const pattern = wholeValue(s.tokenPattern);
    let held: UnsealedHit[] = [];
    const handler: AuthorizerHandler = async (event, context) => {
        const credential = extractCredential(event, credentialSettings, pattern);
        const methodArn = event?.methodArn;
        checkMethodArn(methodArn, s.stage, deps.log);
        const identity = await identityOf(credential, deps.verifyJwt, deps.log);
        const hash = tokenHash(credentialText(credential));
        // The reason reaches the client: what failed, not where (the log names the parameter and the cause).
        if (s.failureMode !== "allow") return deny(methodArn, hash, "", "3scale unavailable: secrets_unavailable", "fail-closed");
        if (held.length >= MAX_SPILLED_HITS) return deny(methodArn, hash, "", REASONS.uncounted, "fail-open");
        held.push({ invocationId: context?.awsRequestId || randomUUID(), minute: minuteOf(deps.now()), identity });
        return allowRequested(methodArn, hash);
    };
    return Object.assign(handler, {
        takeHeld: () => {
            const taken = held;
            held = [];
            return taken;
        },
    });
}

/** What the local run (and tests) give the entry point besides the environment. */
export interface AuthorizerEntryOptions {
    /** In place of the SNS publisher the environment names (the local run delivers in-process). */
    publisher?: UsagePublisher;
    /** In place of the reader of the parameters the environment names (the cold-start bench times a start without the read). */
    secrets?: SecretsReader;
    threescale?: ThreescaleClientOptions;
    now?: () => number;
    log?: (message: string) => void;
}

/**
 * The Lambda entry point factory (the archive's index.js calls it once per container): reads the settings;
 * the first invocation reads the secrets (the extension that serves them is not ready before: secrets.ts),
 * and once they are read creates the Redis client, 3scale client and SNS publisher. Until then (the store unreachable) it answers as createAuthorizerWithoutSecrets says, and
 * tries the store again after its back-off.
 */
export function createAuthorizerHandler(env: Environment = process.env, options: AuthorizerEntryOptions = {}): AuthorizerHandler & { close(): void } {
    const deployed = settingsFromEnvironment(env);
    const metrics = createMetrics(env);
    const now = options.now ?? Date.now;
    const log = options.log ?? ((m: string) => console.warn(m));
    const secrets = options.secrets ?? createSecretsReader(deployed.secretParameters, { env, now, log });
    const verifyJwt = deployed.jwt ? createJwtVerifier(deployed.jwt) : undefined;
    const withoutSecrets = createAuthorizerWithoutSecrets(deployed, { verifyJwt, now, log });
    let redis: Redis | undefined;
    const start = (got: PairSecrets): AuthorizerHandler => {
        const settings = withSecrets(deployed, got);
        redis = settings.redis.host !== "" ? createRedisClient(settings.redis) : undefined;
        return createAuthorizer({
            settings,
            redis,
            threescale: timeThreescale(createThreescaleClient(settings.threescale, options.threescale), metrics),
            publisher: options.publisher ?? (settings.usageTopicArn !== "" ? createSnsPublisher(settings.usageTopicArn) : undefined),
            verifyJwt,
            unsealedHits: withoutSecrets.takeHeld(),
            now,
            log,
        });
    };
    // Until the secrets are read, each request asks for them (bounded, shared, backed off); then the real
    // authorizer answers directly, with nothing in between on the hot path.
    let current: AuthorizerHandler = async (event, context) => {
        let got: PairSecrets;
        try {
            got = await secrets.get();
        } catch {
            return withoutSecrets(event, context);
        }
        if (current === bootstrapping) current = start(got);
        return current(event, context);
    };
    const bootstrapping = current;
    // Lambda never closes a container; the local run does, and its Redis client must go with it.
    return Object.assign(instrumentAuthorizer<Parameters<AuthorizerHandler>>((event, context) => current(event, context), metrics, UNAUTHORIZED), { close: () => redis?.disconnect() });
}
