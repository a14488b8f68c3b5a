-- wrk script: the votes of vote.lua on a fixed schedule of `rate` requests per second (its
-- 4th argument), for latency at a given load. Each connection claims the next slot of one schedule.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "vote.lua")

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec;
int clock_gettime(int clk, timespec *tp);
]]
local ts = ffi.new("timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function delay()
  if interval == 0 then return 0 end
  if start == nil then start = now_ms() end
  -- Claim the next slot here (not in request()): several connections may ask for their delay
  -- before any of them sends.
  local slot = start + claimed * interval
  claimed = claimed + 1
  local wait = slot - now_ms()
  if wait < 0 then return 0 end
  return wait
end
