-- PiBench latency variant of the Nexmark suite query (see ../qN.sql for the published text): the same result plus one
-- column latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency
-- against the broker's log-append time of the row. Catalog: Resources/Queries/catalog.json.
-- Query 7: Highest Bid; latency_ts = the end of the 10 s window whose maximum the bid is.
CREATE TABLE nexmark_q7 (
  auction  BIGINT,
  bidder  BIGINT,
  price  BIGINT,
  `dateTime`  TIMESTAMP(3),
  extra  VARCHAR,
  latency_ts  TIMESTAMP(3)
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q7
SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra, B1.`dateTime` AS latency_ts
from bid B
JOIN (
  SELECT MAX(price) AS maxprice, window_end as `dateTime`
  FROM TABLE(
          TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
  GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.`dateTime` BETWEEN B1.`dateTime`  - INTERVAL '10' SECOND AND B1.`dateTime`;
