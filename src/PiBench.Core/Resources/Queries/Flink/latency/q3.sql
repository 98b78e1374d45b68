-- PiBench latency variant of the Nexmark suite query (see ../qN.sql for the published text): the same result plus one
-- column latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency
-- against the broker's log-append time of the row. Catalog: Resources/Queries/catalog.json.
-- Query 3: Local Item Suggestion; latency_ts = the later of the two joined events (the one that produced the row).
CREATE TABLE nexmark_q3 (
  name  VARCHAR,
  city  VARCHAR,
  state  VARCHAR,
  id  BIGINT,
  latency_ts  TIMESTAMP(3)
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q3
SELECT
    P.name, P.city, P.state, A.id,
    CASE WHEN A.`dateTime` > P.`dateTime` THEN A.`dateTime` ELSE P.`dateTime` END AS latency_ts
FROM
    auction AS A INNER JOIN person AS P on A.seller = P.id
WHERE
    A.category = 10 and (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
