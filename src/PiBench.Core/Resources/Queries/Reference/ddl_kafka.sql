-- PiBench's Reference system: the reference implementation of the Nexmark queries (src/PiBench.Core/Nexmark/Reference)
-- running in the PiBench process. Not SQL and not a stream processor to compare engines against: it is a correctness
-- reference and a way to try PiBench on one machine. This script only names the source, the query and the sink,
-- in the same key = 'value' form as Arroyo's WITH clauses; it is filled and swapped exactly like the engines' scripts.
-- Semantics: the catalog's Flink SQL (Queries/Flink/qN.sql) as NexmarkReference.cs describes. Parameters: TOPIC,
-- BOOTSTRAP_SERVERS, GROUP_ID. Support and notes: Resources/Queries/catalog.json.
SOURCE WITH (connector = 'kafka', bootstrap_servers = '${BOOTSTRAP_SERVERS}', topic = '${TOPIC}', group_id = '${GROUP_ID}', offset = 'earliest');
