-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 20: Expand bid with auction (category 10; unwindowed inner join: Arroyo keeps join state for 1 hour)
CREATE TABLE nexmark_q20 (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  channel TEXT,
  url TEXT,
  bid_datetime TIMESTAMP,
  bid_extra TEXT,
  item_name TEXT,
  description TEXT,
  initial_bid BIGINT,
  reserve BIGINT,
  auction_datetime TIMESTAMP,
  expires TIMESTAMP,
  seller BIGINT,
  category BIGINT,
  auction_extra TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q20
SELECT
  B.auction, B.bidder, B.price, B.channel, B.url, B.datetime AS bid_datetime, B.extra AS bid_extra,
  A.item_name, A.description, A.initial_bid, A.reserve, A.datetime AS auction_datetime, A.expires, A.seller,
  A.category, A.extra AS auction_extra
FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10;
