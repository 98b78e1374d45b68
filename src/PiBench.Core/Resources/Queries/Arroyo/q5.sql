-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 5: Hot Items (HOP: slide 2 s, size 10 s; Arroyo's hop() takes the slide first)
CREATE TABLE nexmark_q5 (
  auction BIGINT,
  num BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q5
SELECT AuctionBids.auction, AuctionBids.num
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
ON AuctionBids.window = MaxBids.window AND AuctionBids.num >= MaxBids.maxn;
