-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Arroyo lower-cases unquoted identifiers, windows are GROUP BY functions (tumble/hop/session) over the
-- event time set by the source, and the table sink must declare its columns. Unvalidated against a live
-- Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query before creating the pipeline.
-- Source: the generator's Kafka JSON wire format (nexmark-generator.md 9.3), the same topic Flink reads:
-- {"event_type":0|1|2,"person":{...}|null,"auction":{...}|null,"bid":{...}|null}, camelCase row fields
-- (quoted here), timestamps 'yyyy-MM-dd HH:mm:ss[.SSS]' without zone.
-- Event time = the non-null row's dateTime; watermark 4 s behind it, as the suite's WATERMARK clause.
-- Parameters: TOPIC, BOOTSTRAP_SERVERS, GROUP_ID, ARROYO_OFFSET. Parallelism is the pipeline's
-- 'parallelism' (applied to every operator; subtask i reads partitions p with p % parallelism == i).
CREATE TABLE nexmark_source (
    event_type INT,
    person STRUCT<id BIGINT, name TEXT, "emailAddress" TEXT, "creditCard" TEXT, city TEXT, state TEXT,
                  "dateTime" TIMESTAMP, extra TEXT>,
    auction STRUCT<id BIGINT, "itemName" TEXT, description TEXT, "initialBid" BIGINT, reserve BIGINT,
                   "dateTime" TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra TEXT>,
    bid STRUCT<auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, "dateTime" TIMESTAMP, extra TEXT>,
    event_time TIMESTAMP GENERATED ALWAYS AS (CASE
        WHEN event_type = 0 THEN person."dateTime"
        WHEN event_type = 1 THEN auction."dateTime"
        ELSE bid."dateTime" END) STORED,
    watermark TIMESTAMP GENERATED ALWAYS AS (event_time - INTERVAL '4' SECOND) STORED
) WITH (
    connector = 'kafka',
    bootstrap_servers = '${BOOTSTRAP_SERVERS}',
    topic = '${TOPIC}',
    type = 'source',
    format = 'json',
    'source.offset' = '${ARROYO_OFFSET}',
    'source.group_id' = '${GROUP_ID}',
    event_time_field = 'event_time',
    watermark_field = 'watermark'
);

CREATE VIEW person AS
SELECT person.id AS id, person.name AS name, person."emailAddress" AS email_address,
       person."creditCard" AS credit_card, person.city AS city, person.state AS state,
       event_time AS datetime, person.extra AS extra
FROM nexmark_source WHERE event_type = 0;

CREATE VIEW auction AS
SELECT auction.id AS id, auction."itemName" AS item_name, auction.description AS description,
       auction."initialBid" AS initial_bid, auction.reserve AS reserve, event_time AS datetime,
       auction.expires AS expires, auction.seller AS seller, auction.category AS category, auction.extra AS extra
FROM nexmark_source WHERE event_type = 1;

CREATE VIEW bid AS
SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.channel AS channel,
       bid.url AS url, event_time AS datetime, bid.extra AS extra
FROM nexmark_source WHERE event_type = 2;
