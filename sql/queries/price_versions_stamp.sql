-- What the price book was built from: when this changes, reload.
SELECT count(*), coalesce(max(id), 0) FROM price_versions
