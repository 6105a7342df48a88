"""The Lua scripts that keep a run's stream consistent. Each touches only KEYS[1],
so they run unchanged on Redis Cluster.

Arguments: ARGV[1] is the MAXLEN (STORE adds the expected last id as ARGV[2]),
then one group per event: a count `k` followed by `k` values, passed on to XADD.
"""

from __future__ import annotations

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

_LAST_ENTRY = """
local function last_entry(key)
  local found = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #found == 0 then return nil, 0, false end
  local fields = found[1][2]
  local sequence, category, action = 0, nil, nil
  for i = 1, #fields, 2 do
    local name = fields[i]
    if name == 'sequence' then sequence = tonumber(fields[i + 1]) or 0
    elseif name == 'event_category' then category = fields[i + 1]
    elseif name == 'event_action' then action = fields[i + 1] end
  end
  local terminal = category == 'lifecycle' and (action == 'completed'
    or action == 'failed' or action == 'cancelled')
  return found[1][1], sequence, terminal
end
"""

# Returns {0} when the log is closed, else {time_ms, first_sequence, id...}.
# Each event group holds its fields after `timestamp` and `sequence`.
APPEND = (
    ISO_TIME
    + _LAST_ENTRY
    + """
local key, maxlen = KEYS[1], ARGV[1]
local _, sequence, terminal = last_entry(key)
if terminal then return {0} end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + floor(tonumber(now[2]) / 1000)
local stamp = iso_time(ms)
local reply = {ms, sequence + 1}
local i = 2
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  sequence = sequence + 1
  reply[#reply + 1] = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*',
    'timestamp', stamp, 'sequence', format('%d', sequence), unpack(ARGV, i + 1, i + k))
  i = i + k + 1
end
return reply
"""
)

# Compare-and-set: writes only if the newest id is still ARGV[2] ('' = empty log),
# so the caller's continuation check holds. Each event group is an id, then all
# of its fields. Returns 1 when written, 0 when the log moved on meanwhile.
STORE = (
    _LAST_ENTRY
    + """
local key, maxlen = KEYS[1], ARGV[1]
local last_id = last_entry(key)
if (last_id or '') ~= ARGV[2] then return 0 end
local i = 3
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  redis.call('XADD', key, 'MAXLEN', '~', maxlen, unpack(ARGV, i + 1, i + k))
  i = i + k + 1
end
return 1
"""
)
