-- PiBench Reference system: query q2 of the reference implementation (semantics: ../Flink/q2.sql and its latency
-- variant; NexmarkReference.cs says how). The sink columns are the latency variant's, so latency_ts is always there.
-- Support and notes: Resources/Queries/catalog.json.
QUERY q2;
SINK WITH (connector = 'blackhole');
