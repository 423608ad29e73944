// The usage reporter's records in Redis, each change one Lua script (atomic with the counts it moves):
//   pending hash -> batch (taken by one reporter) -> chunks (one transactions.xml call each) ->
//   settled in 3scale, or put back, or kept apart in the rejected record with their reason.
// A chunk hash (keys.chunk):
//   s  ready | sent (no reply yet: in doubt) | acc (202, its report job to be verified)
//   d  JSON [[minute, uid, hits], ...]    c  created (ms)    t  last sent (ms)    n  attempts
//   w  JSON [uid, ...]: witnesses, the applications whose 3scale figures tell whether the chunk
//      arrived (report-figures.ts); each is held (its ledger's `w` names the chunk, and none of its
//      hits is taken into another chunk) until the chunk is resolved, so its figures stay readable.
//   v  acc only: when to read the witnesses' figures (ms)    r  verification rounds so far
// A ledger (decision-cache.ts) also keeps here: f hits in sent chunks; S settled so far; ca:<period>
// settled since the clean baseline C; w the chunk holding it as a witness; pid porta's id.
// keys.hours: hits settled per hour (field: hour index), what porta's hourly figure is read against.
import type { Redis } from "ioredis";
import { keys } from "./keys";
import { runScript, script } from "./lua";

/** One entry of a chunk: [minute, application uid, hits]. */
export type Entry = [number, string, number];

export interface Chunk {
    id: string;
    entries: Entry[];
    state: "ready" | "sent" | "acc";
    sentAt: number;
    witnesses: string[];
    /** acc: when to verify. */
    verifyAt: number;
    rounds: number;
}

/** A record of usage kept apart: never reported, with why. */
export interface RejectedUsage {
    at: string;
    code: string;
    reason: string;
    minute: number;
    uid: string;
    hits: number;
}

/** How long settled-per-hour counts are kept: past the day 3scale accepts reports for. */
const HOURS_TTL_SECONDS = 2 * 86_400;
/** Rejected records kept (newest first). */
const REJECTED_KEPT = 10_000;

// Lowers a ledger counter, never below 0 (a ledger rebuilt after Redis lost its data starts at 0).
const LUA_LOWER = `
local function lower(key, field, n)
  if redis.call('HINCRBY', key, field, -n) < 0 then redis.call('HSET', key, field, 0) end
end`;

// Frees a chunk's witnesses (only those it still holds) and removes the chunk. ARGV use: chunk id, ledger prefix.
const LUA_FORGET = `
local function forget(chunk, chunks, id, prefix)
  local w = redis.call('HGET', chunk, 'w')
  if w then
    for _, uid in ipairs(cjson.decode(w)) do
      if redis.call('HGET', prefix .. uid, 'w') == id then redis.call('HDEL', prefix .. uid, 'w') end
    end
  end
  redis.call('DEL', chunk)
  redis.call('ZREM', chunks, id)
end`;

// Moves hits to the rejected record (newest first, bounded).
const LUA_REJECT = `
local function reject_entry(list, at, code, reason, e)
  redis.call('LPUSH', list, cjson.encode({at = at, code = code, reason = reason, minute = e[1], uid = e[2], hits = e[3]}))
  redis.call('LTRIM', list, 0, ${REJECTED_KEPT - 1})
end`;

// A settled entry in the ledger's reconciliation counts: S, ca:<period> of the clean baseline, the hour.
const LUA_SETTLED = `
local function settled(ledger, hours, e, n)
  redis.call('HINCRBY', ledger, 'S', n)
  local at = e[1] * 60000
  local C = redis.call('HGET', ledger, 'C')
  for period, startms, endms in string.gmatch(C or '', '([^,;]+),([^,;]+),([^,;]+),[^;]+') do
    if (tonumber(startms) < 0 or at >= tonumber(startms)) and (tonumber(endms) < 0 or at < tonumber(endms)) then
      redis.call('HINCRBY', ledger, 'ca:' .. period, n)
    end
  end
  redis.call('HINCRBY', hours, tostring(math.floor(e[1] / 60)), n)
  redis.call('EXPIRE', hours, ${HOURS_TTL_SECONDS})
end`;

// KEYS: source hash, batch, batches. ARGV: batch id, now (ms). Takes the source hash whole.
const TAKE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[2])
`);

// KEYS: batch, target, batches. ARGV: batch id. Merges what is left of a batch back into its source.
const PUT_BACK = script(`
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do redis.call('HINCRBY', KEYS[2], kv[i], kv[i + 1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return #kv / 2
`);

// KEYS: batch, chunk, chunks. ARGV: now, chunk id, payload (JSON entries), witnesses (JSON uids),
// ledger prefix, fields... Moves fields of a batch into a chunk that is ready to send; holds its witnesses.
const CHUNK = script(`
for i = 6, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[2], 's', 'ready', 'd', ARGV[3], 'c', ARGV[1], 'w', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
for _, uid in ipairs(cjson.decode(ARGV[4])) do redis.call('HSET', ARGV[5] .. uid, 'w', ARGV[2]) end
return 1
`);

// KEYS: chunk, epoch. ARGV: now, ledger prefix. Before each attempt: the hits are in flight.
const MARK_SENT = script(`
local s = redis.call('HGET', KEYS[1], 's')
if not s then return 0 end
if s == 'ready' then
  for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do redis.call('HINCRBY', ARGV[2] .. e[2], 'f', e[3]) end
end
redis.call('HSET', KEYS[1], 's', 'sent', 't', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('INCR', KEYS[2])
return 1
`);

// KEYS: chunk, chunks, epoch. ARGV: chunk id, ledger prefix, hours prefix, verify at (ms; 0: no
// verification). The chunk is in 3scale: settle it; with witnesses and a verify time it stays as
// `acc` (its witnesses held) until its report job is verified.
const SETTLE = script(`${LUA_LOWER}${LUA_SETTLED}${LUA_FORGET}
local s = redis.call('HGET', KEYS[1], 's')
if not s or s == 'acc' then return 0 end
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  local ledger = ARGV[2] .. e[2]
  lower(ledger, 'u', e[3])
  if s == 'sent' then lower(ledger, 'f', e[3]) end
  settled(ledger, ARGV[3] .. e[2], e, e[3])
end
redis.call('INCR', KEYS[3])
local w = cjson.decode(redis.call('HGET', KEYS[1], 'w') or '[]')
if tonumber(ARGV[4]) > 0 and #w > 0 then
  redis.call('HSET', KEYS[1], 's', 'acc', 'v', ARGV[4], 'r', 0)
  return 2
end
forget(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return 1
`);

// KEYS: chunk, chunks. ARGV: chunk id, ledger prefix, verify at (0: done). An acc chunk's job ran
// (its witnesses say so), or cannot be told: forget it; else try again at the given time.
const VERIFIED = script(`${LUA_FORGET}
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], 'v', ARGV[3])
  return redis.call('HINCRBY', KEYS[1], 'r', 1)
end
forget(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return 0
`);

// KEYS: chunk, pending, chunks, epoch. ARGV: chunk id, ledger prefix. The chunk is not in 3scale: back to pending.
const UNSEND = script(`${LUA_LOWER}${LUA_FORGET}
local s = redis.call('HGET', KEYS[1], 's')
if not s or s == 'acc' then return 0 end
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  redis.call('HINCRBY', KEYS[2], e[1] .. '|' .. e[2], e[3])
  if s == 'sent' then lower(ARGV[2] .. e[2], 'f', e[3]) end
end
forget(KEYS[1], KEYS[3], ARGV[1], ARGV[2])
if s == 'sent' then redis.call('INCR', KEYS[4]) end
return 1
`);

// KEYS: chunk, pending, chunks, epoch, rejected. ARGV: chunk id, ledger prefix, hours prefix, now
// (ISO), code, reason, refused uids (JSON). An acc chunk whose report job 3scale dropped: its
// settlement is undone; the refused applications' hits go to the rejected record, the others back
// to pending, to be sent again.
const UNSETTLE = script(`${LUA_LOWER}${LUA_FORGET}${LUA_REJECT}${LUA_SETTLED}
if redis.call('HGET', KEYS[1], 's') ~= 'acc' then return 0 end
local refused = {}
for _, uid in ipairs(cjson.decode(ARGV[7])) do refused[uid] = true end
local back = 0
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  local ledger = ARGV[2] .. e[2]
  settled(ledger, ARGV[3] .. e[2], e, -e[3])
  if refused[e[2]] then
    reject_entry(KEYS[5], ARGV[4], ARGV[5], ARGV[6], e)
    redis.call('HSET', ledger, 'r', '1')
  else
    redis.call('HINCRBY', KEYS[2], e[1] .. '|' .. e[2], e[3])
    redis.call('HINCRBY', ledger, 'u', e[3])
    back = back + e[3]
  end
end
forget(KEYS[1], KEYS[3], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[4])
return back
`);

// KEYS: chunk, chunks, epoch, rejected. ARGV: chunk id, ledger prefix, now (ISO), code, reason.
// 3scale can never take the chunk's one transaction (or it names no credential): kept apart.
const REJECT = script(`${LUA_LOWER}${LUA_FORGET}${LUA_REJECT}
local s = redis.call('HGET', KEYS[1], 's')
if not s or s == 'acc' then return 0 end
for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do
  reject_entry(KEYS[4], ARGV[3], ARGV[4], ARGV[5], e)
  lower(ARGV[2] .. e[2], 'u', e[3])
  if s == 'sent' then lower(ARGV[2] .. e[2], 'f', e[3]) end
end
forget(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if s == 'sent' then redis.call('INCR', KEYS[3]) end
return 1
`);

// KEYS: chunk, chunks, epoch. ARGV: chunk id, ledger prefix, now, chunk key prefix, then per part:
// id, payload, witnesses. 3scale refused the chunk whole and for good: it becomes smaller ready
// chunks, to find the transactions it cannot read.
const SPLIT = script(`${LUA_LOWER}${LUA_FORGET}
local s = redis.call('HGET', KEYS[1], 's')
if not s or s == 'acc' then return 0 end
if s == 'sent' then
  for _, e in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'd'))) do lower(ARGV[2] .. e[2], 'f', e[3]) end
  redis.call('INCR', KEYS[3])
end
forget(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
for i = 5, #ARGV, 3 do
  redis.call('HSET', ARGV[4] .. ARGV[i], 's', 'ready', 'd', ARGV[i + 1], 'c', ARGV[3], 'w', ARGV[i + 2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
  for _, uid in ipairs(cjson.decode(ARGV[i + 2])) do redis.call('HSET', ARGV[2] .. uid, 'w', ARGV[i]) end
end
return 1
`);

// KEYS: batch, rejected. ARGV: ledger prefix, now (ISO), then field, uid, code, reason quadruples
// (code "": no record). Drops fields that will never be reported (too old, refused by 3scale, no
// credential); they leave the ledger's unreported count.
const DROP = script(`${LUA_LOWER}${LUA_REJECT}
for i = 3, #ARGV, 4 do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[i])
  if ARGV[i + 1] ~= '' and n > 0 then lower(ARGV[1] .. ARGV[i + 1], 'u', n) end
  if ARGV[i + 2] ~= '' and n > 0 then
    local minute = tonumber(string.match(ARGV[i], '^(%d+)|')) or 0
    reject_entry(KEYS[2], ARGV[2], ARGV[i + 2], ARGV[i + 3], {minute, ARGV[i + 1], n})
  end
end
return 1
`);

// KEYS: batch, pending, ledger. ARGV: uid, sealed credential, now, then unconfirmed field, pending field pairs.
// 3scale confirmed a credential: its hits join the application's pending counts and ledger.
const CONFIRM = script(`
local moved = 0
for i = 4, #ARGV, 2 do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[i])
  if n > 0 then
    redis.call('HINCRBY', KEYS[2], ARGV[i + 1], n)
    redis.call('HINCRBY', KEYS[3], 'u', n)
    redis.call('HINCRBY', KEYS[3], 'n', n)
    moved = moved + n
  end
end
if redis.call('HEXISTS', KEYS[3], 'k') == 0 then redis.call('HSET', KEYS[3], 'k', ARGV[2]) end
redis.call('HSET', KEYS[3], 't', ARGV[3])
redis.call('HDEL', KEYS[3], 'r')
return moved
`);

// KEYS: lock. ARGV: owner. Releases the lock only if this reporter still holds it.
const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** A drop of a batch field: its uid (for the ledger; "" for none) and, for the rejected record, why. */
export interface DroppedField {
    field: string;
    uid: string;
    code?: string;
    reason?: string;
}

/** One chunk part for SPLIT: its id, entries and witnesses. */
export interface ChunkPart {
    id: string;
    entries: Entry[];
    witnesses: string[];
}

/** The reporter's operations on its records, for one service. */
export function createReportStore(redis: Redis, sid: string, now: () => number) {
    const prefix = keys.appPrefix(sid);
    const hoursPrefix = keys.hoursPrefix(sid);
    const chunkKey = (id: string): string => keys.chunk(sid, id);
    const iso = (): string => new Date(now()).toISOString();
    const run = (s: ReturnType<typeof script>, k: string[], a: (string | number)[]): Promise<unknown> => runScript(redis, s, k, a);
    return {
        take: async (source: string, batchId: string): Promise<string[]> =>
            (await run(TAKE, [source, keys.batch(sid, batchId), keys.batches(sid)], [batchId, now()])) as string[],
        putBack: async (batchId: string, target: string): Promise<number> =>
            Number(await run(PUT_BACK, [keys.batch(sid, batchId), target, keys.batches(sid)], [batchId])),
        createChunk: (batchId: string, id: string, entries: Entry[], witnesses: string[], fields: string[]): Promise<unknown> =>
            run(CHUNK, [keys.batch(sid, batchId), chunkKey(id), keys.chunks(sid)], [now(), id, JSON.stringify(entries), JSON.stringify(witnesses), prefix, ...fields]),
        markSent: (id: string): Promise<unknown> => run(MARK_SENT, [chunkKey(id), keys.epoch(sid)], [now(), prefix]),
        /** 1: settled and gone; 2: settled, to be verified at `verifyAt`. */
        settle: async (id: string, verifyAt = 0): Promise<number> =>
            Number(await run(SETTLE, [chunkKey(id), keys.chunks(sid), keys.epoch(sid)], [id, prefix, hoursPrefix, verifyAt])),
        /** Verified (or past telling): forgotten; with `retryAt`, verified again then. Returns the rounds so far. */
        verified: async (id: string, retryAt = 0): Promise<number> => Number(await run(VERIFIED, [chunkKey(id), keys.chunks(sid)], [id, prefix, retryAt])),
        unsend: (id: string): Promise<unknown> => run(UNSEND, [chunkKey(id), keys.pending(sid), keys.chunks(sid), keys.epoch(sid)], [id, prefix]),
        /** Returns the hits put back to pending. */
        unsettle: async (id: string, refused: string[], code: string, reason: string): Promise<number> =>
            Number(await run(UNSETTLE, [chunkKey(id), keys.pending(sid), keys.chunks(sid), keys.epoch(sid), keys.rejected(sid)], [id, prefix, hoursPrefix, iso(), code, reason, JSON.stringify(refused)])),
        reject: (id: string, code: string, reason: string): Promise<unknown> =>
            run(REJECT, [chunkKey(id), keys.chunks(sid), keys.epoch(sid), keys.rejected(sid)], [id, prefix, iso(), code, reason]),
        split: (id: string, parts: ChunkPart[]): Promise<unknown> =>
            run(SPLIT, [chunkKey(id), keys.chunks(sid), keys.epoch(sid)], [id, prefix, now(), chunkKey(""), ...parts.flatMap((p) => [p.id, JSON.stringify(p.entries), JSON.stringify(p.witnesses)])]),
        drop: (batchId: string, fields: DroppedField[]): Promise<unknown> =>
            run(DROP, [keys.batch(sid, batchId), keys.rejected(sid)], [prefix, iso(), ...fields.flatMap((f) => [f.field, f.uid, f.code ?? "", f.reason ?? ""])]),
        confirm: async (batchId: string, uid: string, sealed: string, pairs: string[]): Promise<number> =>
            Number(await run(CONFIRM, [keys.batch(sid, batchId), keys.pending(sid), keys.app(sid, uid)], [uid, sealed, now(), ...pairs])),
        release: (owner: string): Promise<unknown> => run(RELEASE, [keys.lock(sid)], [owner]),
        readChunk: async (id: string): Promise<Chunk | undefined> => {
            const h = await redis.hgetall(chunkKey(id));
            if (!h.s || !h.d) return undefined;
            return {
                id, entries: JSON.parse(h.d) as Entry[], state: h.s === "sent" ? "sent" : h.s === "acc" ? "acc" : "ready",
                sentAt: Number(h.t ?? h.c ?? 0), witnesses: JSON.parse(h.w ?? "[]") as string[], verifyAt: Number(h.v ?? 0), rounds: Number(h.r ?? 0),
            };
        },
        /** Hits settled in 3scale by this ring, per hour (field: hour index since the epoch). */
        settledInHour: async (uid: string, hourIndex: number): Promise<number> => Number(await redis.hget(keys.hours(sid, uid), String(hourIndex)) ?? 0),
    };
}

export type ReportStore = ReturnType<typeof createReportStore>;
