"""The Lua scripts that change the cluster's shared state in Redis, each atomically.

Layout under the prefix ``P`` (channel names never contain ``:``, so keys are unambiguous)::

    P:nodes              zset  node id -> lease expiry (ms, Redis clock)
    P:node:{node}        hash  "c␟app␟channel" -> this node's subscriptions
                               "m␟app␟channel␟user" -> 1 while the user is connected here
    P:c:{app}            hash  channel -> subscriptions in the whole cluster
    P:m:{app}:{channel}  hash  user -> nodes where the user is connected
    P:i:{app}:{channel}  hash  user -> user_info (JSON)
    P:r:{app}:{channel}  hash  user -> the member_removed message to broadcast
    P:s:{app}:{channel}  int   member changes broadcast so far (while it has members)
    P:cache:{app}:{channel}  string  a cache channel's last event, msgpack
                               [app, channel, event, data], expiring with it
    P:caches             zset  the keys above -> their expiry (ms, Redis clock)
    P:t                  hash  "app␟channel" -> when its subscription_count last went out
    P:dirty              zset  "app␟channel" -> when its held-back subscription_count may go
    P:dh                 hash  "app␟channel" -> "head␟tail" of that subscription_count
    P:events             pub/sub channel of envelopes

With watchlists, an app's signed-in users are the members of the presence set named
``#online`` (:data:`pusherd.protocol.users.ONLINE`): no client channel, and never counted.

A node's hash lists what it added, so withdrawing a node (its lease ran out, or it
stops) takes exactly its part back out. Broadcasts that follow a cluster decision
(member_added, member_removed, subscription_count) are published by the same script
that decides, so every node sees them in the order the decisions were taken.
"""

from __future__ import annotations

#: ARGV[1] is always the prefix, ARGV[2] the calling node's id
LIBRARY = r"""
local P = ARGV[1]
local SELF = ARGV[2]
local SEP = '\31'
local EVENTS = P .. ':events'
local NODES = P .. ':nodes'

-- kind: 'c' for a channel event, 'a' / 'r' for member_added / member_removed, which
-- carry the channel's serial number of member changes.
local function publish(kind, app, channel, message, exclude, origin, serial)
  redis.call('PUBLISH', EVENTS, cmsgpack.pack({1, kind, origin, app, channel, message, exclude, '', '', serial or ''}))
end

local function next_serial(base)
  return tostring(redis.call('INCR', P .. ':s:' .. base))
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Broadcast a channel's subscription_count (head .. total .. tail) now, or hold it back
-- while the channel has more than `above` subscriptions and the last went out less than
-- `interval` ms ago; FLUSH_COUNTS sends it then. Returns 1 if it went out now.
local function send_count(app, channel, total, head, tail, origin, above, interval)
  local key = app .. SEP .. channel
  local now = now_ms()
  local last = tonumber(redis.call('HGET', P .. ':t', key) or 0)
  if total > above and now - last < interval then
    redis.call('ZADD', P .. ':dirty', 'NX', last + interval, key)
    redis.call('HSET', P .. ':dh', key, head .. SEP .. tail)
    return 0
  end
  publish('c', app, channel, head .. total .. tail, '', origin)
  redis.call('HSET', P .. ':t', key, now)
  redis.call('ZREM', P .. ':dirty', key)
  redis.call('HDEL', P .. ':dh', key)
  return 1
end

-- Returns the cluster-wide count after adding delta to node's part of it, and 1 if
-- the subscription_count (given by head and tail, '' for none) went out.
local function count(node, app, channel, delta, head, tail, origin, above, interval)
  local nkey = P .. ':node:' .. node
  local field = 'c' .. SEP .. app .. SEP .. channel
  if redis.call('HINCRBY', nkey, field, delta) <= 0 then
    redis.call('HDEL', nkey, field)
  end
  local ckey = P .. ':c:' .. app
  local total = redis.call('HINCRBY', ckey, channel, delta)
  local sent = 0
  if total <= 0 then
    redis.call('HDEL', ckey, channel)
    total = 0
    local key = app .. SEP .. channel
    redis.call('HDEL', P .. ':t', key)
    redis.call('ZREM', P .. ':dirty', key)
    redis.call('HDEL', P .. ':dh', key)
  elseif head ~= '' then
    sent = send_count(app, channel, total, head, tail, origin, above, interval)
  end
  return total, sent
end

-- 1 if the user was new to the cluster (member_added is then published).
local function member_join(node, app, channel, user, info, added, removed, exclude, origin)
  local field = 'm' .. SEP .. app .. SEP .. channel .. SEP .. user
  if redis.call('HSETNX', P .. ':node:' .. node, field, '1') == 0 then
    return 0
  end
  local base = app .. ':' .. channel
  if redis.call('HINCRBY', P .. ':m:' .. base, user, 1) ~= 1 then
    return 0
  end
  redis.call('HSET', P .. ':i:' .. base, user, info)
  redis.call('HSET', P .. ':r:' .. base, user, removed)
  publish('a', app, channel, added, exclude, origin, next_serial(base))
  return 1
end

-- 1 if the user left the cluster (member_removed is then published).
local function member_leave(node, app, channel, user, origin)
  local field = 'm' .. SEP .. app .. SEP .. channel .. SEP .. user
  if redis.call('HDEL', P .. ':node:' .. node, field) == 0 then
    return 0
  end
  local base = app .. ':' .. channel
  local mkey = P .. ':m:' .. base
  if redis.call('HINCRBY', mkey, user, -1) > 0 then
    return 0
  end
  redis.call('HDEL', mkey, user)
  redis.call('HDEL', P .. ':i:' .. base, user)
  local rkey = P .. ':r:' .. base
  local removed = redis.call('HGET', rkey, user)
  redis.call('HDEL', rkey, user)
  if removed then
    publish('r', app, channel, removed, '', origin, next_serial(base))
  end
  if redis.call('EXISTS', mkey) == 0 then
    redis.call('DEL', P .. ':s:' .. base)
  end
  return 1
end

local function split(field)
  local parts = {}
  for part in string.gmatch(field, '[^' .. SEP .. ']+') do
    parts[#parts + 1] = part
  end
  return parts
end

-- Take a node's whole part out; returns {app, webhook name, channel, user} for each change.
local function withdraw(node, origin, out)
  local nkey = P .. ':node:' .. node
  local fields = redis.call('HGETALL', nkey)
  for i = 1, #fields, 2 do
    local p = split(fields[i])
    if p[1] == 'm' and member_leave(node, p[2], p[3], p[4], origin) == 1 then
      out[#out + 1] = {p[2], 'member_removed', p[3], p[4]}
    end
  end
  for i = 1, #fields, 2 do
    local p = split(fields[i])
    if p[1] == 'c' and count(node, p[2], p[3], -tonumber(fields[i + 1]), '', '', origin) == 0 then
      out[#out + 1] = {p[2], 'channel_vacated', p[3], ''}
    end
  end
  redis.call('DEL', nkey)
  redis.call('ZREM', NODES, node)
  return out
end
"""

#: ARGV: P, node, app, channel, delta, head, tail, throttle above, throttle ms
#: -> {the cluster-wide count, 1 if its subscription_count went out}
COUNT = (
    LIBRARY
    + r"""
local total, sent = count(
  SELF, ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7], '',
  tonumber(ARGV[8]), tonumber(ARGV[9]))
return {total, sent}
"""
)

#: ARGV: P, node -> {{app, channel, count}, ...}: the held-back subscription_counts due,
#: sent now
FLUSH_COUNTS = (
    LIBRARY
    + r"""
local out = {}
local now = now_ms()
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. ':dirty', '-inf', now)) do
  local p = split(key)
  local parts = split(redis.call('HGET', P .. ':dh', key) or '')
  local total = tonumber(redis.call('HGET', P .. ':c:' .. p[1], p[2]) or 0)
  redis.call('ZREM', P .. ':dirty', key)
  redis.call('HDEL', P .. ':dh', key)
  if #parts == 2 and total > 0 then
    publish('c', p[1], p[2], parts[1] .. total .. parts[2], '', '')
    redis.call('HSET', P .. ':t', key, now)
    out[#out + 1] = {p[1], p[2], total}
  end
end
return out
"""
)

#: ARGV: P, node, app, channel, user, info, added, removed, socket id
#: -> {first, members, the channel's serial number of member changes}
JOIN_MEMBER = (
    LIBRARY
    + r"""
local first = member_join(SELF, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], '')
local base = ARGV[3] .. ':' .. ARGV[4]
local serial = tonumber(redis.call('GET', P .. ':s:' .. base) or 0)
return {first, redis.call('HGETALL', P .. ':i:' .. base), serial}
"""
)

#: ARGV: P, node, app, channel, user -> 1 if the user left the cluster
LEAVE_MEMBER = (
    LIBRARY
    + r"""
return member_leave(SELF, ARGV[3], ARGV[4], ARGV[5], '')
"""
)

#: ARGV: P, node, lease ms -> 1 if the node was still registered
RENEW = (
    LIBRARY
    + r"""
local known = redis.call('ZSCORE', NODES, SELF)
redis.call('ZADD', NODES, now_ms() + tonumber(ARGV[3]), SELF)
if known then return 1 end
return 0
"""
)

#: ARGV: P, node -> the changes made by withdrawing every other node whose lease ran out
REAP = (
    LIBRARY
    + r"""
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', NODES, '-inf', now_ms())) do
  if node ~= SELF then
    withdraw(node, '', out)
  end
end
return out
"""
)

#: ARGV: P, node -> the changes made by withdrawing this node (it stops)
WITHDRAW = (
    LIBRARY
    + r"""
return withdraw(SELF, '', {})
"""
)

#: ARGV: P, node, lease ms, msgpack [[app, channel, subscribers, [[user, info, added, removed]...]]...]
#: Restates this node's part after an outage; broadcasts skip this node, whose clients
#: already saw its own decisions. Then tells this node, in the envelope stream (so after
#: every broadcast it has seen, before every later one), the members of its presence
#: channels, to correct what its clients were shown meanwhile. Returns the changes, as
#: REAP does.
RESYNC = (
    LIBRARY
    + r"""
redis.call('ZADD', NODES, now_ms() + tonumber(ARGV[3]), SELF)
local nkey = P .. ':node:' .. SELF
local want = {}
local joins = {}
local entries = cmsgpack.unpack(ARGV[4])
for _, entry in ipairs(entries) do
  local app, channel = entry[1], entry[2]
  want['c' .. SEP .. app .. SEP .. channel] = entry[3]
  for _, m in ipairs(entry[4]) do
    local field = 'm' .. SEP .. app .. SEP .. channel .. SEP .. m[1]
    want[field] = true
    joins[#joins + 1] = {app, channel, m}
  end
end
local out = {}
local have = redis.call('HGETALL', nkey)
local counts = {}
for i = 1, #have, 2 do
  local p = split(have[i])
  if p[1] == 'm' and not want[have[i]] and member_leave(SELF, p[2], p[3], p[4], SELF) == 1 then
    out[#out + 1] = {p[2], 'member_removed', p[3], p[4]}
  elseif p[1] == 'c' then
    counts[have[i]] = tonumber(have[i + 1])
  end
end
for field, wanted in pairs(want) do
  if type(wanted) == 'number' then
    local delta = wanted - (counts[field] or 0)
    counts[field] = nil
    if delta ~= 0 then
      local p = split(field)
      local total = count(SELF, p[2], p[3], delta, '', '', SELF)
      if total == delta then
        out[#out + 1] = {p[2], 'channel_occupied', p[3], ''}
      end
    end
  end
end
for field, had in pairs(counts) do
  local p = split(field)
  if count(SELF, p[2], p[3], -had, '', '', SELF) == 0 then
    out[#out + 1] = {p[2], 'channel_vacated', p[3], ''}
  end
end
for _, j in ipairs(joins) do
  local m = j[3]
  if member_join(SELF, j[1], j[2], m[1], m[2], m[3], m[4], '', SELF) == 1 then
    out[#out + 1] = {j[1], 'member_added', j[2], m[1]}
  end
end
local sync = {}
for _, entry in ipairs(entries) do
  if #entry[4] > 0 then
    local flat = redis.call('HGETALL', P .. ':i:' .. entry[1] .. ':' .. entry[2])
    local members = {}
    for i = 1, #flat, 2 do
      members[flat[i]] = flat[i + 1]
    end
    sync[#sync + 1] = {entry[1], entry[2], members}
  end
end
redis.call('PUBLISH', EVENTS, cmsgpack.pack({1, 's', '', '', SELF, cjson.encode(sync), '', '', ''}))
return out
"""
)

#: ARGV: P, node, app, channel, event, data, ttl ms -> 1
REMEMBER = (
    LIBRARY
    + r"""
local key = P .. ':cache:' .. ARGV[3] .. ':' .. ARGV[4]
local ttl = tonumber(ARGV[7])
local now = now_ms()
redis.call('SET', key, cmsgpack.pack({ARGV[3], ARGV[4], ARGV[5], ARGV[6]}), 'PX', ttl)
redis.call('ZADD', P .. ':caches', now + ttl, key)
redis.call('ZREMRANGEBYSCORE', P .. ':caches', '-inf', now)
return 1
"""
)

#: ARGV: P, node -> {{app, channel, event, data, ms left}, ...}: every cache channel's
#: last event still alive
CACHED = (
    LIBRARY
    + r"""
local index = P .. ':caches'
redis.call('ZREMRANGEBYSCORE', index, '-inf', now_ms())
local out = {}
for _, key in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local packed = redis.call('GET', key)
  local left = redis.call('PTTL', key)
  if packed and left > 0 then
    local entry = cmsgpack.unpack(packed)
    entry[5] = left
    out[#out + 1] = entry
  end
end
return out
"""
)

#: ARGV: P, node, app, prefix -> flat {channel, subscriptions, users, ...}
CHANNELS = (
    LIBRARY
    + r"""
local app, prefix = ARGV[3], ARGV[4]
local counts = redis.call('HGETALL', P .. ':c:' .. app)
local out = {}
for i = 1, #counts, 2 do
  local channel = counts[i]
  if string.sub(channel, 1, #prefix) == prefix then
    out[#out + 1] = channel
    out[#out + 1] = tonumber(counts[i + 1])
    out[#out + 1] = redis.call('HLEN', P .. ':m:' .. app .. ':' .. channel)
  end
end
return out
"""
)

#: ARGV: P, node, app, channel -> {subscriptions, users}
CHANNEL = (
    LIBRARY
    + r"""
local n = redis.call('HGET', P .. ':c:' .. ARGV[3], ARGV[4])
return {tonumber(n or 0), redis.call('HLEN', P .. ':m:' .. ARGV[3] .. ':' .. ARGV[4])}
"""
)

#: ARGV: P, node, app, channel -> the user ids
USERS = (
    LIBRARY
    + r"""
return redis.call('HKEYS', P .. ':m:' .. ARGV[3] .. ':' .. ARGV[4])
"""
)
