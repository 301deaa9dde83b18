-- Price tables: versions, entries per provider + model + service tier with
-- a price in pico-units (1e-12 of the currency) per unit of each meter
-- (NULL: the meter is not priced), long-context tiers, time-of-day
-- windows, model aliases and negotiated discounts.
--
-- A version is written once and never changed; a new import is a new
-- version with a later effective_from. Events are priced with the version
-- in force at their occurred_at.

CREATE TABLE price_versions (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	effective_from timestamptz NOT NULL UNIQUE,
	source         text NOT NULL CHECK (source IN ('native', 'litellm')),
	note           text NOT NULL DEFAULT '',
	created_by     text REFERENCES api_keys (id),
	created_at     timestamptz NOT NULL DEFAULT now(),
	report         jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE price_entries (
	version_id        bigint NOT NULL REFERENCES price_versions (id),
	provider          text NOT NULL,
	model             text NOT NULL,
	service_tier      text NOT NULL CHECK (service_tier IN
	                      ('standard', 'batch', 'flex', 'priority')),
	max_input_tokens  bigint CHECK (max_input_tokens > 0),
	max_output_tokens bigint CHECK (max_output_tokens > 0),
	input_pico bigint CHECK (input_pico BETWEEN 0 AND 1000000000000000),
	cached_input_pico bigint CHECK (cached_input_pico BETWEEN 0 AND 1000000000000000),
	cache_write_5m_pico bigint CHECK (cache_write_5m_pico BETWEEN 0 AND 1000000000000000),
	cache_write_1h_pico bigint CHECK (cache_write_1h_pico BETWEEN 0 AND 1000000000000000),
	output_pico bigint CHECK (output_pico BETWEEN 0 AND 1000000000000000),
	reasoning_pico bigint CHECK (reasoning_pico BETWEEN 0 AND 1000000000000000),
	audio_input_pico bigint CHECK (audio_input_pico BETWEEN 0 AND 1000000000000000),
	audio_output_pico bigint CHECK (audio_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_pico bigint CHECK (image_input_pico BETWEEN 0 AND 1000000000000000),
	image_output_pico bigint CHECK (image_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_token_pico bigint CHECK (image_input_token_pico BETWEEN 0 AND 1000000000000000),
	image_output_token_pico bigint CHECK (image_output_token_pico BETWEEN 0 AND 1000000000000000),
	request_pico bigint CHECK (request_pico BETWEEN 0 AND 1000000000000000),
	second_pico bigint CHECK (second_pico BETWEEN 0 AND 1000000000000000),
	PRIMARY KEY (version_id, provider, model, service_tier)
);

-- Above above_tokens prompt tokens, these prices replace the entry's.
CREATE TABLE price_context_tiers (
	version_id   bigint NOT NULL,
	provider     text NOT NULL,
	model        text NOT NULL,
	service_tier text NOT NULL,
	above_tokens bigint NOT NULL CHECK (above_tokens > 0),
	input_pico bigint CHECK (input_pico BETWEEN 0 AND 1000000000000000),
	cached_input_pico bigint CHECK (cached_input_pico BETWEEN 0 AND 1000000000000000),
	cache_write_5m_pico bigint CHECK (cache_write_5m_pico BETWEEN 0 AND 1000000000000000),
	cache_write_1h_pico bigint CHECK (cache_write_1h_pico BETWEEN 0 AND 1000000000000000),
	output_pico bigint CHECK (output_pico BETWEEN 0 AND 1000000000000000),
	reasoning_pico bigint CHECK (reasoning_pico BETWEEN 0 AND 1000000000000000),
	audio_input_pico bigint CHECK (audio_input_pico BETWEEN 0 AND 1000000000000000),
	audio_output_pico bigint CHECK (audio_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_pico bigint CHECK (image_input_pico BETWEEN 0 AND 1000000000000000),
	image_output_pico bigint CHECK (image_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_token_pico bigint CHECK (image_input_token_pico BETWEEN 0 AND 1000000000000000),
	image_output_token_pico bigint CHECK (image_output_token_pico BETWEEN 0 AND 1000000000000000),
	request_pico bigint CHECK (request_pico BETWEEN 0 AND 1000000000000000),
	second_pico bigint CHECK (second_pico BETWEEN 0 AND 1000000000000000),
	PRIMARY KEY (version_id, provider, model, service_tier, above_tokens),
	FOREIGN KEY (version_id, provider, model, service_tier)
	    REFERENCES price_entries
);

-- From start_minute to end_minute (local, wrapping past midnight when
-- start > end) in time_zone, these prices replace the entry's.
CREATE TABLE price_windows (
	version_id   bigint NOT NULL,
	provider     text NOT NULL,
	model        text NOT NULL,
	service_tier text NOT NULL,
	seq          smallint NOT NULL,
	time_zone    text NOT NULL,
	start_minute int NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
	end_minute   int NOT NULL CHECK (end_minute BETWEEN 0 AND 1439),
	input_pico bigint CHECK (input_pico BETWEEN 0 AND 1000000000000000),
	cached_input_pico bigint CHECK (cached_input_pico BETWEEN 0 AND 1000000000000000),
	cache_write_5m_pico bigint CHECK (cache_write_5m_pico BETWEEN 0 AND 1000000000000000),
	cache_write_1h_pico bigint CHECK (cache_write_1h_pico BETWEEN 0 AND 1000000000000000),
	output_pico bigint CHECK (output_pico BETWEEN 0 AND 1000000000000000),
	reasoning_pico bigint CHECK (reasoning_pico BETWEEN 0 AND 1000000000000000),
	audio_input_pico bigint CHECK (audio_input_pico BETWEEN 0 AND 1000000000000000),
	audio_output_pico bigint CHECK (audio_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_pico bigint CHECK (image_input_pico BETWEEN 0 AND 1000000000000000),
	image_output_pico bigint CHECK (image_output_pico BETWEEN 0 AND 1000000000000000),
	image_input_token_pico bigint CHECK (image_input_token_pico BETWEEN 0 AND 1000000000000000),
	image_output_token_pico bigint CHECK (image_output_token_pico BETWEEN 0 AND 1000000000000000),
	request_pico bigint CHECK (request_pico BETWEEN 0 AND 1000000000000000),
	second_pico bigint CHECK (second_pico BETWEEN 0 AND 1000000000000000),
	PRIMARY KEY (version_id, provider, model, service_tier, seq),
	FOREIGN KEY (version_id, provider, model, service_tier)
	    REFERENCES price_entries
);

CREATE TABLE price_aliases (
	version_id bigint NOT NULL REFERENCES price_versions (id),
	provider   text NOT NULL,
	alias      text NOT NULL,
	model      text NOT NULL,
	PRIMARY KEY (version_id, provider, alias)
);

-- Negotiated discounts off list, in parts per million; model '' is the
-- provider-wide discount.
CREATE TABLE price_discounts (
	version_id   bigint NOT NULL REFERENCES price_versions (id),
	provider     text NOT NULL,
	model        text NOT NULL DEFAULT '',
	discount_ppm int NOT NULL CHECK (discount_ppm BETWEEN 0 AND 1000000),
	PRIMARY KEY (version_id, provider, model)
);

CREATE FUNCTION tg_price_pico(p jsonb, meter text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT ((p ->> meter)::numeric * 1000000000000)::bigint
$$;

CREATE FUNCTION tg_pico_text(p bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT trim(trailing '.' FROM trim(trailing '0' FROM
	    to_char(p::numeric / 1000000000000, 'FM999999999990.000000000000')))
$$;

CREATE FUNCTION tg_prices_obj(p_input bigint, p_cached_input bigint, p_cache_write_5m bigint, p_cache_write_1h bigint, p_output bigint, p_reasoning bigint, p_audio_input bigint, p_audio_output bigint, p_image_input bigint, p_image_output bigint, p_image_input_token bigint, p_image_output_token bigint, p_request bigint, p_second bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
	    'input', tg_pico_text(p_input),
	    'cached_input', tg_pico_text(p_cached_input),
	    'cache_write_5m', tg_pico_text(p_cache_write_5m),
	    'cache_write_1h', tg_pico_text(p_cache_write_1h),
	    'output', tg_pico_text(p_output),
	    'reasoning', tg_pico_text(p_reasoning),
	    'audio_input', tg_pico_text(p_audio_input),
	    'audio_output', tg_pico_text(p_audio_output),
	    'image_input', tg_pico_text(p_image_input),
	    'image_output', tg_pico_text(p_image_output),
	    'image_input_token', tg_pico_text(p_image_input_token),
	    'image_output_token', tg_pico_text(p_image_output_token),
	    'request', tg_pico_text(p_request),
	    'second', tg_pico_text(p_second)))
$$;

CREATE FUNCTION tg_minute_text(m int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT lpad((m / 60)::text, 2, '0') || ':' || lpad((m % 60)::text, 2, '0')
$$;

-- Store one version from its document (tollgate's native price format,
-- already validated by the server). effective_from must be later than
-- every existing version's; the advisory lock orders concurrent imports.
CREATE FUNCTION price_version_create(p_effective_from timestamptz,
    p_source text, p_note text, p_created_by text, p_report jsonb,
    p_doc jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_latest timestamptz;
BEGIN
	PERFORM pg_advisory_xact_lock(7202);
	SELECT max(effective_from) INTO v_latest FROM price_versions;
	IF v_latest IS NOT NULL AND p_effective_from <= v_latest THEN
		RAISE EXCEPTION 'effective_from must be later than %',
		    tg_rfc3339(v_latest)
		    USING ERRCODE = 'data_exception', DETAIL = 'effective_from';
	END IF;
	INSERT INTO price_versions (effective_from, source, note, created_by,
	    report)
	VALUES (p_effective_from, p_source, p_note, p_created_by, p_report)
	RETURNING id INTO v_id;
	INSERT INTO price_entries (version_id, provider, model, service_tier,
	    max_input_tokens, max_output_tokens, input_pico, cached_input_pico, cache_write_5m_pico, cache_write_1h_pico, output_pico, reasoning_pico, audio_input_pico, audio_output_pico, image_input_pico, image_output_pico, image_input_token_pico, image_output_token_pico, request_pico, second_pico)
	SELECT v_id, e ->> 'provider', e ->> 'model',
	    coalesce(e ->> 'service_tier', 'standard'),
	    (e ->> 'max_input_tokens')::bigint, (e ->> 'max_output_tokens')::bigint,
	    tg_price_pico(e -> 'prices', 'input'),
	    tg_price_pico(e -> 'prices', 'cached_input'),
	    tg_price_pico(e -> 'prices', 'cache_write_5m'),
	    tg_price_pico(e -> 'prices', 'cache_write_1h'),
	    tg_price_pico(e -> 'prices', 'output'),
	    tg_price_pico(e -> 'prices', 'reasoning'),
	    tg_price_pico(e -> 'prices', 'audio_input'),
	    tg_price_pico(e -> 'prices', 'audio_output'),
	    tg_price_pico(e -> 'prices', 'image_input'),
	    tg_price_pico(e -> 'prices', 'image_output'),
	    tg_price_pico(e -> 'prices', 'image_input_token'),
	    tg_price_pico(e -> 'prices', 'image_output_token'),
	    tg_price_pico(e -> 'prices', 'request'),
	    tg_price_pico(e -> 'prices', 'second')
	FROM jsonb_array_elements(p_doc -> 'models') AS e;
	INSERT INTO price_context_tiers (version_id, provider, model,
	    service_tier, above_tokens, input_pico, cached_input_pico, cache_write_5m_pico, cache_write_1h_pico, output_pico, reasoning_pico, audio_input_pico, audio_output_pico, image_input_pico, image_output_pico, image_input_token_pico, image_output_token_pico, request_pico, second_pico)
	SELECT v_id, e ->> 'provider', e ->> 'model',
	    coalesce(e ->> 'service_tier', 'standard'),
	    (t ->> 'above_tokens')::bigint,
	    tg_price_pico(t -> 'prices', 'input'),
	    tg_price_pico(t -> 'prices', 'cached_input'),
	    tg_price_pico(t -> 'prices', 'cache_write_5m'),
	    tg_price_pico(t -> 'prices', 'cache_write_1h'),
	    tg_price_pico(t -> 'prices', 'output'),
	    tg_price_pico(t -> 'prices', 'reasoning'),
	    tg_price_pico(t -> 'prices', 'audio_input'),
	    tg_price_pico(t -> 'prices', 'audio_output'),
	    tg_price_pico(t -> 'prices', 'image_input'),
	    tg_price_pico(t -> 'prices', 'image_output'),
	    tg_price_pico(t -> 'prices', 'image_input_token'),
	    tg_price_pico(t -> 'prices', 'image_output_token'),
	    tg_price_pico(t -> 'prices', 'request'),
	    tg_price_pico(t -> 'prices', 'second')
	FROM jsonb_array_elements(p_doc -> 'models') AS e,
	    jsonb_array_elements(coalesce(e -> 'context_tiers', '[]')) AS t;
	INSERT INTO price_windows (version_id, provider, model, service_tier,
	    seq, time_zone, start_minute, end_minute, input_pico, cached_input_pico, cache_write_5m_pico, cache_write_1h_pico, output_pico, reasoning_pico, audio_input_pico, audio_output_pico, image_input_pico, image_output_pico, image_input_token_pico, image_output_token_pico, request_pico, second_pico)
	SELECT v_id, e ->> 'provider', e ->> 'model',
	    coalesce(e ->> 'service_tier', 'standard'), w.n - 1,
	    w.x ->> 'time_zone',
	    split_part(w.x ->> 'start', ':', 1)::int * 60 +
	        split_part(w.x ->> 'start', ':', 2)::int,
	    split_part(w.x ->> 'end', ':', 1)::int * 60 +
	        split_part(w.x ->> 'end', ':', 2)::int,
	    tg_price_pico(w.x -> 'prices', 'input'),
	    tg_price_pico(w.x -> 'prices', 'cached_input'),
	    tg_price_pico(w.x -> 'prices', 'cache_write_5m'),
	    tg_price_pico(w.x -> 'prices', 'cache_write_1h'),
	    tg_price_pico(w.x -> 'prices', 'output'),
	    tg_price_pico(w.x -> 'prices', 'reasoning'),
	    tg_price_pico(w.x -> 'prices', 'audio_input'),
	    tg_price_pico(w.x -> 'prices', 'audio_output'),
	    tg_price_pico(w.x -> 'prices', 'image_input'),
	    tg_price_pico(w.x -> 'prices', 'image_output'),
	    tg_price_pico(w.x -> 'prices', 'image_input_token'),
	    tg_price_pico(w.x -> 'prices', 'image_output_token'),
	    tg_price_pico(w.x -> 'prices', 'request'),
	    tg_price_pico(w.x -> 'prices', 'second')
	FROM jsonb_array_elements(p_doc -> 'models') AS e,
	    jsonb_array_elements(coalesce(e -> 'windows', '[]'))
	        WITH ORDINALITY AS w (x, n);
	INSERT INTO price_aliases (version_id, provider, alias, model)
	SELECT v_id, a ->> 'provider', a ->> 'alias', a ->> 'model'
	FROM jsonb_array_elements(coalesce(p_doc -> 'aliases', '[]')) AS a;
	INSERT INTO price_discounts (version_id, provider, model, discount_ppm)
	SELECT v_id, d ->> 'provider', coalesce(d ->> 'model', ''),
	    ((d ->> 'percent')::numeric * 10000)::int
	FROM jsonb_array_elements(coalesce(p_doc -> 'discounts', '[]')) AS d;
	RETURN v_id;
END $$;

-- One version as a native price document, the inverse of
-- price_version_create: the server loads versions through its one parser.
CREATE FUNCTION price_version_doc(v bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'models', coalesce((
		SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
		    'provider', e.provider, 'model', e.model,
		    'service_tier', e.service_tier,
		    'max_input_tokens', e.max_input_tokens,
		    'max_output_tokens', e.max_output_tokens,
		    'prices', tg_prices_obj(e.input_pico, e.cached_input_pico, e.cache_write_5m_pico, e.cache_write_1h_pico, e.output_pico, e.reasoning_pico, e.audio_input_pico, e.audio_output_pico, e.image_input_pico, e.image_output_pico, e.image_input_token_pico, e.image_output_token_pico, e.request_pico, e.second_pico),
		    'context_tiers', (
			SELECT jsonb_agg(jsonb_build_object(
			    'above_tokens', t.above_tokens,
			    'prices', tg_prices_obj(t.input_pico, t.cached_input_pico, t.cache_write_5m_pico, t.cache_write_1h_pico, t.output_pico, t.reasoning_pico, t.audio_input_pico, t.audio_output_pico, t.image_input_pico, t.image_output_pico, t.image_input_token_pico, t.image_output_token_pico, t.request_pico, t.second_pico)) ORDER BY t.above_tokens)
			FROM price_context_tiers t
			WHERE (t.version_id, t.provider, t.model, t.service_tier) =
			    (e.version_id, e.provider, e.model, e.service_tier)),
		    'windows', (
			SELECT jsonb_agg(jsonb_build_object(
			    'time_zone', w.time_zone,
			    'start', tg_minute_text(w.start_minute),
			    'end', tg_minute_text(w.end_minute),
			    'prices', tg_prices_obj(w.input_pico, w.cached_input_pico, w.cache_write_5m_pico, w.cache_write_1h_pico, w.output_pico, w.reasoning_pico, w.audio_input_pico, w.audio_output_pico, w.image_input_pico, w.image_output_pico, w.image_input_token_pico, w.image_output_token_pico, w.request_pico, w.second_pico)) ORDER BY w.seq)
			FROM price_windows w
			WHERE (w.version_id, w.provider, w.model, w.service_tier) =
			    (e.version_id, e.provider, e.model, e.service_tier))))
		    ORDER BY e.provider, e.model, e.service_tier)
		FROM price_entries e WHERE e.version_id = v), '[]'),
	    'aliases', coalesce((
		SELECT jsonb_agg(jsonb_build_object('provider', a.provider,
		    'alias', a.alias, 'model', a.model)
		    ORDER BY a.provider, a.alias)
		FROM price_aliases a WHERE a.version_id = v), '[]'),
	    'discounts', coalesce((
		SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
		    'provider', d.provider, 'model', nullif(d.model, ''),
		    'percent', trim(trailing '.' FROM trim(trailing '0' FROM
			to_char(d.discount_ppm::numeric / 10000, 'FM990.0000')))))
		    ORDER BY d.provider, d.model)
		FROM price_discounts d WHERE d.version_id = v), '[]'))
$$;
