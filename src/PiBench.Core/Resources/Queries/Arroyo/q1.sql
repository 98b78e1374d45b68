-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 1: Currency conversion (price * 0.908; DataFusion computes it as DOUBLE, the suite's sink is DECIMAL(23, 3))
CREATE TABLE nexmark_q1 (
  auction BIGINT,
  bidder BIGINT,
  price DOUBLE,
  datetime TIMESTAMP,
  extra TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q1
SELECT auction, bidder, 0.908 * price AS price, datetime, extra FROM bid;
