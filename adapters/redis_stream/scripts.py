"""The Lua scripts that keep a run's stream consistent. Each writes only KEYS[1],
so they run unchanged on Redis Cluster; the `_NOTIFY` variants (for a cluster)
also SPUBLISH the newest id on the run's notice channel, `{<key>}:notify`, whose
hash tag puts it in the key's own slot.

APPEND's ARGV: the MAXLEN, the caller's current unix second and that second as
an ISO prefix (a formatting cache: the script stamps with the server's TIME and
uses the prefix only when the seconds agree), the caller's deadline in unix ms,
then one group per event: a count `k` and `k` field names and values for XADD.
STORE's ARGV: the MAXLEN, the expected last id, then per event a count `k`, its
id and its fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

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

# Our own entries put `sequence` second and the event fields last, so those
# places are read first; an entry laid out otherwise is searched field by field.
_LAST_ENTRY = """
local function last_entry(key)
  local found = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if not found then return nil, 0, false end
  local f = found[2]
  local n = #f
  local sequence, category, action
  if f[3] == 'sequence' and f[n - 5] == 'event_category'
      and f[n - 3] == 'event_action' then
    sequence, category, action = f[4], f[n - 4], f[n - 2]
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

_NOTIFY = """
if newest then redis.call('SPUBLISH', '{' .. key .. '}:notify', newest) end
"""

# Returns '' when the log is closed, 'late' when the call reached the server after
# the caller's deadline (a server frozen past the client's timeout must not store
# a batch the caller was told failed and wrote elsewhere), else one string,
# "first_sequence time_ms id ...": converting a Lua table reply costs the server
# more than splitting a string costs the client, and a single event (the common
# case) skips the loop.
_APPEND = """
local key = KEYS[1]
local now = redis.call('TIME')
local ms = now[1] * 1000 + floor(now[2] / 1000)
if ms > tonumber(ARGV[4]) then return 'late' end
local _, sequence, terminal = last_entry(key)
if terminal then return '' end
local stamp
if now[1] == ARGV[2] then stamp = ARGV[3] .. format('%03dZ', ms % 1000)
else stamp = iso_time(ms) end
local head = format('%d %d ', sequence + 1, ms)
local maxlen, argc, newest, reply = ARGV[1], #ARGV, nil, nil
if argc == 5 + ARGV[5] then
  newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'timestamp', stamp,
    'sequence', sequence + 1, unpack(ARGV, 6))
  reply = head .. newest
else
  local ids, i = {}, 5
  while i <= argc do
    local k = tonumber(ARGV[i])
    sequence = sequence + 1
    newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'timestamp',
      stamp, 'sequence', sequence, unpack(ARGV, i + 1, i + k))
    ids[#ids + 1] = newest
    i = i + k + 1
  end
  reply = head .. table.concat(ids, ' ')
end
"""

# Compare-and-set: writes only if the newest id is still ARGV[2] ('' = empty log),
# so the caller's continuation check holds. Returns 1 when written, 0 when the
# log moved on meanwhile.
_STORE = """
local key, maxlen = KEYS[1], ARGV[1]
local last_id = last_entry(key)
if (last_id or '') ~= ARGV[2] then return 0 end
local i, newest = 3, nil
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  newest = redis.call('XADD', key, 'MAXLEN', '~', maxlen, unpack(ARGV, i + 1, i + k))
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


APPEND = Script(ISO_TIME + _LAST_ENTRY + _APPEND + "return reply\n")
APPEND_NOTIFY = Script(ISO_TIME + _LAST_ENTRY + _APPEND + _NOTIFY + "return reply\n")
STORE = Script(_LAST_ENTRY + _STORE + "return 1\n")
STORE_NOTIFY = Script(_LAST_ENTRY + _STORE + _NOTIFY + "return 1\n")
