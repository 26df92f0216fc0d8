-- wrk script for the apply benchmark: every request POSTs a Repository with a
-- name no other request uses (run tag + wrk thread number + per-thread counter),
-- so each one is a create and the store must grow by one object per 2xx.
local threads = {}
local token = os.getenv("KRATE_TOKEN") or ""
local tag = os.getenv("BENCH_TAG") or "run"

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local n = 0
local headers = {
   ["Authorization"] = "Bearer " .. token,
   ["Content-Type"] = "application/json",
}

function request()
   n = n + 1
   local body = string.format(
      '{"kind":"Repository","metadata":{"name":"%s-t%d-%d"},"spec":{"visibility":"public"}}',
      tag, tid, n)
   return wrk.format("POST", "/api/orgs/bench/resources", headers, body)
end
