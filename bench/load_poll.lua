-- bench/load_poll.lua — wrk script for bench/load.sh: GET requests that rotate over the polling paths given
-- after `--` (e.g. /v1/jobs/ID for each running job, /v1/jobs, /v1/jobs?status=running), each connection
-- starting at a different place in the list, and a count of answers per status class. wrk's own summary
-- already has "Non-2xx or 3xx responses"; the `response` hook separates 3xx, 4xx and 5xx, and `done` prints
--   LOAD_STATUS 2xx=N 3xx=N 4xx=N 5xx=N other=N
-- summed over wrk's threads (each thread runs its own Lua state; `setup` keeps them so `done` can read them).

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for i, path in ipairs(args) do paths[i] = path end
  if #paths == 0 then paths[1] = "/healthz" end
  -- Spread the threads over the rotation so that every path is asked for from the first second.
  cursor = (thread_index or 0) * 7 % #paths
  s2, s3, s4, s5, sx = 0, 0, 0, 0, 0
end

function request()
  cursor = cursor % #paths + 1
  return wrk.format("GET", paths[cursor], { ["Accept"] = "application/json" })
end

function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status >= 400 then s4 = s4 + 1
  elseif status >= 300 then s3 = s3 + 1
  elseif status >= 200 then s2 = s2 + 1
  else sx = sx + 1 end
end

function done(summary, latency, requests)
  local t2, t3, t4, t5, tx = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t2 = t2 + thread:get("s2")
    t3 = t3 + thread:get("s3")
    t4 = t4 + thread:get("s4")
    t5 = t5 + thread:get("s5")
    tx = tx + thread:get("sx")
  end
  io.write(string.format("LOAD_STATUS 2xx=%d 3xx=%d 4xx=%d 5xx=%d other=%d\n", t2, t3, t4, t5, tx))
end
