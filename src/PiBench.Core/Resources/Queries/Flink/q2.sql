-- Nexmark suite for Flink SQL (https://github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries,
-- Apache License 2.0), the Flink 1.x text. PiBench keeps the query text as published; only ${...} placeholders
-- are filled at submit time. Catalog: Resources/Queries/catalog.json.
-- Query2: Selection
CREATE TABLE nexmark_q2 (
  auction  BIGINT,
  price  BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q2
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
