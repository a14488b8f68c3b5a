-- wrk script for the raw ceiling: GET the trivial endpoint of the same app and server, with the
-- same client-side work as vote.lua (requests built in init(), responses left to wrk, which
-- counts every status >= 400 as an error), so the generator takes the same share of the machine.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for n = 1, 200000 do
    local ip = "10.1." .. math.floor(n / 250) % 250 .. "." .. n % 250
    requests[n] = wrk.format("GET", "/live/api/ping", {["X-Forwarded-For"] = ip, ["X-Request"] = 'r' .. n .. 'xxxxxx'})
  end
  counter = 0
end

function request()
  counter = counter + 1
  return requests[(counter - 1) % #requests + 1]
end

function done(summary, latency, requests_done)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"acked":%d,"failed":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.requests - summary.errors.status, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
