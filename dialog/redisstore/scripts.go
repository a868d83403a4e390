package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each touches only keys it is given in KEYS, all of one
// hash slot, so that they run unchanged on a single node, behind Sentinel and
// in a Cluster, and on the embedded miniredis. Arguments arrive as strings
// and numbers are passed back to Redis as the strings they came in as, so
// that no millisecond timestamp goes through Lua's number formatting.
//
// A script checks everything before it writes anything: Redis runs a script
// in isolation but does not roll back, so "all or none" rests on that order.

// commitScript applies a dialog.Change.
//
// KEYS[1] the delivery's state hash, KEYS[2] its log stream, KEYS[3] the
// webhook answer key (named even without a webhook, to stay in the slot),
// KEYS[4] the timers sorted set, present only when it may be written from
// here (not in a Cluster, where it lives in another slot).
//
// ARGV, in order (see commitArgs):
//
//	1 webhook? ("1" or "")   2 answer           3 answer keep (ms)
//	4 facts version ("0": facts unchanged; -v: unchanged, but must be at v)
//	5 facts JSON
//	6 session id ("" none)   7 session version ("0": unchanged)   8 session JSON
//	9 close ("1" or "0")    10 TTL (ms, "0": none)
//	11 timer op ("+" set, "-" cancel, "" none)  12 timer due (ms)  13 timer member
//	14 number of log records n                  15 publish channel
//	16 the chain head the records were chained on ("<seq>:<hash>", "" none)
//	17 the head after them
//	18 .. 17+3n log records as seq, record JSON, openings JSON ("" none);
//	then each Posted as its Seq and its JSON: stored in the state hash as
//	t:<sid>:<seq>, and published.
//
// The records go to the log stream as fields seq and rec, their openings
// (sealed personal values and salts) to the state hash as o:<seq>, and the
// new head to the state hash as head: in the same script as the state
// change they record. A stored head other than ARGV[16] means another
// writer appended first: nothing is written and the reply is {"head",
// stored head}, for the caller to chain the records again.
//
// It returns {"ok"} (with TTL: {"ok", sid...}, every session id of the
// delivery), {"dup", answer}, {"conflict", reason} or {"head", head}.
var commitScript = redis.NewScript(`
local h, wh = KEYS[1], ARGV[1] ~= ''
if wh then
  local a = redis.call('GET', KEYS[3])
  if a then return {'dup', a} end
end
local fv = tonumber(ARGV[4])
if fv > 0 then
  local cur = tonumber(redis.call('HGET', h, 'facts.v') or '0')
  if cur ~= fv - 1 then return {'conflict', 'facts are at version ' .. cur} end
elseif fv < 0 then
  local cur = tonumber(redis.call('HGET', h, 'facts.v') or '0')
  if cur ~= -fv then return {'conflict', 'facts are at version ' .. cur} end
end
local sid, sv = ARGV[6], tonumber(ARGV[7])
if sv > 0 then
  local cur = tonumber(redis.call('HGET', h, 'v:' .. sid) or '0')
  if cur ~= sv - 1 then return {'conflict', 'session is at version ' .. cur} end
  if sv == 1 then
    local open = redis.call('HGET', h, 'open')
    if open and open ~= sid then return {'conflict', 'another session is open'} end
  end
end
local n = tonumber(ARGV[14])
if n > 0 then
  local head = redis.call('HGET', h, 'head') or ''
  if head ~= ARGV[16] then return {'head', head} end
end

if fv > 0 then redis.call('HSET', h, 'facts', ARGV[5], 'facts.v', ARGV[4]) end
if sv > 0 then
  redis.call('HSET', h, 's:' .. sid, ARGV[8], 'v:' .. sid, ARGV[7])
  if sv == 1 then
    redis.call('HSET', h, 'open', sid)
    if ARGV[10] == '0' then
      redis.call('PERSIST', h)
      redis.call('PERSIST', KEYS[2])
    end
  end
end
if ARGV[9] == '1' and redis.call('HGET', h, 'open') == sid then
  redis.call('HDEL', h, 'open')
end
local i = 18
for _ = 1, n do
  redis.call('XADD', KEYS[2], '*', 'seq', ARGV[i], 'rec', ARGV[i + 1])
  if ARGV[i + 2] ~= '' then redis.call('HSET', h, 'o:' .. ARGV[i], ARGV[i + 2]) end
  i = i + 3
end
if n > 0 then redis.call('HSET', h, 'head', ARGV[17]) end
while i < #ARGV do
  redis.call('HSET', h, 't:' .. sid .. ':' .. ARGV[i], ARGV[i + 1])
  redis.call('PUBLISH', ARGV[15], ARGV[i + 1])
  i = i + 2
end
if wh then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3]) end
if KEYS[4] then
  if ARGV[11] == '+' then
    redis.call('ZADD', KEYS[4], ARGV[12], ARGV[13])
  elseif ARGV[11] == '-' then
    redis.call('ZREM', KEYS[4], ARGV[13])
  end
end
if ARGV[10] ~= '0' then
  redis.call('PEXPIRE', h, ARGV[10])
  redis.call('PEXPIRE', KEYS[2], ARGV[10])
  local r = {'ok'}
  for _, f in ipairs(redis.call('HKEYS', h)) do
    if string.sub(f, 1, 2) == 'v:' then r[#r + 1] = string.sub(f, 3) end
  end
  return r
end
return {'ok'}
`)

// loadScript reads a delivery's facts and open session in one round trip.
// KEYS[1] is the state hash. It returns {facts, session}, "" for absent
// (never false, which RESP3 clients would see as a boolean).
var loadScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'facts', 'open')
local s = ''
if r[2] then s = redis.call('HGET', KEYS[1], 's:' .. r[2]) or '' end
return {r[1] or '', s}
`)

// claimScript hands out due timers. KEYS[1] is the timers set; ARGV: now
// (ms), lease end (ms), max, separator. A scheduled timer's member is
// "<delivery>␀<session>"; claiming it replaces it with
// "<delivery>␀<session>␀<due ms>" scored at the lease end, so that a new
// schedule of the session (which writes the plain member again) and the
// claim are told apart, and a claim that is never cleared comes due again.
// It returns the claimed members.
var claimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
local out = {}
for i = 1, #due, 2 do
  local m = due[i]
  local a = string.find(m, ARGV[4], 1, true)
  if a and not string.find(m, ARGV[4], a + 1, true) then
    redis.call('ZREM', KEYS[1], m)
    m = m .. ARGV[4] .. string.format('%.0f', tonumber(due[i + 1]))
  end
  redis.call('ZADD', KEYS[1], ARGV[2], m)
  out[#out + 1] = m
end
return out
`)

// clearScript ends a claimed timer. KEYS[1] is the timers set; ARGV: the
// claimed member, the plain member, the due (ms). The plain member goes too
// if it is still due at that same time, that is, if it was not rescheduled.
var clearScript = redis.NewScript(`
local n = redis.call('ZREM', KEYS[1], ARGV[1])
local s = redis.call('ZSCORE', KEYS[1], ARGV[2])
if s and tonumber(s) == tonumber(ARGV[3]) then
  n = n + redis.call('ZREM', KEYS[1], ARGV[2])
end
return n
`)

// evidenceScript reads a delivery's evidence in one round trip. KEYS[1] is
// the state hash, KEYS[2] the log stream. It returns seq, record JSON and
// openings JSON ("" when erased or none) for every record, oldest first.
var evidenceScript = redis.NewScript(`
local out = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  local f, seq, rec = e[2], '', ''
  for j = 1, #f, 2 do
    if f[j] == 'seq' then seq = f[j + 1] elseif f[j] == 'rec' then rec = f[j + 1] end
  end
  out[#out + 1] = seq
  out[#out + 1] = rec
  out[#out + 1] = redis.call('HGET', KEYS[1], 'o:' .. seq) or ''
end
return out
`)

// eraseScript deletes a delivery's personal values: the openings of its
// evidence records (o:*) and its transcript lines (t:*). KEYS[1] is the
// state hash. The records, which hold only salted hashes, stay. It returns
// how many fields went.
var eraseScript = redis.NewScript(`
local n = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local p = string.sub(f, 1, 2)
  if p == 'o:' or p == 't:' then n = n + redis.call('HDEL', KEYS[1], f) end
end
return n
`)
