-- Every price version, oldest first, as documents for the server's price
-- book.
SELECT id,
    (extract(epoch FROM effective_from) * 1000000)::bigint AS effective_from_us,
    price_version_doc(id)::text
FROM price_versions
ORDER BY effective_from
