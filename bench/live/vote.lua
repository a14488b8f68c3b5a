-- wrk script: every request is a new voter (a fresh device token) casting one vote, flat out.
-- paced.lua adds a fixed schedule on top (wrk handles every request through a timer once a
-- script defines delay(), which costs the generator CPU, so the flat-out runs go without it).
-- Args (after --): tokens-file code finalists(comma list) rate(per thread, 0 = flat out) run-tag form [check]
-- form: "compact" (default; what the voter page sends: fields in the query string, the token in
-- an Authorization header, no body) or "json" (the same vote as a JSON body).
-- Every request is built in init(), before wrk starts its clock, so the generator spends its share
-- of the machine on sending and receiving, not on building strings (ping.lua does the same).
-- Without "check", responses are not handed to Lua: wrk counts every status >= 400 as an error,
-- and the acknowledged votes are the requests without one (a vote is answered 200 only once it is
-- committed). With "check", each response is inspected in Lua and the first errors are printed.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function check_response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
  end
end

function init(args)
  local file, code, finalists, rate = args[1], args[2], args[3], tonumber(args[4] or "0")
  local tag = args[5] or "r"
  local form = args[6] or "compact"
  bad = 0
  if args[7] == "check" then response = check_response else response = nil end
  local path = "/live/api/" .. code .. "/vote"
  local ideas = {}
  for id in string.gmatch(finalists, "[^,]+") do table.insert(ideas, id) end
  requests = {}
  local n = 0
  for token in io.lines(file) do
    n = n + 1
    local idea = ideas[(n * 7 + tid) % #ideas + 1]
    local vote_id = tag .. 't' .. tid .. 'v' .. n .. 'xxxxxx'
    local ip = "10." .. (tid % 250) .. "." .. math.floor(n / 250) % 250 .. "." .. n % 250
    if form == "json" then
      local body = '{"token":"' .. token .. '","idea":' .. idea .. ',"vote_id":"' .. vote_id .. '","seq":1}'
      requests[n] = wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
    else
      requests[n] = wrk.format("POST", path .. "?idea=" .. idea .. "&vote_id=" .. vote_id .. "&seq=1",
        {["Authorization"] = "Bearer " .. token, ["X-Forwarded-For"] = ip, ["Content-Length"] = "0"})
    end
  end
  counter = 0
  interval = rate > 0 and (1000.0 / rate) or 0
  start = nil
  claimed = 0
end

function request()
  counter = counter + 1
  -- Past the last prepared voter the requests would repeat (duplicates); the bench prepares
  -- more voters than a run can send and reports "exhausted" if a run got there.
  if counter > #requests then exhausted = 1 end
  return requests[(counter - 1) % #requests + 1]
end

function done(summary, latency, requests_done)
  local exhausted_any = 0
  for _, thread in ipairs(threads) do
    if thread:get("exhausted") == 1 then exhausted_any = 1 end
  end
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"acked":%d,"failed":%d,"socket_errors":%d,"exhausted":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.requests - summary.errors.status, summary.errors.status,
    socket_errors, exhausted_any,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
