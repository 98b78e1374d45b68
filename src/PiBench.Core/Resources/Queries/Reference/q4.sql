-- PiBench Reference system: query q4 of the reference implementation (semantics: ../Flink/q4.sql and its latency
-- variant; NexmarkReference.cs says how). The sink columns are the latency variant's, so latency_ts is always there.
-- Support and notes: Resources/Queries/catalog.json.
QUERY q4;
SINK WITH (connector = 'blackhole');
