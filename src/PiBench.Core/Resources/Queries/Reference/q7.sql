-- PiBench Reference system: query q7 of the reference implementation (semantics: ../Flink/q7.sql and its latency
-- variant; NexmarkReference.cs says how). The sink columns are the latency variant's, so latency_ts is always there.
-- Support and notes: Resources/Queries/catalog.json.
QUERY q7;
SINK WITH (connector = 'blackhole');
