-- wrk script for the GET benchmark: one resource, same request line for Krate and nginx.
-- KRATE_TOKEN comes from the environment so the token never appears on a command line.
local token = os.getenv("KRATE_TOKEN") or ""
wrk.headers["Authorization"] = "Bearer " .. token
