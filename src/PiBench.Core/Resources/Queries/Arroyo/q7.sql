-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 7: Highest Bid per 10 s TUMBLE. Arroyo 0.11 has no time-range join, so the bids are grouped per
-- (auction, price, bidder, window) and joined to the window's maximum on the same window: the same rows
-- (the highest bids of each window), without the bid's own dateTime and extra.
CREATE TABLE nexmark_q7 (
  auction BIGINT,
  price BIGINT,
  bidder BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q7
SELECT B.auction, B.price, B.bidder
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
ON B.window = B1.window AND B.price = B1.maxprice;
