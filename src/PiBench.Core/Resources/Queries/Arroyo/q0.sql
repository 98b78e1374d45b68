-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 0: Pass through
CREATE TABLE nexmark_q0 (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  datetime TIMESTAMP,
  extra TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q0
SELECT auction, bidder, price, datetime, extra FROM bid;
