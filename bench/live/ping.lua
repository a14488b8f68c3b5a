-- wrk script for the raw ceiling: GET the trivial endpoint of the same app and server, with the
-- same client-side work as vote.lua (a request built in Lua, every response inspected), so the
-- generator takes the same share of the machine in both runs.
local counter = 0
local threads = {}

function init(args)
  ok = 0
  bad = 0
end

function setup(thread)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local ip = "10.1." .. math.floor(counter / 250) % 250 .. "." .. counter % 250
  return wrk.format("GET", "/live/api/ping", {["X-Forwarded-For"] = ip, ["X-Request"] = 'r' .. counter .. 'xxxxxx'})
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
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
