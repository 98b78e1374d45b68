-- PiBench latency variant for Arroyo 0.11 (see ../qN.sql for the plain query): the same result plus one column
-- latency_ts, the event time or window end each result row is due at, so Invoke-Benchmark can measure latency against
-- the broker's log-append time of the row. Unvalidated against a live Arroyo: PiBench always runs
-- POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 2: Selection; latency_ts = the bid's event time.
CREATE TABLE nexmark_q2 (
  auction BIGINT,
  price BIGINT,
  latency_ts TIMESTAMP
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q2
SELECT auction, price, datetime AS latency_ts FROM bid WHERE auction % 123 = 0;
