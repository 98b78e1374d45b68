#!/bin/sh
# PiBench test stand-in for kafka-topics.sh: --create/--alter/--describe/--list against files in the log dir.
D=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}/topics; mkdir -p "$D"
# kafka-run-class.sh takes the JVM heap from KAFKA_HEAP_OPTS: record what this tool would have run with.
echo "$KAFKA_HEAP_OPTS" > /tmp/kafka-tool-heap
mode=; topic=; parts=1; bs=
while [ $# -gt 0 ]; do
  case "$1" in
    --create) mode=create;; --describe) mode=describe;; --alter) mode=alter;; --list) mode=list;;
    --topic) topic=$2; shift;; --partitions) parts=$2; shift;; --bootstrap-server) bs=$2; shift;;
  esac; shift
done
if [ "$bs" != "${KAFKA_ADVERTISED_LISTENERS#PLAINTEXT://}" ]; then echo "cannot reach $bs" >&2; exit 1; fi
case $mode in
  create) [ -f "$D/$topic" ] || echo "$parts" > "$D/$topic"; echo "Created topic $topic.";;
  alter) echo "$parts" > "$D/$topic";;
  list) ls "$D";;
  describe)
    for f in "$D"/*; do
      [ -f "$f" ] || continue; t=${f##*/}
      echo "$t" | grep -qE "^($topic)\$" || continue
      printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: 1\tConfigs:\n' "$t" "$(cat "$f")"
    done;;
  *) echo "unsupported" >&2; exit 2;;
esac
