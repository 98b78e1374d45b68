-- PiBench latency variant for Arroyo 0.11 (see ../qN.sql for the plain query): the same result plus one column
-- latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency against
-- the broker's log-append time of the row. Unvalidated against a live Arroyo: PiBench always runs
-- POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 7: Highest Bid; latency_ts = the end of the 10 s window (read in an outer query).
CREATE TABLE nexmark_q7 (
  auction BIGINT,
  price BIGINT,
  bidder BIGINT,
  latency_ts TIMESTAMP
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q7
SELECT auction, price, bidder, window.end AS latency_ts
FROM (
  SELECT B.auction, B.price, B.bidder, B.window
  FROM (
    SELECT auction, price, bidder, count(*) AS n, tumble(interval '10 second') AS window
    FROM bid
    GROUP BY auction, price, bidder, window
  ) AS B
  JOIN (
    SELECT max(price) AS maxprice, tumble(interval '10 second') AS window
    FROM bid
    GROUP BY window
  ) AS B1
  ON B.window = B1.window AND B.price = B1.maxprice
) AS Highest;
