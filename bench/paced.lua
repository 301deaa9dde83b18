-- wrk script: each connection sends one request every PACE_MS
-- milliseconds (default 3: about 10k requests/s over 32 connections), so
-- that latency is measured below saturation, where queueing in a busy
-- server and in wrk itself does not decide the percentiles. With
-- TG_AUTHORIZE set, the request of authorize.lua.
local pace = tonumber(os.getenv("PACE_MS") or "3")

if os.getenv("TG_AUTHORIZE") then
	dofile("bench/authorize.lua")
end

function delay()
	return pace
end
