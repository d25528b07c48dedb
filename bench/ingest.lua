-- wrk script for the ingest benchmark (bench/run.sh runs it; one wrk thread: -t1).
--   wrk -t1 -c64 -d30s -s bench/ingest.lua URL -- EVENTS_PER_REQUEST SECONDS TAG RESULT_FILE [omit]
--
-- Every event carries a fresh id (random bits plus TAG and a counter, so never a duplicate) and
-- occurred_at (UTC now, to the second), the way the snippet sends them: its time is then part of the
-- key of the partitioned signal_events. With "omit" the events carry no occurred_at, and the app
-- looks up each id's first-seen time (signal_event_first_seen) instead: that path, measured apart. For SECONDS each connection sends request after request; after that
-- it sends nothing more, and once every answer is in the script stops wrk (SIGINT to itself).
-- So no request is left in flight when wrk exits: every event the app committed got its answer,
-- and the row count can be compared exactly with the events answered 202.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
  int getpid(void);
  int kill(int pid, int sig);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

-- Globals of the thread's Lua state, read by done() (main state) through thread:get.
batch, seconds, tag, result_file, timed = 1, 10, 0, nil, true
started, deadline, last_answer = 0, 0, 0
sent, answered, accepted, duplicates, events_sent = 0, 0, 0, 0, 0
statuses = {}
local counter = 0
local stopping = false
local verified = false
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local contents, targets = {}, {}
local target_types = { "article", "tutor", "listing", "booking", "referral", "wiselist_item" }
local event_types = { "impression", "impression", "impression", "click", "save", "refer", "convert" }
local components = { "listing_grid", "tutor_embed", "tutor_carousel", "cta_button", "inline_link", "floating_save", "article_header" }

local function uuid(low)
  return string.format("%08x-%04x-4%03x-%04x-%012x",
    math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    0x8000 + math.random(0, 0x3fff), low)
end

function init(args)
  batch = tonumber(args[1]) or 1
  seconds = tonumber(args[2]) or 10
  tag = tonumber(args[3]) or 0
  result_file = args[4]
  timed = args[5] ~= "omit"
  math.randomseed(tag * 7919 + 17)
  for i = 1, 50 do contents[i] = uuid(i) end
  for i = 1, 500 do targets[i] = uuid(i) end
  started = now()
  deadline = started + seconds
  last_answer = started
end

-- One request's events share one time: os.date per event would cost the load generator CPU.
local function event(occurred)
  counter = counter + 1
  -- The low 48 bits: TAG (8 bits) and the counter: unique within a bench run.
  local low = tag * 0x10000000000 + counter
  -- A journey (signal_id) of about eight events, as a browser session sends them.
  local journey = math.floor(counter / 8)
  return string.format(
    '{"id":"%s","signal_id":"%08x-0000-4000-8000-%012x","content_id":"%s","target_type":"%s","target_id":"%s",' ..
    '"event_type":"%s","source_component":"%s","session_id":"bench-%d-%d","metadata":{"page":"/blog/post-%d","ref":"bench"}%s}',
    uuid(low), tag, journey, contents[counter % 50 + 1], target_types[counter % 6 + 1], targets[counter % 500 + 1],
    event_types[counter % 7 + 1], components[counter % 7 + 1], tag, journey, counter % 50, occurred)
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  if not verified then
    -- wrk calls request() once before the run to check what it returns: not sent, not counted.
    verified = true
    return wrk.format("POST", nil, headers, "{}")
  end
  if now() >= deadline then
    -- Past the window: send nothing; this connection stays idle until wrk stops.
    return ""
  end
  local occurred = timed and ',"occurred_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ") .. '"' or ""
  local body
  if batch == 1 then
    body = event(occurred)
  else
    local parts = {}
    for i = 1, batch do parts[i] = event(occurred) end
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  sent = sent + 1
  events_sent = events_sent + batch
  return wrk.format("POST", nil, headers, body)
end

function response(status, _, body)
  answered = answered + 1
  last_answer = now()
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then
    local a, d = string.match(body, '"accepted":(%d+),"duplicates":(%d+)')
    accepted = accepted + (tonumber(a) or 0)
    duplicates = duplicates + (tonumber(d) or 0)
  end
  if not stopping and answered == sent and last_answer >= deadline then
    stopping = true
    ffi.C.kill(ffi.C.getpid(), 2) -- SIGINT: wrk's main thread stops the run and prints its summary
  end
end

-- CPU seconds wrk itself used (user + system, all threads), for the CPU split of the report.
local function own_cpu_seconds()
  local f = io.open("/proc/self/stat")
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for field in string.gmatch(string.sub(stat, string.find(stat, "%)[^%)]*$") + 2), "%S+") do
    fields[#fields + 1] = field
  end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

function done(summary, latency, _)
  local t = threads[1]
  local codes = {}
  for code, n in pairs(t:get("statuses")) do codes[#codes + 1] = string.format('"%d":%d', code, n) end
  local f = io.open(t:get("result_file"), "w")
  f:write(string.format(
    '{"sent":%d,"answered":%d,"events_sent":%d,"accepted":%d,"duplicates":%d,"elapsed_s":%.4f,' ..
    '"statuses":{%s},"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"socket_errors":%d,"cpu_s":%.2f}\n',
    t:get("sent"), t:get("answered"), t:get("events_sent"), t:get("accepted"), t:get("duplicates"),
    t:get("last_answer") - t:get("started"), table.concat(codes, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    own_cpu_seconds()))
  f:close()
end
