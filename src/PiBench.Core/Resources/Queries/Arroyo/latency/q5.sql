-- PiBench latency variant for Arroyo 0.11 (see ../qN.sql for the plain query): the same result plus one column
-- latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency against
-- the broker's log-append time of the row. Unvalidated against a live Arroyo: PiBench always runs
-- POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 5: Hot Items; latency_ts = the end of the sliding window (the plain join, projected in an outer query that
-- reads window.end, as Arroyo's planner tests do).
CREATE TABLE nexmark_q5 (
  auction BIGINT,
  num BIGINT,
  latency_ts TIMESTAMP
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q5
SELECT auction, num, window.end AS latency_ts
FROM (
  SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.window
  FROM (
    SELECT auction, count(*) AS num, hop(interval '2 second', interval '10 second') AS window
    FROM bid
    GROUP BY auction, window
  ) AS AuctionBids
  JOIN (
    SELECT max(CountBids.num) AS maxn, CountBids.window
    FROM (
      SELECT count(*) AS num, hop(interval '2 second', interval '10 second') AS window
      FROM bid
      GROUP BY auction, window
    ) AS CountBids
    GROUP BY CountBids.window
  ) AS MaxBids
  ON AuctionBids.window = MaxBids.window AND AuctionBids.num >= MaxBids.maxn
) AS Hot;
