-- Nexmark suite for Flink SQL (https://github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries,
-- Apache License 2.0), the Flink 1.x text. PiBench keeps the query text as published; only ${...} placeholders
-- are filled at submit time. Catalog: Resources/Queries/catalog.json.
-- Query 6: Average Selling Price by Seller
-- TODO (upstream): this query is not supported yet in Flink SQL, because the OVER WINDOW operator doesn't
--  support to consume retractions.
CREATE TABLE nexmark_q6 (
  seller VARCHAR,
  avg_price  BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q6
SELECT
    Q.seller,
    AVG(Q.price) OVER
        (PARTITION BY Q.seller ORDER BY Q.`dateTime` ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY A.id, A.seller ORDER BY B.price DESC) AS rownum
    FROM (SELECT A.id, A.seller, B.price, B.`dateTime`
        FROM auction AS A,
            bid AS B
        WHERE A.id = B.auction
            and B.`dateTime` between A.`dateTime` and A.expires)
    WHERE rownum <= 1
) AS Q;
