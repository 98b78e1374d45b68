-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 11: User Sessions (SESSION window, gap 10 s, per bidder; window start/end not emitted)
CREATE TABLE nexmark_q11 (
  bidder BIGINT,
  bid_count BIGINT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q11
SELECT B.bidder, B.bid_count
FROM (
  SELECT bidder, count(*) AS bid_count, session(interval '10 second') AS window
  FROM bid
  GROUP BY bidder, window
) AS B;
