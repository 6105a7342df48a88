"""The Lua scripts that keep a run's stream consistent. Each writes only KEYS[1],
so they run unchanged on Redis Cluster; the `_NOTIFY` variants (for a cluster)
also SPUBLISH the newest id on the run's notice channel, `{<key>}:notify`, whose
hash tag puts it in the key's own slot.

APPEND's ARGV (see _APPEND): the MAXLEN, the caller's current unix second and
that second as an ISO prefix (a formatting cache: the script stamps with the
server's TIME and uses the prefix only when the seconds agree), the caller's
deadline in unix ms, the sequence floor, the idempotency key and the Redis
incarnation the caller learnt, then one group per event: a count `k` and `k`
field names and values for XADD.
STORE's ARGV: the MAXLEN, the expected last id, then per event a count `k`, its
id and its fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from runstream.adapters.redis_stream.codec import HEAD_FIELDS, KEY_FIELDS, TAIL_FIELDS

# Lua in Redis has no os.date, so the ISO timestamp is built here (days to civil
# date, H. Hinnant's algorithm) to stamp entries with the server's own clock.
ISO_TIME = """
local floor, format = math.floor, string.format
local function iso_time(ms)
  local secs = floor(ms / 1000)
  local days = floor(secs / 86400)
  local rest = secs - days * 86400
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524)
    - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local day = doy - floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    floor(rest / 3600), floor(rest % 3600 / 60), rest % 60, ms % 1000)
end
"""


def _field_at(names: tuple[str, ...], name: str) -> int:
    """The 1-based index in a flat Lua field list of `name`'s own slot."""
    return 2 * names.index(name) + 1


# Positions derived from the codec's layout, so the two cannot drift apart:
# `sequence` counted from the start, the event kind from the end (`f[n - k]`),
# the idempotency key right after the head.
SEQUENCE_AT = _field_at(HEAD_FIELDS, "sequence")
CATEGORY_FROM_END = 2 * len(TAIL_FIELDS) - _field_at(TAIL_FIELDS, "event_category")
ACTION_FROM_END = 2 * len(TAIL_FIELDS) - _field_at(TAIL_FIELDS, "event_action")
KEY_AT = 2 * len(HEAD_FIELDS) + _field_at(KEY_FIELDS, "idempotency_key")
DIGEST_AT = 2 * len(HEAD_FIELDS) + _field_at(KEY_FIELDS, "idempotency_digest")
# Keys a run's index holds at most (~100 bytes each); past it, a key the index
# lacks is searched for as without an index.
KEY_INDEX_LIMIT = 100_000

# Our own entries are laid out as the codec says, so those places are read
# first; an entry laid out otherwise is searched field by field.
_LAST_ENTRY = f"""
local function last_entry(key)
  local found = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if not found then return nil, 0, false end
  local f = found[2]
  local n = #f
  local sequence, category, action
  if f[{SEQUENCE_AT}] == 'sequence' and f[n - {CATEGORY_FROM_END}] == 'event_category'
      and f[n - {ACTION_FROM_END}] == 'event_action' then
    sequence = f[{SEQUENCE_AT + 1}]
    category, action = f[n - {CATEGORY_FROM_END - 1}], f[n - {ACTION_FROM_END - 1}]
  else
    for i = 1, n, 2 do
      local name = f[i]
      if name == 'sequence' then sequence = f[i + 1]
      elseif name == 'event_category' then category = f[i + 1]
      elseif name == 'event_action' then action = f[i + 1] end
    end
  end
  local terminal = category == 'lifecycle' and (action == 'completed'
    or action == 'failed' or action == 'cancelled')
  return found[1], tonumber(sequence) or 0, terminal
end
"""

# The entry (after id `bound`, exclusive '(' form, or '-') whose batch was
# stored under idempotency key `wanted`, newest first: a retry usually
# repeats a recent request. Returns its id and digest, or nil.
_FIND_KEY = f"""
local function find_key(key, bound, wanted)
  local upper = '+'
  while true do
    local found = redis.call('XREVRANGE', key, upper, bound, 'COUNT', 256)
    for i = 1, #found do
      local f = found[i][2]
      if f[{KEY_AT}] == 'idempotency_key' and f[{KEY_AT + 1}] == wanted then
        return found[i][1], f[{DIGEST_AT + 1}]
      end
    end
    if #found < 256 then return nil end
    upper = '(' .. found[#found][1]
  end
end
"""

# The key index, KEYS[2]: a hash of key -> id of the first entry stored under
# it, in the stream's hash slot. Field '' = '1' says the index holds every key
# the stream was ever given (it was built while the stream still began at
# sequence 1, and every keyed write since added its key); without it the index
# cannot tell that a key is new. A key is answered only while its entry is
# still in the stream (and carries it): else its events were trimmed or lost,
# and only another tier can say.
_KEY_INDEX = f"""
local KEY_INDEX_LIMIT = {KEY_INDEX_LIMIT}
local function kept_digest(key, id, wanted)
  local entry = redis.call('XRANGE', key, id, id)[1]
  if not entry then return nil end
  local f = entry[2]
  if f[{KEY_AT}] == 'idempotency_key' and f[{KEY_AT + 1}] == wanted then
    return f[{DIGEST_AT + 1}]
  end
  return nil
end
-- A stream kept from sequence 1 holds every key it was given: index them.
local function build_index(key, index)
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
  if not first then return false end
  local f = first[2]
  if f[{SEQUENCE_AT}] ~= 'sequence' or f[{SEQUENCE_AT + 1}] ~= '1' then
    return false
  end
  local lower = '-'
  while true do
    local found = redis.call('XRANGE', key, lower, '+', 'COUNT', 256)
    for i = 1, #found do
      local g = found[i][2]
      if g[{KEY_AT}] == 'idempotency_key' then
        redis.call('HSET', index, g[{KEY_AT + 1}], found[i][1])
      end
    end
    if #found < 256 then break end
    lower = '(' .. found[#found][1]
  end
  redis.call('HSET', index, '', '1')
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then redis.call('PEXPIRE', index, ttl) end
  return true
end
-- The key's entry id and digest if indexed and kept; else nil and whether
-- the index vouches that the key is new ('new': an empty stream about to get
-- sequence 1), and whether the index exists.
local function indexed(key, index, wanted, empty_start)
  local got = redis.call('HMGET', index, wanted, '')
  if got[1] then
    local digest = kept_digest(key, got[1], wanted)
    if digest then return got[1], digest, true, true end
    return nil, nil, false, true
  end
  if got[2] then return nil, nil, got[2] == '1', true end
  if redis.call('EXISTS', index) == 1 then return nil, nil, false, true end
  if empty_start then return nil, nil, true, false end
  if build_index(key, index) then
    local id = redis.call('HGET', index, wanted)
    if id then return id, kept_digest(key, id, wanted), true, true end
    return nil, nil, true, true
  end
  return nil, nil, false, false
end
-- After a keyed write: index its first entry (a stream started by it is
-- indexed from sequence 1); past the limit the index stops vouching.
local function remember(key, index, wanted, id, started, existed)
  if started then redis.call('HSET', index, '', '1') end
  if redis.call('HLEN', index) >= KEY_INDEX_LIMIT then
    redis.call('HDEL', index, '')
    return
  end
  redis.call('HSET', index, wanted, id)
  if not existed then
    local ttl = redis.call('PTTL', key)
    if ttl > 0 then redis.call('PEXPIRE', index, ttl) end
  end
end
"""

_NOTIFY = """
if newest then redis.call('SPUBLISH', '{' .. key .. '}:notify', newest) end
"""

# KEYS: the stream, its key index for a keyed append, and last the key holding
# Redis's incarnation when ARGV 10 names one. ARGV: 1 MAXLEN, 2-3 the caller's
# unix second and its ISO prefix, 4 deadline (unix ms), 5 floor, 6 'g' (or
# 'g <id>': with ids above that one) to continue after the floor when the
# stream is behind it, 7 where to search for a key the index cannot vouch for
# ('' without a key; 'ask': nowhere, reply 'ask'; else the exclusive lower
# bound of a search of the stream, '-' or '(<id>'), 8 the key, 9 the digest,
# 10 the incarnation the caller learnt ('' to skip the check), then the events
# from 11 on.
# Returns '' when the log is closed, 'late' when the call reached the server
# after the caller's deadline (a server frozen past the client's timeout must
# not store a batch the caller was told failed and wrote elsewhere), 'lost'
# when Redis no longer holds the caller's incarnation (it restarted without
# its data: every stream may have lost events the caller's floor cannot tell),
# 'replay <id>' / 'reused' for a known key (same / other digest), 'ask' (see
# ARGV 7), 'behind <sequence> <id>' when the stream's last sequence is below
# the floor (it lost events), else one string, "first_sequence time_ms id ...":
# converting a Lua table reply costs the server more than splitting a string
# costs the client, and a single event (the common case) skips the loop.
_APPEND = """
local key, index = KEYS[1], KEYS[2]
local now = redis.call('TIME')
local ms = now[1] * 1000 + floor(now[2] / 1000)
if ms > tonumber(ARGV[4]) then return 'late' end
local incarnation = ARGV[10]
if incarnation ~= '' and redis.call('GET', KEYS[#KEYS]) ~= incarnation then
  return 'lost'
end
local last_id, sequence, terminal = last_entry(key)
local floor_sequence, search = tonumber(ARGV[5]), ARGV[7]
local empty_start = last_id == nil and floor_sequence == 0
local existed = true
if search ~= '' then
  local known, digest, sure
  known, digest, sure, existed = indexed(key, index, ARGV[8], empty_start)
  if not known and not sure then
    if search == 'ask' then return 'ask' end
    known, digest = find_key(key, search, ARGV[8])
  end
  if known then
    if digest == ARGV[9] then return 'replay ' .. known end
    return 'reused'
  end
end
if terminal then return '' end
local first_id = '*'
if sequence < floor_sequence then
  local after = string.match(ARGV[6], '^g ?(.*)$')
  if after == nil then return 'behind ' .. sequence .. ' ' .. (last_id or '') end
  sequence = floor_sequence
  local after_ms, after_seq = string.match(after, '^(%d+)-(%d+)$')
  if after_ms and tonumber(after_ms) >= ms then
    first_id = after_ms .. '-' .. (tonumber(after_seq) + 1)
  end
end
local stamp
if now[1] == ARGV[2] then stamp = ARGV[3] .. format('%03dZ', ms % 1000)
else stamp = iso_time(ms) end
local head = format('%d %d ', sequence + 1, ms)
local maxlen, argc, newest, reply, first_new = ARGV[1], #ARGV, nil, nil, nil
if argc == 11 + ARGV[11] then
  newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, first_id, 'timestamp',
    stamp, 'sequence', sequence + 1, unpack(ARGV, 12))
  first_new, reply = newest, head .. newest
else
  local ids, i = {}, 11
  while i <= argc do
    local k = tonumber(ARGV[i])
    sequence = sequence + 1
    newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, first_id, 'timestamp',
      stamp, 'sequence', sequence, unpack(ARGV, i + 1, i + k))
    first_id = '*'
    ids[#ids + 1] = newest
    i = i + k + 1
  end
  first_new, reply = ids[1], head .. table.concat(ids, ' ')
end
if search ~= '' then
  remember(key, index, ARGV[8], first_new, empty_start, existed)
end
"""

# Compare-and-set: writes only if the newest id is still ARGV[2] ('' = empty log),
# so the caller's continuation check holds; an existing key index (KEYS[2])
# learns the keys of the copied entries (a stream without one is indexed by
# the first keyed append; KEYS[2] is given only when an entry carries a key).
# Returns 1 when written, 0 when the log moved on
# meanwhile.
_STORE = f"""
local key, index, maxlen = KEYS[1], KEYS[2], ARGV[1]
local last_id = last_entry(key)
if (last_id or '') ~= ARGV[2] then return 0 end
local indexing = index ~= nil and redis.call('EXISTS', index) == 1
local i, newest = 3, nil
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, unpack(ARGV, i + 1, i + k))
  if indexing and ARGV[i + 1 + {KEY_AT}] == 'idempotency_key' then
    remember(key, index, ARGV[i + 2 + {KEY_AT}], newest, false, true)
  end
  i = i + k + 1
end
"""


@dataclass(frozen=True)
class Script:
    """A script's source and the SHA1 that EVALSHA names it by."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.source.encode(), usedforsecurity=False)
        object.__setattr__(self, "sha", digest.hexdigest())


_APPEND_BODY = ISO_TIME + _LAST_ENTRY + _FIND_KEY + _KEY_INDEX + _APPEND
APPEND = Script(_APPEND_BODY + "return reply\n")
APPEND_NOTIFY = Script(_APPEND_BODY + _NOTIFY + "return reply\n")
STORE = Script(_LAST_ENTRY + _KEY_INDEX + _STORE + "return 1\n")
# Failback: the entries after ARGV[1] go (a write Redis stored whose reply was
# lost, answered by the fallback instead), and the stream's last id goes back
# to ARGV[1] so the fallback's events after it can be stored with their ids.
# Their keys stay in the key index: it vouches only for keys still in the stream.
REWIND = Script("""
local key, after = KEYS[1], ARGV[1]
local gone = redis.call('XRANGE', key, '(' .. after, '+')
for i = 1, #gone do redis.call('XDEL', key, gone[i][1]) end
if #gone > 0 then redis.call('XSETID', key, after) end
return #gone
""")
STORE_NOTIFY = Script(_LAST_ENTRY + _KEY_INDEX + _STORE + _NOTIFY + "return 1\n")
