-- wrk script: POST /v1/usage with BATCH events per request, every id new
-- (thread id, request counter, position), booked to the cost center
-- "bench", with the key in TG_KEY.
local batch = tonumber(os.getenv("BATCH") or "1000")
local counter = 0
local tid = 0

function setup(thread)
	tid = tid + 1
	thread:set("tid", tid)
end

function request()
	counter = counter + 1
	local parts = {}
	for i = 1, batch do
		parts[i] = string.format(
		    '{"id":"b%d-%d-%d-%d","cost_center":"bench","provider":"openai",' ..
		    '"model":"gpt-4o","occurred_at":"2026-10-05T12:00:00Z",' ..
		    '"usage":{"input_tokens":%d,"output_tokens":200}}',
		    tid, os.time(), counter, i, 1000 + i)
	end
	return wrk.format("POST", nil, {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. os.getenv("TG_KEY")
	}, "[" .. table.concat(parts, ",") .. "]")
end
