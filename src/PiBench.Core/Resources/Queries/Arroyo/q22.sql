-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Query 22: Get URL Directories. Flink's SPLIT_INDEX(url, '/', n) is 0-based and NULL past the end;
-- split_part(url, '/', n + 1) is 1-based and '' past the end.
CREATE TABLE nexmark_q22 (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  channel TEXT,
  dir1 TEXT,
  dir2 TEXT,
  dir3 TEXT
) WITH (
  connector = 'blackhole'
);

INSERT INTO nexmark_q22
SELECT
  auction, bidder, price, channel,
  split_part(url, '/', 4) AS dir1,
  split_part(url, '/', 5) AS dir2,
  split_part(url, '/', 6) AS dir3
FROM bid;
