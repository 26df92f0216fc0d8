-- wrk script for the apply benchmark: every request POSTs an Issue with a
-- name no other request uses (run tag + wrk thread number + per-thread counter),
-- so each one is a create and the store must grow by one object per 2xx.
-- (Issues measure the API and store alone: a Repository also makes the forge
-- create a bare git repository.)
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
      '{"kind":"Issue","metadata":{"name":"%s-t%d-%d"},"spec":{"title":"benchmark issue"}}',
      tag, tid, n)
   return wrk.format("POST", "/api/orgs/bench/resources", headers, body)
end
