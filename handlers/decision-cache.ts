// The decision cache and the hit count, in Redis. Every write the authorizer makes is one Lua
// script, so a cache hit is exactly one round trip.
//
// Decision, one hash per token at authz:v1:<serviceId>:<sha256(token)>:
//   a  "1" allowed / "0" denied        f  fresh-until (ms since epoch)
//   p  plan name                       id the application's ledger uid (keys.appUid)
//   r  denial reason (denied only)       ra when a limits denial's period ends (ms; 0 none, -1 never)
// An allowed decision is fresh for the cache TTL, or until the first of its limits' periods
// ends (a new period is read from 3scale), and the key lives for the stale TTL so the
// `resilient` mode can still read it; a denial lives for the negative TTL.
//
// Ledger, one hash per application at usage:v1:<serviceId>:app:<uid> (see usage.ts for the
// fields the reporter keeps):
//   L  the hits limits 3scale reported at the last sync: "period,max,endMs,current;..."
//      (endMs -1: eternity). What is left of a limit is max - current - n.
//   n  hits counted here since that sync, plus those not yet in 3scale at the sync
//   u  hits counted here and not yet known to be in 3scale (pending or in a report)
//   k  the credential 3scale confirmed, sealed (for the reporter's questions to 3scale)
//   t  when 3scale last confirmed the application (ms)   r  "1": refused by 3scale since
//   S  hits settled in 3scale so far (usage.ts)          Ss S at the last sync
//
// Counting is idempotent per invocation: a script that counts checks Redis's own clock against
// the deadline the authorizer gives it (its Redis bound minus a margin), so a script that Redis
// runs only after the authorizer stopped waiting (a stalled Redis wakes up) counts nothing;
// the authorizer then counts the hit elsewhere (replayHits), keyed by the invocation id.
import type { Redis } from "ioredis";
import { keys } from "./keys";
import { runScript, script } from "./lua";

/** The route check a script applies to a cached plan (see routeGrant in access-policy.ts). */
export interface RouteGrant {
    /** Plans of the config whose routes include the request. */
    granting: string[];
    /** Every plan of the config (a plan outside it gets the default routes). */
    known: string[];
    defaultGrants: boolean;
}

/**
 * What is left of an application's tightest limit on hits after a counted hit (apisonator's
 * limit_headers rule: the fewest hits left, the longer period on a tie): `left` -1 without limits;
 * `endMs` when that period ends, -1 for eternity.
 */
export interface HitsLeft {
    left: number;
    endMs: number;
}

/** A limit used up: `retryAt` is when the last exhausted period ends (ms), -1 when one never does (eternity). */
export interface LimitReached {
    retryAt: number;
}

/** What one lookup found and did. */
export type LookupResult =
    | { kind: "miss"; epoch: string }
    | { kind: "stale"; epoch: string; plan: string; uid: string; settled: string }
    | { kind: "denied"; reason: string; retryAt: number }
    | { kind: "route" | "late"; plan: string; uid: string }
    | ({ kind: "limited"; plan: string; uid: string } & LimitReached)
    | ({ kind: "counted"; plan: string; uid: string; publish: boolean } & HitsLeft);

export type StoreResult =
    | { kind: "late" | "stored" }
    | ({ kind: "limited" } & LimitReached)
    | ({ kind: "counted"; publish: boolean } & HitsLeft);

export type CountResult =
    | { kind: "late" | "full" }
    | ({ kind: "limited" } & LimitReached)
    | ({ kind: "counted"; publish: boolean } & HitsLeft);

export interface CacheSettings {
    serviceId: string;
    cacheTtlSeconds: number;
    negativeTtlSeconds: number;
    staleTtlSeconds: number;
    usageWindowSeconds: number;
}

/** An allowed answer from 3scale, to cache and to sync the application's ledger with. */
export interface AllowedDecision {
    plan: string;
    uid: string;
    /** "period,max,endMs,current;..." (limitsField). */
    limits: string;
    /** "period,startMs,endMs,current;..." (baselineField). */
    baseline: string;
    /** The earliest end of a limit's period (ms), Infinity without limits. */
    periodEnd: number;
    sealedCredential: string;
    /** The usage epoch the lookup before this 3scale call saw. */
    epoch: string;
    /** The application's settled count (ledger S) the lookup saw; "" when it knew no application. */
    settled: string;
    /** Count this request's hit (the plan grants the route). */
    count: boolean;
}

/** A hit counted outside Redis (Redis gave no answer in time), replayed once it answers. */
export interface SpilledHit {
    invocationId: string;
    /** "pending" for a confirmed application, "unconfirmed" for a credential 3scale never confirmed. */
    target: "pending" | "unconfirmed";
    field: string;
    /** The ledger to count it in ("" for unconfirmed usage). */
    uid: string;
    /**
     * When 3scale confirmed the application in this invocation: the sealed credential and the time,
     * so a ledger Redis lost meanwhile can be asked about with the credential the service takes.
     */
    confirmed?: { credential: string; at: number };
}

export interface DecisionCache {
    /** Reads the decision; on a fresh allowed one whose plan grants the route and whose limits leave room, counts the hit. */
    lookup(hash: string, minute: number, deadline: number, grant: RouteGrant): Promise<LookupResult>;
    /** Caches an allowed decision, syncs the ledger with 3scale's figures, and counts the hit when asked. */
    storeAllowed(hash: string, minute: number, deadline: number, d: AllowedDecision): Promise<StoreResult>;
    /** Caches a denial; `retryAt` (ms, else 0): when a limits denial's period ends. */
    storeDenied(hash: string, deadline: number, reason: string, refusesApplication: boolean, retryAt?: number): Promise<void>;
    /** Counts a hit 3scale did not answer for: in an application's ledger (stale decision) or as unconfirmed usage. */
    countHit(target: "pending" | "unconfirmed", field: string, uid: string, deadline: number, cap: number): Promise<CountResult>;
    /** Counts hits counted in the container while Redis did not answer; each invocation counts once. */
    replayHits(hits: SpilledHit[]): Promise<{ applied: number; publish: boolean }>;
    /** Gives the window back after a failed nudge so the next request tries again. */
    releaseWindow(): Promise<void>;
}

/** How long a replayed invocation id is remembered: longer than any replay can be late. */
export const COUNTED_TTL_SECONDS = 86_400;

/** How long an application's ledger outlives its last sync with 3scale. */
export const LEDGER_TTL_SECONDS = 7 * 86_400;

// Shared Lua pieces (composed into each script's source).
const LUA_IN_TIME = `
local function in_time(deadline)
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) <= tonumber(deadline)
end`;
// What is left of the tightest limit after `used` hits, and when its period ends (the longer
// period on a tie, as apisonator's limit_headers; -1: eternity); `ended`: a period is over (sync
// first), unless skip_ended (3scale cannot be asked: an ended period has no figure, so no limit).
// `retry`: when the last used-up period ends (-1: one never does).
const LUA_LIMIT_LEFT = `
local function later(a, b) return a < 0 or (b >= 0 and a > b) end
local function limit_left(L, used, now, skip_ended)
  local left, at, retry = nil, -1, nil
  for period, max, endms, x in string.gmatch(L or '', '([^,;]+),([^,;]+),([^,;]+),([^,;]+)') do
    local e = tonumber(endms)
    if e >= 0 and e <= now then
      if not skip_ended then return nil, true end
    else
      local l = tonumber(max) - tonumber(x) - used
      if left == nil or l < left or (l == left and later(e, at)) then left = l; at = e end
      if l < 1 and (retry == nil or later(e, retry)) then retry = e end
    end
  end
  return left, false, at, retry or 0
end`;
const LUA_OPEN_WINDOW = `
local function open_window(key, now, window)
  if tonumber(window) == 0 then return 1 end
  if redis.call('SET', key, now, 'NX', 'EX', window) then return 1 end
  return 0
end`;
const LUA_COUNT = `
local function count_hit(target, field, ledger)
  redis.call('HINCRBY', target, field, 1)
  if ledger then
    redis.call('HINCRBY', ledger, 'u', 1)
    redis.call('HINCRBY', ledger, 'n', 1)
  end
end`;

// KEYS: decision, pending, window, epoch. ARGV: now, deadline, window s, minute, ledger prefix,
// granting plans, known plans (each as "\n<plan>\n<plan>\n": see planList), default grants "1"/"0".
// The script of every cache hit: one round trip, and as few calls into Redis as it can make.
const LOOKUP = script(`${LUA_IN_TIME}${LUA_LIMIT_LEFT}${LUA_OPEN_WINDOW}${LUA_COUNT}
local now = tonumber(ARGV[1])
local d = redis.call('HMGET', KEYS[1], 'a', 'f', 'p', 'id', 'r', 'ra')
-- Read only by a miss or a stale answer, not on a cache hit (the script is atomic: same value).
local function epoch() return redis.call('GET', KEYS[4]) or '0' end
if not d[1] then return {'miss', epoch()} end
local fresh = tonumber(d[2] or '0') > now
if d[1] ~= '1' then
  if fresh then return {'denied', d[5] or '', d[6] or '0'} end
  return {'miss', epoch()}
end
local plan, uid = d[3] or '', d[4] or ''
local function stale() return {'stale', epoch(), plan, uid, redis.call('HGET', ARGV[5] .. uid, 'S') or '0'} end
if not fresh or uid == '' then return stale() end
local p = '\\n' .. plan .. '\\n'
if not (string.find(ARGV[6], p, 1, true) or (ARGV[8] == '1' and not string.find(ARGV[7], p, 1, true))) then return {'route', plan, uid} end
local ledger = ARGV[5] .. uid
local l = redis.call('HMGET', ledger, 'L', 'n')
local left, ended, at, retry = limit_left(l[1], tonumber(l[2] or '0'), now, false)
if ended then return stale() end
if left ~= nil and left < 1 then return {'limited', plan, uid, retry} end
if not in_time(ARGV[2]) then return {'late', plan, uid} end
count_hit(KEYS[2], ARGV[4] .. '|' .. uid, ledger)
return {'counted', plan, uid, open_window(KEYS[3], ARGV[1], ARGV[3]), left and (left - 1) or -1, at}
`);

// KEYS: decision, pending, window, epoch, ledger. ARGV: now, deadline, window s, minute, uid,
// plan, fresh-until, decision ttl s, limits, baseline, sealed credential, lookup epoch,
// count "1"/"0", ledger ttl s, the ledger's S at the lookup ("" when the lookup knew no application).
const STORE_ALLOWED = script(`${LUA_IN_TIME}${LUA_LIMIT_LEFT}${LUA_OPEN_WINDOW}${LUA_COUNT}
if not in_time(ARGV[2]) then return {'late'} end
local now = tonumber(ARGV[1])
if tonumber(ARGV[8]) > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'a', '1', 'f', ARGV[7], 'p', ARGV[6], 'id', ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[8])
end
local ledger = KEYS[5]
local u = tonumber(redis.call('HGET', ledger, 'u') or '0')
local f = tonumber(redis.call('HGET', ledger, 'f') or '0')
local S = tonumber(redis.call('HGET', ledger, 'S') or '0')
local same_epoch = (redis.call('GET', KEYS[4]) or '0') == ARGV[12]
-- 3scale's figures leave out what is still unreported here: count it as used since the sync.
-- Hits settled while 3scale was being asked may be missing from its figures too (a report it
-- took after answering, settled here before this store): count them as well.
local since = 0
if ARGV[15] ~= '' then since = S - tonumber(ARGV[15])
elseif not same_epoch then since = S - tonumber(redis.call('HGET', ledger, 'Ss') or '0') end
if since < 0 then since = 0 end
local used = u + since
redis.call('HSET', ledger, 'L', ARGV[9], 'n', used, 'k', ARGV[11], 't', ARGV[1], 'Ss', S)
redis.call('HDEL', ledger, 'r')
-- A clean baseline (no report in flight for this app, none sent or settled since the lookup, and
-- no report it witnesses unresolved) is what a report is later reconciled against (report-figures.ts).
if ARGV[10] ~= '' and f == 0 and same_epoch and not redis.call('HGET', ledger, 'w') then
  redis.call('HSET', ledger, 'C', ARGV[10])
  for period in string.gmatch(ARGV[10], '([^,;]+),[^,;]+,[^,;]+,[^;]+') do redis.call('HSET', ledger, 'ca:' .. period, 0) end
elseif ARGV[9] == '' then
  redis.call('HDEL', ledger, 'C')
end
redis.call('EXPIRE', ledger, ARGV[14])
if ARGV[13] ~= '1' then return {'stored'} end
local left, _, at, retry = limit_left(ARGV[9], used, now, true)
if left ~= nil and left < 1 then return {'limited', retry} end
count_hit(KEYS[2], ARGV[4] .. '|' .. ARGV[5], ledger)
return {'counted', open_window(KEYS[3], ARGV[1], ARGV[3]), left and (left - 1) or -1, at}
`);

// KEYS: decision. ARGV: deadline, fresh-until, ttl s, reason, ledger prefix, refuses the application "1"/"0", retry-at (ms, 0: none).
const STORE_DENIED = script(`${LUA_IN_TIME}
if not in_time(ARGV[1]) then return 0 end
if ARGV[6] == '1' then
  local old = redis.call('HGET', KEYS[1], 'id')
  if old and old ~= '' then redis.call('HSET', ARGV[5] .. old, 'r', '1') end
end
if tonumber(ARGV[3]) <= 0 then return 1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'a', '0', 'f', ARGV[2], 'r', ARGV[4], 'ra', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`);

// KEYS: target hash, window, ledger. ARGV: now, deadline, window s, field, use the ledger "1"/"0", cap (0: none).
const COUNT = script(`${LUA_IN_TIME}${LUA_LIMIT_LEFT}${LUA_OPEN_WINDOW}${LUA_COUNT}
local now = tonumber(ARGV[1])
local ledger = nil
local left, at, retry = nil, -1, 0
if ARGV[5] == '1' then
  ledger = KEYS[3]
  local _
  left, _, at, retry = limit_left(redis.call('HGET', ledger, 'L'), tonumber(redis.call('HGET', ledger, 'n') or '0'), now, true)
  if left ~= nil and left < 1 then return {'limited', retry} end
end
local cap = tonumber(ARGV[6])
if cap > 0 and redis.call('HEXISTS', KEYS[1], ARGV[4]) == 0 and redis.call('HLEN', KEYS[1]) >= cap then return {'full'} end
if not in_time(ARGV[2]) then return {'late'} end
count_hit(KEYS[1], ARGV[4], ledger)
return {'counted', open_window(KEYS[2], ARGV[1], ARGV[3]), left and (left - 1) or -1, at}
`);

// KEYS: pending, unconfirmed, window. ARGV: now, window s, counted ttl s, counted prefix, ledger
// prefix, then per hit: invocation id, "p"/"q", field, uid ("" for none), sealed credential and
// confirmation time ("" when 3scale did not confirm it in that invocation).
const REPLAY = script(`${LUA_OPEN_WINDOW}${LUA_COUNT}
local applied = 0
for i = 6, #ARGV, 6 do
  if redis.call('SET', ARGV[4] .. ARGV[i], '1', 'NX', 'EX', ARGV[3]) then
    local ledger = nil
    if ARGV[i + 3] ~= '' then ledger = ARGV[5] .. ARGV[i + 3] end
    count_hit(ARGV[i + 1] == 'p' and KEYS[1] or KEYS[2], ARGV[i + 2], ledger)
    if ledger and ARGV[i + 4] ~= '' then
      redis.call('HSETNX', ledger, 'k', ARGV[i + 4])
      redis.call('HSETNX', ledger, 't', ARGV[i + 5])
    end
    applied = applied + 1
  end
end
local publish = 0
if applied > 0 then publish = open_window(KEYS[3], ARGV[1], ARGV[2]) end
return {applied, publish}
`);

/** Plan names as the lookup script finds one whole with a plain search: "\n<plan>\n<plan>\n". */
function planList(plans: string[]): string {
    return `\n${plans.join("\n")}\n`;
}

/** A grant's script arguments, made once per grant (the authorizer keeps one grant per method ARN). */
const grantArguments = new WeakMap<RouteGrant, string[]>();

function grantArgs(grant: RouteGrant): string[] {
    let args = grantArguments.get(grant);
    if (args === undefined) {
        args = [planList(grant.granting), planList(grant.known), grant.defaultGrants ? "1" : "0"];
        grantArguments.set(grant, args);
    }
    return args;
}

export function createDecisionCache(client: Redis, settings: CacheSettings, now: () => number = Date.now): DecisionCache {
    const sid = settings.serviceId;
    const pendingKey = keys.pending(sid);
    const unconfirmedKey = keys.unconfirmed(sid);
    const windowKey = keys.window(sid);
    const epochKey = keys.epoch(sid);
    const ledgerPrefix = keys.appPrefix(sid);
    const window = settings.usageWindowSeconds;
    return {
        async lookup(hash, minute, deadline, grant) {
            const reply = (await runScript(client, LOOKUP, [keys.decision(sid, hash), pendingKey, windowKey, epochKey],
                [now(), deadline, window, minute, ledgerPrefix, ...grantArgs(grant)])) as (string | number)[];
            const [kind, a, b, c, d, e] = reply.map(String);
            switch (kind) {
                case "miss": return { kind, epoch: a };
                case "stale": return { kind, epoch: a, plan: b, uid: c, settled: d };
                case "denied": return { kind, reason: a, retryAt: Number(b) };
                case "route": case "late": return { kind, plan: a, uid: b };
                case "limited": return { kind, plan: a, uid: b, retryAt: Number(c) };
                case "counted": return { kind, plan: a, uid: b, publish: c === "1", left: Number(d), endMs: Number(e) };
                default: throw new Error(`decision cache: unexpected lookup reply ${JSON.stringify(reply)}`);
            }
        },
        async storeAllowed(hash, minute, deadline, d) {
            const t = now();
            const freshUntil = Math.min(t + settings.cacheTtlSeconds * 1000, d.periodEnd);
            const ttl = settings.cacheTtlSeconds > 0 ? Math.max(settings.cacheTtlSeconds, settings.staleTtlSeconds) : 0;
            const reply = (await runScript(client, STORE_ALLOWED, [keys.decision(sid, hash), pendingKey, windowKey, epochKey, keys.app(sid, d.uid)],
                [t, deadline, window, minute, d.uid, d.plan, freshUntil, ttl, d.limits, d.baseline, d.sealedCredential, d.epoch, d.count ? "1" : "0", LEDGER_TTL_SECONDS, d.settled])) as (string | number)[];
            const [kind, a, b, c] = reply.map(String);
            if (kind === "counted") return { kind, publish: a === "1", left: Number(b), endMs: Number(c) };
            if (kind === "limited") return { kind, retryAt: Number(a) };
            if (kind === "late" || kind === "stored") return { kind };
            throw new Error(`decision cache: unexpected store reply ${JSON.stringify(reply)}`);
        },
        async storeDenied(hash, deadline, reason, refusesApplication, retryAt = 0) {
            await runScript(client, STORE_DENIED, [keys.decision(sid, hash)],
                [deadline, now() + settings.negativeTtlSeconds * 1000, settings.negativeTtlSeconds, reason, ledgerPrefix, refusesApplication ? "1" : "0", retryAt]);
        },
        async countHit(target, field, uid, deadline, cap) {
            const reply = (await runScript(client, COUNT, [target === "pending" ? pendingKey : unconfirmedKey, windowKey, keys.app(sid, uid)],
                [now(), deadline, window, field, uid !== "" ? "1" : "0", cap])) as (string | number)[];
            const [kind, a, b, c] = reply.map(String);
            if (kind === "counted") return { kind, publish: a === "1", left: Number(b), endMs: Number(c) };
            if (kind === "limited") return { kind, retryAt: Number(a) };
            if (kind === "late" || kind === "full") return { kind };
            throw new Error(`decision cache: unexpected count reply ${JSON.stringify(reply)}`);
        },
        async replayHits(hits) {
            const args: (string | number)[] = [now(), window, COUNTED_TTL_SECONDS, keys.countedPrefix(sid), ledgerPrefix];
            for (const h of hits) args.push(h.invocationId, h.target === "pending" ? "p" : "q", h.field, h.uid, h.confirmed?.credential ?? "", h.confirmed?.at ?? "");
            const [applied, publish] = (await runScript(client, REPLAY, [pendingKey, unconfirmedKey, windowKey], args)) as number[];
            return { applied: Number(applied), publish: Number(publish) === 1 };
        },
        async releaseWindow() {
            await client.del(windowKey);
        },
    };
}
