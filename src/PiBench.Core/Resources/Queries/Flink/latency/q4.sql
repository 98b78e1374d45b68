-- PiBench latency variant of the Nexmark suite query (see ../qN.sql for the published text): the same result plus one
-- column latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency
-- against the broker's log-append time of the row. Catalog: Resources/Queries/catalog.json.
-- Query 4: Average Price for a Category; latency_ts = the latest bid time behind the category's current average
-- (updating result: each update row carries the newest contributing bid's time).
CREATE TABLE nexmark_q4 (
  id BIGINT,
  final BIGINT,
  latency_ts TIMESTAMP(3)
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q4
SELECT
    Q.category,
    AVG(Q.final),
    MAX(Q.ts) AS latency_ts
FROM (
    SELECT MAX(B.price) AS final, A.category, MAX(B.dateTime) AS ts
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
