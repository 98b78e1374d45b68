-- Nexmark for Arroyo 0.11 SQL, written for PiBench after the Flink Nexmark suite (see ../Flink/qN.sql).
-- Source: the generator's Kafka JSON wire format (nexmark-generator.md 9.3), the same topic Flink reads:
-- {"event_type":0|1|2,"person":{...}|null,"auction":{...}|null,"bid":{...}|null}, camelCase row fields,
-- timestamps 'yyyy-MM-dd HH:mm:ss[.SSS]' without zone.
-- Arroyo 0.11 has no STRUCT column type (arroyo-planner/src/types.rs; inline structs came in 0.14): the three rows
-- are JSON columns (Arroyo's arrow-json fork keeps a nested object as its JSON text) read with 0.11's JSON
-- functions (arroyo-planner/src/json.rs): get_first_json_object (any value as JSON text: numbers, cast) and
-- extract_json_string (string values only). Every field read parses the row's JSON text again: a decode cost
-- Flink's typed JSON reader does not pay (README, Arroyo figures).
-- Generated columns are planned against the physical columns only (arroyo-planner/src/tables.rs), so the watermark
-- repeats the whole event-time expression instead of naming event_time. Event time = the non-null row's dateTime;
-- watermark 4 s behind it, as the suite's WATERMARK clause.
-- Start mode: 'source.offset' (earliest | latest | group, arroyo-connectors/src/kafka/mod.rs), from ARROYO_OFFSET.
-- Parameters: TOPIC, BOOTSTRAP_SERVERS, GROUP_ID, ARROYO_OFFSET. Parallelism is the pipeline's
-- 'parallelism' (applied to every operator; subtask i reads partitions p with p % parallelism == i).
-- Checked against the v0.11.0 source, not a live Arroyo: PiBench always runs POST /api/v1/pipelines/validate_query
-- before creating the pipeline.
CREATE TABLE nexmark_source (
    event_type INT,
    person JSON,
    auction JSON,
    bid JSON,
    event_time TIMESTAMP GENERATED ALWAYS AS (CASE
        WHEN event_type = 0 THEN CAST(extract_json_string(person, '$.dateTime') AS TIMESTAMP)
        WHEN event_type = 1 THEN CAST(extract_json_string(auction, '$.dateTime') AS TIMESTAMP)
        ELSE CAST(extract_json_string(bid, '$.dateTime') AS TIMESTAMP) END) STORED,
    watermark TIMESTAMP GENERATED ALWAYS AS (CASE
        WHEN event_type = 0 THEN CAST(extract_json_string(person, '$.dateTime') AS TIMESTAMP)
        WHEN event_type = 1 THEN CAST(extract_json_string(auction, '$.dateTime') AS TIMESTAMP)
        ELSE CAST(extract_json_string(bid, '$.dateTime') AS TIMESTAMP) END - INTERVAL '4' SECOND) STORED
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
SELECT CAST(get_first_json_object(person, '$.id') AS BIGINT) AS id,
       extract_json_string(person, '$.name') AS name,
       extract_json_string(person, '$.emailAddress') AS email_address,
       extract_json_string(person, '$.creditCard') AS credit_card,
       extract_json_string(person, '$.city') AS city,
       extract_json_string(person, '$.state') AS state,
       event_time AS datetime,
       extract_json_string(person, '$.extra') AS extra
FROM nexmark_source WHERE event_type = 0;

CREATE VIEW auction AS
SELECT CAST(get_first_json_object(auction, '$.id') AS BIGINT) AS id,
       extract_json_string(auction, '$.itemName') AS item_name,
       extract_json_string(auction, '$.description') AS description,
       CAST(get_first_json_object(auction, '$.initialBid') AS BIGINT) AS initial_bid,
       CAST(get_first_json_object(auction, '$.reserve') AS BIGINT) AS reserve,
       event_time AS datetime,
       CAST(extract_json_string(auction, '$.expires') AS TIMESTAMP) AS expires,
       CAST(get_first_json_object(auction, '$.seller') AS BIGINT) AS seller,
       CAST(get_first_json_object(auction, '$.category') AS BIGINT) AS category,
       extract_json_string(auction, '$.extra') AS extra
FROM nexmark_source WHERE event_type = 1;

CREATE VIEW bid AS
SELECT CAST(get_first_json_object(bid, '$.auction') AS BIGINT) AS auction,
       CAST(get_first_json_object(bid, '$.bidder') AS BIGINT) AS bidder,
       CAST(get_first_json_object(bid, '$.price') AS BIGINT) AS price,
       extract_json_string(bid, '$.channel') AS channel,
       extract_json_string(bid, '$.url') AS url,
       event_time AS datetime,
       extract_json_string(bid, '$.extra') AS extra
FROM nexmark_source WHERE event_type = 2;
