-- Nexmark suite for Flink SQL (https://github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries,
-- Apache License 2.0), the Flink 1.x text. PiBench keeps the query text as published; only ${...} placeholders
-- are filled at submit time. Catalog: Resources/Queries/catalog.json.
-- Query 4: Average Price for a Category
CREATE TABLE nexmark_q4 (
  id BIGINT,
  final BIGINT
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q4
SELECT
    Q.category,
    AVG(Q.final)
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
