-- Ranked values (rollup_values) per day as well as per hour (resolution 3 = day),
-- so a week's top lists read seven buckets instead of 168; and at most 200 values
-- per field and bucket, which the writer now keeps (its in-memory summaries are
-- written whole instead of every value being upserted and pruned later).

-- Hours holding more than 200 values of a field keep their 200 heaviest.
DELETE FROM rollup_values WHERE resolution = 2 AND (field, bucket_us, value) IN (
    SELECT field, bucket_us, value FROM (
        SELECT field, bucket_us, value,
               ROW_NUMBER() OVER (PARTITION BY field, bucket_us ORDER BY n DESC, value) AS place
        FROM rollup_values WHERE resolution = 2)
    WHERE place > 200);

-- Days from the hours, then cut to 200 per field and day the same way.
INSERT INTO rollup_values (resolution, field, bucket_us, value, n)
SELECT 3, field, (bucket_us / 86400000000) * 86400000000, value, SUM(n)
FROM rollup_values WHERE resolution = 2
GROUP BY field, (bucket_us / 86400000000) * 86400000000, value;

DELETE FROM rollup_values WHERE resolution = 3 AND (field, bucket_us, value) IN (
    SELECT field, bucket_us, value FROM (
        SELECT field, bucket_us, value,
               ROW_NUMBER() OVER (PARTITION BY field, bucket_us ORDER BY n DESC, value) AS place
        FROM rollup_values WHERE resolution = 3)
    WHERE place > 200);
