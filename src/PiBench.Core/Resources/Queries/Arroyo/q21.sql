-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 21: Add channel id. REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) is written with
-- DataFusion's regexp_match(), which returns the capture groups as a list (1-based index).
CREATE TABLE nexmark_q21 (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  channel TEXT,
  channel_id TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q21
SELECT
  auction, bidder, price, channel,
  CASE
    WHEN lower(channel) = 'apple' THEN '0'
    WHEN lower(channel) = 'google' THEN '1'
    WHEN lower(channel) = 'facebook' THEN '2'
    WHEN lower(channel) = 'baidu' THEN '3'
    ELSE regexp_match(url, '(&|^)channel_id=([^&]*)')[2]
  END AS channel_id
FROM bid
WHERE regexp_match(url, '(&|^)channel_id=([^&]*)')[2] IS NOT NULL
   OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu');
