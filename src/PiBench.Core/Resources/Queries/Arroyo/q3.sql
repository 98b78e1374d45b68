-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 3: Local Item Suggestion (unwindowed inner join: Arroyo keeps join state for 1 hour)
CREATE TABLE nexmark_q3 (
  name TEXT,
  city TEXT,
  state TEXT,
  id BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q3
SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
