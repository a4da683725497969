-- wrk script for bench/web_load.py.
--
--   wrk ... -s bench/web_load.lua URL -- get
--   wrk ... -s bench/web_load.lua URL -- post BODIES_FILE key|nokey NONCE
--
-- "post" sends the request bodies in BODIES_FILE (one JSON document a line) in turn; with "key"
-- every request carries its own Idempotency-Key (NONCE-thread-counter), as a careful client's
-- first attempt would. At the end, one line "WRKJSON {...}" with the figures web_load.py reads.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   mode = args[1] or "get"
   sent = 0
   if mode == "post" then
      bodies = {}
      for line in io.lines(args[2]) do
         table.insert(bodies, line)
      end
      with_key = args[3] == "key"
      nonce = args[4] or "run"
   end
end

function request()
   if mode ~= "post" then
      return wrk.format("GET")
   end
   sent = sent + 1
   local headers = { ["Content-Type"] = "application/json" }
   if with_key then
      headers["Idempotency-Key"] = string.format("%s-%d-%d", nonce, id, sent)
   end
   return wrk.format("POST", nil, headers, bodies[(sent % #bodies) + 1])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, '
         .. '"status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
      e.timeout))
end
