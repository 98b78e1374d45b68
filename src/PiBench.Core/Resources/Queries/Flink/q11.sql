-- Nexmark suite for Flink SQL (https://github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries,
-- Apache License 2.0), the Flink 1.x text. PiBench keeps the query text as published; only ${...} placeholders
-- are filled at submit time. Catalog: Resources/Queries/catalog.json.
-- Query 11: User Sessions (Not in original suite)
CREATE TABLE nexmark_q11 (
  bidder BIGINT,
  bid_count BIGINT,
  starttime TIMESTAMP(3),
  endtime TIMESTAMP(3)
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q11
SELECT
    B.bidder,
    count(*) as bid_count,
    SESSION_START(B.dateTime, INTERVAL '10' SECOND) as starttime,
    SESSION_END(B.dateTime, INTERVAL '10' SECOND) as endtime
FROM bid B
GROUP BY B.bidder, SESSION(B.dateTime, INTERVAL '10' SECOND);
