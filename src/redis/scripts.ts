/**
 * Every Lua script the Redis engine runs, in one place: what each does to
 * which keys is read here, beside the others, rather than in the code that
 * calls it. Each runs atomically on the server, by its SHA once loaded.
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Client } from "./connection.ts";

/** A Lua script, run by its SHA once loaded. */
export class Script {
  readonly lua: string;
  readonly keys: number;
  #sha: string | undefined;

  constructor(lua: string, keys: number) {
    this.lua = lua;
    this.keys = keys;
  }

  /** Runs the script; loads it again if the server forgot it (restart). */
  async run(
    client: Client,
    keys: string[],
    args: (string | number | Uint8Array)[],
  ): Promise<unknown> {
    const rest = [...keys, ...args] as (string | number | Buffer)[];
    if (this.#sha) {
      try {
        return await client.callBuffer("EVALSHA", [
          this.#sha,
          this.keys,
          ...rest,
        ]);
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) {
          throw error;
        }
      }
    }
    this.#sha = String(await client.call("SCRIPT", ["LOAD", this.lua]));
    return await client.callBuffer("EVALSHA", [this.#sha, this.keys, ...rest]);
  }
}

// Returns {added, length}, or {-1, 0} when the stream is gone (lost).
// ARGV: the bound, the layout ('1': one argument per item, its data, as
// most items are; '0': kind, options, data per item), the items.
export const ADD_UP_TO = new Script(
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local cap = tonumber(ARGV[1])
local len = redis.call('XLEN', KEYS[1])
local n = 0
if ARGV[2] == '1' then
  local last = math.min(#ARGV, 2 + cap - len)
  for i = 3, last do redis.call('XADD', KEYS[1], '*', 'd', ARGV[i]) end
  if last > 2 then n = last - 2 end
  return {n, len + n}
end
for i = 3, #ARGV, 3 do
  if len >= cap then break end
  local f = {'d', ARGV[i + 2]}
  if ARGV[i] ~= '' then f[#f + 1] = 'k'; f[#f + 1] = ARGV[i] end
  if ARGV[i + 1] ~= '0' then f[#f + 1] = 'o'; f[#f + 1] = ARGV[i + 1] end
  redis.call('XADD', KEYS[1], '*', unpack(f))
  len = len + 1
  n = n + 1
end
return {n, len}`,
  1,
);

// Finishes entries: acknowledged, then deleted (the stream's length is
// "not finished"). ARGV: the group, then the ids (at most ACK_MAX: Lua
// unpacks at most about 8000 values).
export const ACK = new Script(
  `redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))`,
  1,
);

/** The most ids one {@linkcode ACK} call takes. */
export const ACK_MAX = 4096;

// Takes over items idle for ARGV[3] ms; moves those delivered more than
// ARGV[6] times (end markers aside) to the dead-letter stream.
export const CLAIM = new Script(
  `local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {r[1]}
local max = tonumber(ARGV[6])
for _, e in ipairs(r[2]) do
  local id = e[1]
  local f = e[2]
  if f then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local count = 1
    if p[1] then count = tonumber(p[1][4]) end
    local kind = ''
    for i = 1, #f, 2 do if f[i] == 'k' then kind = f[i + 1] end end
    if count > max and kind ~= ARGV[7] then
      f[#f + 1] = 'id'; f[#f + 1] = id
      f[#f + 1] = 'deliveries'; f[#f + 1] = tostring(count - 1)
      redis.call('XADD', KEYS[2], '*', unpack(f))
      redis.call('XACK', KEYS[1], ARGV[1], id)
      redis.call('XDEL', KEYS[1], id)
    else
      out[#out + 1] = id
      out[#out + 1] = f
      out[#out + 1] = count
    end
  end
end
return out`,
  2,
);

// 1 while a data item (not an end marker) before ARGV[2] is pending.
export const BARRIER = new Script(
  `local start = '-'
while true do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], start, '(' .. ARGV[2], 100)
  for _, x in ipairs(p) do
    local e = redis.call('XRANGE', KEYS[1], x[1], x[1])
    if e[1] then
      local kind = ''
      local f = e[1][2]
      for i = 1, #f, 2 do if f[i] == 'k' then kind = f[i + 1] end end
      if kind ~= ARGV[3] then return 1 end
    end
  end
  if #p < 100 then return 0 end
  start = '(' .. p[#p][1]
end`,
  1,
);

// Resets the idle time of everything this consumer holds.
export const HEARTBEAT = new Script(
  `local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 7000, ARGV[2])
local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for _, x in ipairs(p) do args[#args + 1] = x[1] end
if #args == 5 then return 0 end
args[#args + 1] = 'JUSTID'
redis.call(unpack(args))
return #args - 6`,
  1,
);

// A consumer that holds nothing leaves the group: it is known to have
// ended well (see UNFINISHED), not to have died.
export const LEAVE = new Script(
  `local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])`,
  1,
);

// How many entries are unfinished, for endqAndWaitRemote(): -1 when the
// stream is gone, -2 when its group is. ARGV: group, END, the waiter's
// consumer, RETURNED, the waiter's claim time, then the names of the
// connections open now ("*" alone: not known).
//
// The worker-death rule: when only end markers are left, none of them held
// by a live consumer, no other consumer is live, and there are no more of
// them than dead consumers, they are the dead workers' markers: retired,
// with those consumers. Dead means silent past its own claim time (carried
// in its name) and its reader's connection (named after it) closed: a
// process that was killed, not one that is slow (starved of CPU, say),
// which would wait for ever for a marker taken from it. A worker that has
// not started yet keeps its marker: it is neither live nor dead, so the
// markers outnumber the dead.
export const UNFINISHED = new Script(
  `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local found = false
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  for i = 1, #g, 2 do
    if g[i] == 'name' and g[i + 1] == ARGV[1] then found = true end
  end
end
if not found then return -2 end
local len = redis.call('XLEN', KEYS[1])
if len == 0 or len > 1000 then return len end
local markers = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local kind = ''
  local f = e[2]
  for i = 1, #f, 2 do if f[i] == 'k' then kind = f[i + 1] end end
  if kind ~= ARGV[2] then return len end
  markers[#markers + 1] = e[1]
end
local open = {}
for i = 6, #ARGV do open[ARGV[i]] = true end
local dead = {}
local ndead = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, idle = '', 0
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] end
    if c[i] == 'idle' then idle = tonumber(c[i + 1]) end
  end
  if name ~= ARGV[3] and name ~= ARGV[4] then
    local limit = tonumber(string.match(name, '%.(%d+)$') or ARGV[5])
    if idle <= limit or open[name] or open['*'] then return len end
    dead[#dead + 1] = name
    ndead = ndead + 1
  end
end
if #markers > ndead then return len end
for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', #markers)) do
  if p[2] == ARGV[3] then return len end
end
for _, id in ipairs(markers) do
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
end
for _, name in ipairs(dead) do
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
end
return 0`,
  1,
);

// Server time in ms, at the top of each script below.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: producers, state. ARGV: id, ttl, expected count. Returns the count
// of producers made so far, or -1 when the queue is sealed.
export const OPEN = new Script(
  `${NOW}if redis.call('HGET', KEYS[2], 'sealed') == '1' then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local opened = redis.call('HINCRBY', KEYS[2], 'opened', 1)
local expected = tonumber(ARGV[3])
if expected > 0 and opened >= expected then
  redis.call('HSET', KEYS[2], 'sealed', '1')
end
return opened`,
  2,
);

// KEYS: producers. ARGV: id, ttl. 1 when renewed, 0 when the lease had run out.
export const RENEW = new Script(
  `${NOW}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1`,
  1,
);

// KEYS: stream, producers, state. 0 open, 1 draining, 2 done.
export const STATE = new Script(
  `${NOW}redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('HGET', KEYS[3], 'sealed') ~= '1' then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
if redis.call('XLEN', KEYS[1]) > 0 then return 1 end
return 2`,
  3,
);
