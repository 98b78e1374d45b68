-- Nexmark suite for Flink SQL (https://github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries,
-- Apache License 2.0), the Flink 1.x text. PiBench keeps the query text as published; only ${...} placeholders
-- are filled at submit time. Catalog: Resources/Queries/catalog.json.
-- Source: the generator's Kafka JSON wire format (nexmark-generator.md 9.3): one message per event,
-- {"event_type":0|1|2,"person":{...}|null,"auction":{...}|null,"bid":{...}|null}, camelCase row fields,
-- timestamps 'yyyy-MM-dd HH:mm:ss[.SSS]' (Flink's SQL timestamp format, the JSON default).
-- Parameters: TOPIC, BOOTSTRAP_SERVERS, GROUP_ID, STARTUP_MODE. Parallelism comes from the session
-- property parallelism.default (Flink 1.18's Kafka table source has no per-table parallelism option).
CREATE TABLE kafka (
    event_type int,
    person ROW<
        id  BIGINT,
        name  VARCHAR,
        emailAddress  VARCHAR,
        creditCard  VARCHAR,
        city  VARCHAR,
        state  VARCHAR,
        dateTime TIMESTAMP(3),
        extra  VARCHAR>,
    auction ROW<
        id  BIGINT,
        itemName  VARCHAR,
        description  VARCHAR,
        initialBid  BIGINT,
        reserve  BIGINT,
        dateTime  TIMESTAMP(3),
        expires  TIMESTAMP(3),
        seller  BIGINT,
        category  BIGINT,
        extra  VARCHAR>,
    bid ROW<
        auction  BIGINT,
        bidder  BIGINT,
        price  BIGINT,
        channel  VARCHAR,
        url  VARCHAR,
        dateTime  TIMESTAMP(3),
        extra  VARCHAR>,
    dateTime AS
        CASE
            WHEN event_type = 0 THEN person.dateTime
            WHEN event_type = 1 THEN auction.dateTime
            ELSE bid.dateTime
        END,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC}',
    'properties.bootstrap.servers' = '${BOOTSTRAP_SERVERS}',
    'properties.group.id' = '${GROUP_ID}',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'sink.partitioner' = 'round-robin',
    'format' = 'json'
);
