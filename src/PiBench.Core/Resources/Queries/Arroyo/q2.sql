-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 2: Selection (every 123rd auction)
CREATE TABLE nexmark_q2 (
  auction BIGINT,
  price BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q2
SELECT auction, price FROM bid WHERE auction % 123 = 0;
