-- PiBench latency variant for Arroyo 0.11 (see ../qN.sql for the plain query): the same result plus one column
-- latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency against
-- the broker's log-append time of the row. Unvalidated against a live Arroyo: PiBench always runs
-- POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 8: Monitor New Users; latency_ts = the end of the 10 s window (read in an outer query).
CREATE TABLE nexmark_q8 (
  id BIGINT,
  name TEXT,
  latency_ts TIMESTAMP
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q8
SELECT id, name, window.end AS latency_ts
FROM (
  SELECT P.id, P.name, P.window
  FROM (
    SELECT id, name, tumble(interval '10 second') AS window
    FROM person
    GROUP BY id, name, window
  ) AS P
  JOIN (
    SELECT seller, tumble(interval '10 second') AS window
    FROM auction
    GROUP BY seller, window
  ) AS A
  ON P.id = A.seller AND P.window = A.window
) AS NewUsers;
