-- One wrk script for every case of `make bench`.
--   BENCH_HEADERS   "Name: value|Name: value" sent with every request (cookies, CSRF)
--   BENCH_METHOD / BENCH_BODY   for a single repeated request (path from the URL)
--   BENCH_REQUESTS  a file of distinct requests, one per line:
--                   METHOD<TAB>PATH<TAB>Header: v|Header: v<TAB>BODY
--                   threads take every Nth line and cycle (the runner writes
--                   enough lines that none repeats within a run)
--   BENCH_EXPECT    the status a request must answer (default: any 2xx)
-- done() prints one line "BENCH_JSON {...}" with rate, percentiles and errors,
-- counting a wrong status (a redirect to the login page, say) as an error.

local threads = {}
local thread_count = 0

local function split_headers(text, into)
  if text == nil or text == "" then return into end
  for item in string.gmatch(text, "[^|]+") do
    local name, value = string.match(item, "^%s*([^:]+):%s*(.*)$")
    if name then into[name] = value end
  end
  return into
end

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  thread:set("nthreads", 0)
  table.insert(threads, thread)
end

local lines = nil
local position = 1
local common = {}
local expect = nil
bad = 0  -- globals: done() reads them with thread:get
seen_text = ""
local seen = {}

function init(args)
  common = split_headers(os.getenv("BENCH_HEADERS"), {})
  expect = tonumber(os.getenv("BENCH_EXPECT") or "")
  local file = os.getenv("BENCH_REQUESTS")
  local me = id
  local total = tonumber(os.getenv("BENCH_THREADS") or "2")
  if file and file ~= "" then
    lines = {}
    local n = 0
    for line in io.lines(file) do
      if n % total == me then
        local method, path, headers, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
        local h = split_headers(headers, {})
        for k, v in pairs(common) do if h[k] == nil then h[k] = v end end
        table.insert(lines, wrk.format(method, path, h, body ~= "" and body or nil))
      end
      n = n + 1
    end
  else
    for k, v in pairs(common) do wrk.headers[k] = v end
    wrk.method = os.getenv("BENCH_METHOD") or "GET"
    local body = os.getenv("BENCH_BODY")
    if body and body ~= "" then wrk.body = body end
  end
end

function request()
  if lines then
    local r = lines[position]
    position = position + 1
    if position > #lines then position = 1 end
    return r
  end
  return wrk.format()
end

function response(status, headers, body)
  local ok
  if expect then ok = (status == expect) else ok = (status >= 200 and status < 300) end
  if not ok then
    bad = bad + 1
    seen[status] = (seen[status] or 0) + 1
    local parts = {}
    for k, v in pairs(seen) do table.insert(parts, k .. ":" .. v) end
    seen_text = table.concat(parts, " ")
  end
end

function done(summary, latency, requests)
  local wrong = 0
  local statuses = {}
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("bad") or 0)
    local s = thread:get("seen_text") or ""
    if s ~= "" then table.insert(statuses, s) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"socket_errors": %d, "bad_status": %d, "statuses": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, wrong, table.concat(statuses, ",")))
end

