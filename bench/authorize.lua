-- wrk script: POST /v1/authorize on one hot budget (the cost center
-- "bench"), every call a new reservation (none expires during the run),
-- with the key in TG_KEY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TG_KEY")
wrk.body = '{"cost_center":"bench","provider":"openai","model":"gpt-4o",' ..
    '"estimate":{"input_tokens":1000,"max_output_tokens":2000},' ..
    '"reservation_ttl_s":3600}'
