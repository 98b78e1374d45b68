-- PiBench latency variant for Arroyo 0.11 (see ../qN.sql for the plain query): the same result plus one column
-- latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency against
-- the broker's log-append time of the row. Unvalidated against a live Arroyo: PiBench always runs
-- POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 3: Local Item Suggestion; latency_ts = the later of the two joined events (the one that produced the row).
CREATE TABLE nexmark_q3 (
  name TEXT,
  city TEXT,
  state TEXT,
  id BIGINT,
  latency_ts TIMESTAMP
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q3
SELECT P.name, P.city, P.state, A.id,
       CASE WHEN A.datetime > P.datetime THEN A.datetime ELSE P.datetime END AS latency_ts
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
