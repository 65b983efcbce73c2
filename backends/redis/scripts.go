package redis

import goredis "github.com/redis/go-redis/v9"

// The registry's Lua scripts. Each runs atomically on the server, so a register racing
// an unregister or a purge of another node never leaves an index and a hash that
// disagree. They touch keys derived from stored values (the index of the node an entry
// moves away from, the heartbeats of a user's nodes), which a single Redis server
// allows; a Redis Cluster would need the keys of one user and its nodes in one slot.

// writeScript applies a batch of registrations and removals, in order, in one call: one
// command to parse and one reply per batch rather than per write. It
// returns one result per write: 1 (registered, or removed), 0 (nothing to remove), or
// the error of that write alone (redis.pcall), the others being applied regardless.
//
//	ARGV[1] prefix of index keys, then 7 per write:
//	kind ("r" register, "u" unregister), user hash, index of the writing node, resource,
//	entry (r) or node followed by '|' (u), index member, node
//
// A registration takes the entry out of the index of the node that held it before, if
// another; a removal deletes the entry only if the writing node holds it, and its
// member from that node's index in any case.
var writeScript = goredis.NewScript(`
local p, out, n = ARGV[1], {}, 0
for i = 2, #ARGV, 7 do
  local kind, ukey, ikey, res, arg, mem, node = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  n = n + 1
  local ok, err = pcall(function()
    if kind == 'r' then
      local old = redis.call('HGET', ukey, res)
      if old then
        local bar = string.find(old, '|', 1, true)
        if bar then
          local prev = string.sub(old, 1, bar - 1)
          if prev ~= node then redis.call('SREM', p .. prev, mem) end
        end
      end
      redis.call('HSET', ukey, res, arg)
      redis.call('SADD', ikey, mem)
      out[n] = 1
    else
      redis.call('SREM', ikey, mem)
      local v = redis.call('HGET', ukey, res)
      if v and string.sub(v, 1, #arg) == arg then
        redis.call('HDEL', ukey, res)
        out[n] = 1
      else
        out[n] = 0
      end
    end
  end)
  if not ok then
    if type(err) == 'table' and err.err then out[n] = err else out[n] = redis.error_reply(tostring(err)) end
  end
end
return out
`)

// writeArgs is the number of script arguments per write.
const writeArgs = 7

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
