-- The trial balance: every posting ever made sums to zero per currency;
-- every transaction is balanced with at least two postings (a usage
-- transaction of an unpriced event has none); and the usage rollups equal
-- what the events and postings say, and the per-meter rollups add up to
-- the daily ones (costs, and the quantities each daily row keeps); every
-- shared-cost allocation's postings are what it recorded (its source
-- credited its amount, each target debited its part); and no row points
-- nowhere (events without their transaction, transactions without
-- their key, postings without their transaction or account); and the
-- rollup per cost center and day adds up the finer ones, quantities
-- included; and the rollups per user, per tag and per hour (0020) equal what the
-- events and corrections say, quantities included, and those per user
-- and per tag without provider and model add up the finer ones; and every row carries the root (distribution key, see 0012_distribution_root.sql) it should:
-- a usage event and a rollup its cost center's, a usage transaction its
-- event's, a correction the root of what it corrects, an adjustment or
-- reallocation its first expense posting's (or ''), and postings, keys,
-- corrections and allocations their transaction's; and the sums of
-- 0024 and 0026 that reports would read add up their daily rows; and
-- the rollup per user and tag (0026) equals the events and corrections.
-- Each event's (and correction's) figures once per tag it carries with a
-- value, for the rollups per tag and per user and tag; inlined into each.
WITH tag_rows AS NOT MATERIALIZED (
	SELECT all_rows.day, all_rows.cost_center, all_rows.provider,
	    all_rows.model, all_rows.user_id, t.k AS tag_key, t.v AS tag_value,
	    all_rows.events, all_rows.unpriced, all_rows.list_cost,
	    all_rows.cost, all_rows.q
	FROM (
		SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
		    cost_center, provider, model, user_id, tags, 1 AS events,
		    (unpriced IS NOT NULL)::int AS unpriced,
		    list_cost, cost, quantities AS q
		FROM usage_events WHERE tags <> '{}'
		UNION ALL
		SELECT (u.occurred_at AT TIME ZONE 'UTC')::date,
		    u.cost_center, u.provider, u.model, u.user_id, u.tags, 0,
		    -c.was_unpriced::int, c.list_delta, c.cost_delta,
		    tg_quantities_of('{}', '{}')
		FROM usage_corrections c
		JOIN usage_events u ON u.transaction_id = c.corrects
		WHERE u.tags <> '{}'
	) all_rows, jsonb_each_text(all_rows.tags) AS t (k, v)
	WHERE t.v IS NOT NULL
)
SELECT
	(SELECT count(*) FROM transactions) AS transactions,
	(SELECT count(*) FROM postings) AS postings,
	(SELECT coalesce(sum(amount), 0)::text FROM postings) AS trial_balance,
	(SELECT coalesce(array_agg(id ORDER BY id), '{}')::text FROM (
		SELECT t.id FROM transactions t
		LEFT JOIN postings p ON p.transaction_id = t.id
		    AND p.occurred_at = t.occurred_at
		LEFT JOIN accounts a ON a.id = p.account_id
		GROUP BY t.id, t.kind, a.currency
		HAVING (count(p.seq) < 2 AND NOT (count(p.seq) = 0 AND
		    t.kind IN ('usage', 'correction'))) OR
		    coalesce(sum(p.amount), 0) <> 0
		ORDER BY t.id LIMIT 100) bad) AS unbalanced,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT coalesce(d.day, e.day) AS day,
		    coalesce(d.cost_center, e.cost_center) AS cost_center,
		    coalesce(d.provider, e.provider) AS provider,
		    coalesce(d.model, e.model) AS model,
		    d.events AS rollup_events, e.events,
		    d.cost AS rollup_cost, e.cost
		FROM usage_daily d
		FULL JOIN (
			SELECT day, cost_center, provider, model,
			    sum(events) AS events, sum(unpriced) AS unpriced,
			    sum(list_cost) AS list_cost, sum(cost) AS cost
			FROM (
				SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
				    cost_center, provider, model, 1 AS events,
				    (unpriced IS NOT NULL)::int AS unpriced,
				    list_cost, cost
				FROM usage_events
				UNION ALL
				SELECT (u.occurred_at AT TIME ZONE 'UTC')::date,
				    u.cost_center, u.provider, u.model, 0,
				    -c.was_unpriced::int, c.list_delta, c.cost_delta
				FROM usage_corrections c
				JOIN usage_events u ON u.transaction_id = c.corrects
			) all_rows GROUP BY 1, 2, 3, 4) e
		    USING (day, cost_center, provider, model)
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		LIMIT 100) x) AS rollup_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT coalesce(u.cost_center, p.cost_center) AS cost_center,
		    u.cost AS usage_cost, p.cost AS posted_cost
		FROM (SELECT cost_center, sum(cost) AS cost FROM (
			SELECT cost_center, cost FROM usage_events
			UNION ALL
			SELECT u.cost_center, c.cost_delta FROM usage_corrections c
			JOIN usage_events u ON u.transaction_id = c.corrects) x
		    GROUP BY 1) u
		FULL JOIN (
			SELECT substr(a.name, 9) AS cost_center, sum(p.amount) AS cost
			FROM postings p
			JOIN transactions t ON t.id = p.transaction_id
			    AND t.occurred_at = p.occurred_at
			JOIN accounts a ON a.id = p.account_id
			WHERE t.kind IN ('usage', 'correction')
			    AND a.name LIKE 'expense:%'
			GROUP BY 1) p USING (cost_center)
		WHERE coalesce(u.cost, 0) <> coalesce(p.cost, 0)
		LIMIT 100) x) AS posting_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT coalesce(d.day, m.day) AS day,
		    coalesce(d.cost_center, m.cost_center) AS cost_center,
		    coalesce(d.provider, m.provider) AS provider,
		    coalesce(d.model, m.model) AS model,
		    d.cost AS daily_cost, m.cost AS meters_cost,
		    d.list_cost AS daily_list_cost, m.list_cost AS meters_list_cost,
		    d.quantities AS daily_quantities,
		    m.quantities AS meters_quantities
		FROM usage_daily d
		FULL JOIN (
			SELECT day, cost_center, provider, model, sum(cost) AS cost,
			    sum(list_cost) AS list_cost,
			    tg_quantities_of(array_agg(meter), array_agg(quantity))
			        AS quantities
			FROM usage_daily_meters GROUP BY 1, 2, 3, 4) m
		    USING (day, cost_center, provider, model)
		WHERE coalesce(d.cost, 0) <> coalesce(m.cost, 0)
		    OR coalesce(d.list_cost, 0) <> coalesce(m.list_cost, 0)
		    -- A daily row without meters has no quantities.
		    OR coalesce(d.quantities, tg_quantities_of('{}', '{}'))
		        <> coalesce(m.quantities, tg_quantities_of('{}', '{}'))
		LIMIT 100) x) AS meter_differences,
	(SELECT coalesce(array_agg(transaction_id ORDER BY transaction_id),
	    '{}')::text FROM (
		SELECT u.transaction_id FROM usage_events u
		WHERE NOT EXISTS (SELECT 1 FROM transactions t
		    WHERE t.id = u.transaction_id AND t.kind = 'usage'
		      AND t.occurred_at = u.occurred_at)
		   OR NOT EXISTS (SELECT 1 FROM cost_centers c
		    WHERE c.id = u.cost_center)
		   OR (u.price_version IS NOT NULL AND NOT EXISTS (SELECT 1
		    FROM price_versions v WHERE v.id = u.price_version))
		   OR (u.key_id IS NOT NULL AND NOT EXISTS (SELECT 1
		    FROM api_keys k WHERE k.id = u.key_id))
		ORDER BY 1 LIMIT 100) o) AS orphan_events,
	(SELECT coalesce(array_agg(id ORDER BY id), '{}')::text FROM (
		-- One anti-join per kind of orphan: an OR of NOT EXISTS would
		-- be checked row by row.
		SELECT t.id FROM transactions t
		WHERE NOT EXISTS (SELECT 1 FROM ledger_keys k
		    WHERE k.kind = t.kind AND k.idempotency_key = t.idempotency_key
		      AND k.transaction_id = t.id AND k.occurred_at = t.occurred_at)
		UNION
		SELECT t.id FROM transactions t
		WHERE t.created_by IS NOT NULL AND NOT EXISTS (SELECT 1
		    FROM api_keys a WHERE a.id = t.created_by)
		UNION
		SELECT k.transaction_id FROM ledger_keys k
		WHERE NOT EXISTS (SELECT 1 FROM transactions t
		    WHERE t.id = k.transaction_id AND t.occurred_at = k.occurred_at)
		UNION
		SELECT p.transaction_id FROM postings p
		WHERE NOT EXISTS (SELECT 1 FROM transactions t
		    WHERE t.id = p.transaction_id AND t.occurred_at = p.occurred_at)
		UNION
		SELECT p.transaction_id FROM postings p
		WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id)
		ORDER BY 1 LIMIT 100) o) AS orphan_transactions,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT coalesce(e.id, p.id) AS allocation,
		    coalesce(e.account, p.account) AS account,
		    e.amount AS recorded, p.amount AS posted
		FROM (
			SELECT al.id, 'expense:' || al.source AS account,
			    -al.amount AS amount
			FROM allocations al
			UNION ALL
			SELECT al.id, 'expense:' || ap.cost_center, ap.amount
			FROM allocations al
			JOIN allocation_parts ap ON ap.allocation_id = al.id
			WHERE ap.amount <> 0) e
		FULL JOIN (
			SELECT al.id, ac.name AS account, sum(po.amount) AS amount
			FROM allocations al
			JOIN postings po ON po.transaction_id = al.transaction_id
			    AND po.occurred_at = al.occurred_at
			JOIN accounts ac ON ac.id = po.account_id
			GROUP BY 1, 2) p ON p.id = e.id AND p.account = e.account
		WHERE e.amount IS DISTINCT FROM p.amount
		LIMIT 100) x) AS allocation_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT coalesce(c.day, d.day) AS day,
		    coalesce(c.cost_center, d.cost_center) AS cost_center,
		    c.events AS cost_center_events, d.events,
		    c.cost AS cost_center_cost, d.cost,
		    c.quantities AS cost_center_quantities, d.quantities
		FROM usage_cc_daily c
		FULL JOIN (
			SELECT day, cost_center, sum(events) AS events,
			    sum(unpriced) AS unpriced, sum(list_cost) AS list_cost,
			    sum(cost) AS cost,
			    coalesce((SELECT jsonb_object_agg(meter, q) FROM (
			        SELECT m.meter, sum(m.quantity) AS q
			        FROM usage_daily_meters m
			        WHERE m.day = u.day AND m.cost_center = u.cost_center
			        GROUP BY 1) y WHERE q <> 0), '{}') AS quantities
			FROM usage_daily u GROUP BY 1, 2) d
		    USING (day, cost_center)
		WHERE c.events IS DISTINCT FROM d.events
		    OR c.unpriced IS DISTINCT FROM d.unpriced
		    OR c.list_cost IS DISTINCT FROM d.list_cost
		    OR c.cost IS DISTINCT FROM d.cost
		    OR c.quantities IS DISTINCT FROM d.quantities
		LIMIT 100) x) AS cost_center_rollup_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT 'usage_user_daily' AS rollup,
		    coalesce(d.day, e.day) AS day,
		    coalesce(d.cost_center, e.cost_center) AS cost_center,
		    coalesce(d.provider, e.provider) AS provider,
		    coalesce(d.model, e.model) AS model,
		    CASE WHEN d.day IS NOT NULL THEN d.user_id ELSE e.user_id END
		        AS "user",
		    d.events AS rollup_events, e.events,
		    d.cost AS rollup_cost, e.cost,
		    d.quantities AS rollup_quantities, e.quantities
		FROM usage_user_daily d
		FULL JOIN (
			SELECT day, cost_center, provider, model, user_id,
			    sum(events) AS events, sum(unpriced) AS unpriced,
			    sum(list_cost) AS list_cost, sum(cost) AS cost,
			    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
			        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
			        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
			        tg_sum0(q[13]), tg_sum0(q[14])]::bigint[] AS quantities
			FROM (
				SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
				    cost_center, provider, model, user_id, 1 AS events,
				    (unpriced IS NOT NULL)::int AS unpriced,
				    list_cost, cost, quantities AS q
				FROM usage_events
				UNION ALL
				SELECT (u.occurred_at AT TIME ZONE 'UTC')::date,
				    u.cost_center, u.provider, u.model, u.user_id, 0,
				    -c.was_unpriced::int, c.list_delta, c.cost_delta,
				    tg_quantities_of('{}', '{}')
				FROM usage_corrections c
				JOIN usage_events u ON u.transaction_id = c.corrects
			) all_rows GROUP BY 1, 2, 3, 4, 5) e
		    ON d.day = e.day AND d.cost_center = e.cost_center
		    AND d.provider = e.provider AND d.model = e.model
		    AND d.user_id IS NOT DISTINCT FROM e.user_id
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		UNION ALL
		-- Without provider and model: the finer rows added up.
		SELECT 'usage_user_cc_daily', coalesce(d.day, e.day),
		    coalesce(d.cost_center, e.cost_center), NULL, NULL,
		    CASE WHEN d.day IS NOT NULL THEN d.user_id ELSE e.user_id END,
		    d.events, e.events, d.cost, e.cost, d.quantities,
		    e.quantities
		FROM usage_user_cc_daily d
		FULL JOIN (
			SELECT day, cost_center, user_id, tg_sum(events) AS events,
			    tg_sum(unpriced) AS unpriced,
			    tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
			    ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
			        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
			        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
			        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
			        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
			        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
			        tg_sum0(quantities[13]), tg_sum0(quantities[14])]
			        AS quantities
			FROM usage_user_daily GROUP BY 1, 2, 3) e
		    ON d.day = e.day AND d.cost_center = e.cost_center
		    AND d.user_id IS NOT DISTINCT FROM e.user_id
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		LIMIT 100) x) AS user_rollup_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT 'usage_tag_daily' AS rollup,
		    coalesce(d.day, e.day) AS day,
		    coalesce(d.cost_center, e.cost_center) AS cost_center,
		    coalesce(d.provider, e.provider) AS provider,
		    coalesce(d.model, e.model) AS model,
		    coalesce(d.tag_key, e.tag_key) AS tag,
		    coalesce(d.tag_value, e.tag_value) AS value,
		    d.events AS rollup_events, e.events,
		    d.cost AS rollup_cost, e.cost,
		    d.quantities AS rollup_quantities, e.quantities
		FROM usage_tag_daily d
		FULL JOIN (
			SELECT day, cost_center, provider, model, tag_key, tag_value,
			    sum(events) AS events, sum(unpriced) AS unpriced,
			    sum(list_cost) AS list_cost, sum(cost) AS cost,
			    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
			        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
			        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
			        tg_sum0(q[13]), tg_sum0(q[14])]::bigint[] AS quantities
			FROM tag_rows GROUP BY 1, 2, 3, 4, 5, 6) e
		    USING (day, cost_center, provider, model, tag_key, tag_value)
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		UNION ALL
		SELECT 'usage_tag_cc_daily', coalesce(d.day, e.day),
		    coalesce(d.cost_center, e.cost_center), NULL, NULL,
		    coalesce(d.tag_key, e.tag_key),
		    coalesce(d.tag_value, e.tag_value), d.events, e.events,
		    d.cost, e.cost, d.quantities, e.quantities
		FROM usage_tag_cc_daily d
		FULL JOIN (
			SELECT day, cost_center, tag_key, tag_value,
			    tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
			    tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
			    ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
			        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
			        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
			        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
			        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
			        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
			        tg_sum0(quantities[13]), tg_sum0(quantities[14])]
			        AS quantities
			FROM usage_tag_daily GROUP BY 1, 2, 3, 4) e
		    USING (day, cost_center, tag_key, tag_value)
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		LIMIT 100) x) AS tag_rollup_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT tg_rfc3339(coalesce(d.hour, e.hour) AT TIME ZONE 'UTC')
		        AS hour,
		    coalesce(d.cost_center, e.cost_center) AS cost_center,
		    coalesce(d.provider, e.provider) AS provider,
		    coalesce(d.model, e.model) AS model,
		    d.events AS rollup_events, e.events,
		    d.cost AS rollup_cost, e.cost,
		    d.quantities AS rollup_quantities, e.quantities
		FROM usage_hourly d
		FULL JOIN (
			SELECT hour, cost_center, provider, model,
			    sum(events) AS events, sum(unpriced) AS unpriced,
			    sum(list_cost) AS list_cost, sum(cost) AS cost,
			    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
			        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
			        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
			        tg_sum0(q[13]), tg_sum0(q[14])]::bigint[] AS quantities
			FROM (
				SELECT date_trunc('hour', occurred_at AT TIME ZONE
				    'UTC') AS hour, cost_center, provider, model,
				    1 AS events, (unpriced IS NOT NULL)::int AS unpriced,
				    list_cost, cost, quantities AS q
				FROM usage_events
				UNION ALL
				SELECT date_trunc('hour', u.occurred_at AT TIME ZONE
				    'UTC'), u.cost_center, u.provider, u.model, 0,
				    -c.was_unpriced::int, c.list_delta, c.cost_delta,
				    tg_quantities_of('{}', '{}')
				FROM usage_corrections c
				JOIN usage_events u ON u.transaction_id = c.corrects
			) all_rows GROUP BY 1, 2, 3, 4) e
		    USING (hour, cost_center, provider, model)
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		LIMIT 100) x) AS hourly_rollup_differences,
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT * FROM (
			SELECT 'usage_events' AS "table",
			    u.transaction_id::text AS "row", u.root,
			    tg_root(u.cost_center) AS expected
			FROM usage_events u
			WHERE u.root IS DISTINCT FROM tg_root(u.cost_center)
			UNION ALL
			SELECT 'usage_daily', d.day || ' ' || d.cost_center || ' ' ||
			    d.provider || ' ' || d.model, d.root,
			    tg_root(d.cost_center)
			FROM usage_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_daily_meters', d.day || ' ' || d.cost_center ||
			    ' ' || d.provider || ' ' || d.model || ' ' || d.meter,
			    d.root, tg_root(d.cost_center)
			FROM usage_daily_meters d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_cc_daily', d.day || ' ' || d.cost_center,
			    d.root, tg_root(d.cost_center)
			FROM usage_cc_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_user_daily', d.day || ' ' || d.cost_center ||
			    ' ' || d.provider || ' ' || d.model || ' ' ||
			    coalesce(d.user_id, '(none)'), d.root,
			    tg_root(d.cost_center)
			FROM usage_user_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_tag_daily', d.day || ' ' || d.cost_center ||
			    ' ' || d.provider || ' ' || d.model || ' ' || d.tag_key ||
			    ' ' || d.tag_value, d.root, tg_root(d.cost_center)
			FROM usage_tag_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_user_cc_daily', d.day || ' ' || d.cost_center ||
			    ' ' || coalesce(d.user_id, '(none)'), d.root,
			    tg_root(d.cost_center)
			FROM usage_user_cc_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_tag_cc_daily', d.day || ' ' || d.cost_center ||
			    ' ' || d.tag_key || ' ' || d.tag_value, d.root,
			    tg_root(d.cost_center)
			FROM usage_tag_cc_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_user_tag_cc_daily', d.day || ' ' ||
			    d.cost_center || ' ' || coalesce(d.user_id, '(none)') ||
			    ' ' || d.tag_key || ' ' || d.tag_value, d.root,
			    tg_root(d.cost_center)
			FROM usage_user_tag_cc_daily d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'usage_hourly', d.hour || ' ' || d.cost_center || ' ' ||
			    d.provider || ' ' || d.model, d.root,
			    tg_root(d.cost_center)
			FROM usage_hourly d
			WHERE d.root IS DISTINCT FROM tg_root(d.cost_center)
			UNION ALL
			SELECT 'transactions', t.id::text, t.root, u.root
			FROM transactions t
			JOIN usage_events u ON u.transaction_id = t.id
			WHERE t.kind = 'usage' AND t.root IS DISTINCT FROM u.root
			UNION ALL
			SELECT 'transactions', t.id::text, t.root, u.root
			FROM transactions t
			JOIN usage_events u ON u.transaction_id = t.corrects
			WHERE t.kind = 'correction' AND t.root IS DISTINCT FROM u.root
			UNION ALL
			-- Few rows, found by transactions_entries.
			SELECT 'transactions', t.id::text, t.root, x.root
			FROM transactions t
			CROSS JOIN LATERAL (SELECT coalesce((
				SELECT tg_root(substr(a.name, 9))
				FROM postings p JOIN accounts a ON a.id = p.account_id
				WHERE p.transaction_id = t.id
				  AND p.occurred_at = t.occurred_at
				  AND a.name LIKE 'expense:%'
				ORDER BY p.seq LIMIT 1), '') AS root) x
			WHERE t.kind IN ('adjustment', 'reallocation')
			  AND t.root IS DISTINCT FROM x.root
			UNION ALL
			SELECT 'postings', p.transaction_id || ' ' || p.seq, p.root,
			    t.root
			FROM postings p
			JOIN transactions t ON t.id = p.transaction_id
			    AND t.occurred_at = p.occurred_at
			WHERE p.root IS DISTINCT FROM t.root
			UNION ALL
			SELECT 'ledger_keys', k.kind || ' ' || k.idempotency_key,
			    k.root, t.root
			FROM ledger_keys k
			JOIN transactions t ON t.id = k.transaction_id
			    AND t.occurred_at = k.occurred_at
			WHERE k.root IS DISTINCT FROM t.root
			UNION ALL
			SELECT 'usage_corrections', c.transaction_id::text, c.root,
			    t.root
			FROM usage_corrections c
			JOIN transactions t ON t.id = c.transaction_id
			WHERE c.root IS DISTINCT FROM t.root
			UNION ALL
			SELECT 'allocations', a.id, a.root, t.root
			FROM allocations a
			JOIN transactions t ON t.id = a.transaction_id
			    AND t.occurred_at = a.occurred_at
			WHERE a.root IS DISTINCT FROM t.root
			UNION ALL
			SELECT 'allocation_parts', p.allocation_id || ' ' || p.seq,
			    p.root, a.root
			FROM allocation_parts p
			JOIN allocations a ON a.id = p.allocation_id
			WHERE p.root IS DISTINCT FROM a.root) r
		LIMIT 100) x) AS root_differences,
	-- The sums of 0024 and 0026 that reports would read add up their
	-- daily rows.
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT * FROM tg_periods_differences()
		UNION ALL
		SELECT * FROM tg_user_tag_periods_differences() LIMIT 100) x)
	    AS period_rollup_differences,
	-- The rollup per user and tag (0026) equals what the events and
	-- corrections say, quantities included.
	(SELECT coalesce(jsonb_agg(x), '[]')::text FROM (
		SELECT 'usage_user_tag_cc_daily' AS rollup,
		    coalesce(d.day, e.day) AS day,
		    coalesce(d.cost_center, e.cost_center) AS cost_center,
		    CASE WHEN d.day IS NOT NULL THEN d.user_id ELSE e.user_id END
		        AS "user",
		    coalesce(d.tag_key, e.tag_key) AS tag,
		    coalesce(d.tag_value, e.tag_value) AS value,
		    d.events AS rollup_events, e.events,
		    d.cost AS rollup_cost, e.cost,
		    d.quantities AS rollup_quantities, e.quantities
		FROM usage_user_tag_cc_daily d
		FULL JOIN (
			SELECT day, cost_center, user_id, tag_key, tag_value,
			    sum(events) AS events, sum(unpriced) AS unpriced,
			    sum(list_cost) AS list_cost, sum(cost) AS cost,
			    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
			        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
			        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
			        tg_sum0(q[13]), tg_sum0(q[14])]::bigint[] AS quantities
			FROM tag_rows GROUP BY 1, 2, 3, 4, 5) e
		    ON d.day = e.day AND d.cost_center = e.cost_center
		    AND d.user_id IS NOT DISTINCT FROM e.user_id
		    AND d.tag_key = e.tag_key AND d.tag_value = e.tag_value
		WHERE d.events IS DISTINCT FROM e.events
		    OR d.unpriced IS DISTINCT FROM e.unpriced
		    OR d.list_cost IS DISTINCT FROM e.list_cost
		    OR d.cost IS DISTINCT FROM e.cost
		    OR d.quantities IS DISTINCT FROM e.quantities
		LIMIT 100) x) AS user_tag_rollup_differences
