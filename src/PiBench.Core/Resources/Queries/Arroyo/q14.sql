-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 14: Calculation. count_char(extra, 'c') (a Java UDF in the suite) is written as
-- length(extra) - length(replace(extra, 'c', '')); HOUR() as date_part('hour', ...).
CREATE TABLE nexmark_q14 (
  auction BIGINT,
  bidder BIGINT,
  price DOUBLE,
  bid_time_type TEXT,
  datetime TIMESTAMP,
  extra TEXT,
  c_counts BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q14
SELECT
  auction,
  bidder,
  0.908 * price AS price,
  CASE
    WHEN date_part('hour', datetime) >= 8 AND date_part('hour', datetime) <= 18 THEN 'dayTime'
    WHEN date_part('hour', datetime) <= 6 OR date_part('hour', datetime) >= 20 THEN 'nightTime'
    ELSE 'otherTime'
  END AS bid_time_type,
  datetime,
  extra,
  CAST(length(extra) - length(replace(extra, 'c', '')) AS BIGINT) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
