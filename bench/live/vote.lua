-- wrk script: every request is a new voter (a fresh device token) casting one vote.
-- Args (after --): tokens-file code finalists(comma list) rate(per thread, 0 = flat out) run-tag form
-- form: "compact" (default; what the voter page sends: fields in the query string, the token in
-- an Authorization header, no body) or "json" (the same vote as a JSON body)
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

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, code, finalists, rate = args[1], args[2], args[3], tonumber(args[4] or "0")
  tag = args[5] or "r"
  form = args[6] or "compact"
  nthreads = 1
  path = "/live/api/" .. code .. "/vote"
  ideas = {}
  for id in string.gmatch(finalists, "[^,]+") do table.insert(ideas, id) end
  tokens = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then table.insert(tokens, line) end
    i = i + 1
  end
  interval = rate > 0 and (1000.0 / rate) or 0
  start = nil
  claimed = 0
  sent = 0
  ok = 0
  bad = 0
  statuses = {}
end

function delay()
  if interval == 0 then return 0 end
  if start == nil then start = now_ms() end
  -- Claim the next slot of a fixed schedule here (not in request()): several connections may
  -- ask for their delay before any of them sends.
  local slot = start + claimed * interval
  claimed = claimed + 1
  local wait = slot - now_ms()
  if wait < 0 then return 0 end
  return wait
end

function request()
  sent = sent + 1
  counter = counter + 1
  local token = tokens[(counter - 1) % #tokens + 1]
  local idea = ideas[(counter * 7 + tid) % #ideas + 1]
  local vote_id = tag .. 't' .. tid .. 'v' .. counter .. 'xxxxxx'
  local ip = "10." .. (tid % 250) .. "." .. math.floor(counter / 250) % 250 .. "." .. counter % 250
  if form == "json" then
    local body = '{"token":"' .. token .. '","idea":' .. idea .. ',"vote_id":"' .. vote_id .. '","seq":1}'
    return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
  end
  return wrk.format("POST", path .. "?idea=" .. idea .. "&vote_id=" .. vote_id .. "&seq=1",
    {["Authorization"] = "Bearer " .. token, ["X-Forwarded-For"] = ip, ["Content-Length"] = "0"})
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
    if bad <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local acked, failed = 0, 0
  for _, thread in ipairs(threads) do
    acked = acked + thread:get("ok")
    failed = failed + thread:get("bad")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"acked":%d,"failed":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, acked, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
