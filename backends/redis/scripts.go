package redis

import goredis "github.com/redis/go-redis/v9"

// The registry's Lua scripts. Each runs atomically on the server, so a register racing
// an unregister or a purge of another node never leaves an index and a hash that
// disagree. They touch keys derived from stored values (the index of the node an entry
// moves away from, the heartbeats of a user's nodes), which a single Redis server
// allows; a Redis Cluster would need the keys of one user and its nodes in one slot.

// registerScript records an entry, taking it out of the index of the node that held it
// before, if another.
//
//	KEYS[1] user hash, KEYS[2] index of the new node
//	ARGV[1] resource, ARGV[2] encoded entry, ARGV[3] index member, ARGV[4] node,
//	ARGV[5] prefix of index keys
var registerScript = goredis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local bar = string.find(old, '|', 1, true)
  if bar then
    local prev = string.sub(old, 1, bar - 1)
    if prev ~= ARGV[4] then redis.call('SREM', ARGV[5] .. prev, ARGV[3]) end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`)

// unregisterScript removes an entry if the given node holds it, and the entry from that
// node's index in any case. It returns 1 when it removed the entry.
//
//	KEYS[1] user hash, KEYS[2] index of the node
//	ARGV[1] resource, ARGV[2] node followed by '|', ARGV[3] index member
var unregisterScript = goredis.NewScript(`
redis.call('SREM', KEYS[2], ARGV[3])
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, #ARGV[2]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`)

// userScript returns resource, entry, resource, entry, ... of a user's entries whose
// node's heartbeat key exists. Read-only.
//
//	KEYS[1] user hash
//	ARGV[1] prefix of heartbeat keys
var userScript = goredis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
local live, out = {}, {}
for i = 1, #all, 2 do
  local v = all[i + 1]
  local bar = string.find(v, '|', 1, true)
  local node = v
  if bar then node = string.sub(v, 1, bar - 1) end
  local ok = live[node]
  if ok == nil then
    ok = redis.call('EXISTS', ARGV[1] .. node) == 1
    live[node] = ok
  end
  if ok then
    out[#out + 1] = all[i]
    out[#out + 1] = v
  end
end
return out
`)

// refreshScript extends a node's heartbeat, creating it with a new epoch when absent,
// lists the node among the known ones, and returns the epoch in force.
//
//	KEYS[1] heartbeat key, KEYS[2] set of nodes
//	ARGV[1] epoch for a new heartbeat, ARGV[2] TTL in milliseconds, ARGV[3] node
var refreshScript = goredis.NewScript(`
local e = redis.call('GET', KEYS[1])
if not e then e = ARGV[1] end
redis.call('SET', KEYS[1], e, 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return e
`)
