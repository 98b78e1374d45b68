-- PiBench latency variant of the Nexmark suite query (see ../qN.sql for the published text): the same result plus one
-- column latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency
-- against the broker's log-append time of the row. Catalog: Resources/Queries/catalog.json.
-- Query2: Selection; latency_ts = the bid's event time.
CREATE TABLE nexmark_q2 (
  auction  BIGINT,
  price  BIGINT,
  latency_ts  TIMESTAMP(3)
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q2
SELECT auction, price, `dateTime` AS latency_ts FROM bid WHERE MOD(auction, 123) = 0;
