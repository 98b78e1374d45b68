-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 8: Monitor New Users (two 10 s TUMBLE aggregates joined on key and window)
CREATE TABLE nexmark_q8 (
  id BIGINT,
  name TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q8
SELECT P.id, P.name
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
ON P.id = A.seller AND P.window = A.window;
