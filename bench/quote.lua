-- wrk script: POST /v1/quote with a typical usage, authenticated with the
-- key in TG_KEY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TG_KEY")
wrk.body = '{"provider":"openai","model":"gpt-4o","usage":' ..
    '{"input_tokens":1200,"cached_input_tokens":800,"output_tokens":350}}'
