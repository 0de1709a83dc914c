#!/usr/bin/env bash
# Create OncoRoute's Kafka topics with their partition counts and settings. Idempotent: an
# existing topic is left as it is. Runs in the apache/kafka image (docker-compose.yml's
# kafka-init; deploy/k8s's kafka-topics Job carries a copy of this file, kept identical by
# tests/deploy). Why these numbers: docs/SCALING.md.
#
#   KAFKA_BOOTSTRAP_SERVERS   host:port[,host:port]                  (required)
#   KAFKA_REPLICATION_FACTOR  3 in production, 1 on a single broker  (default 3)
#   KAFKA_MIN_INSYNC_REPLICAS 2 in production, 1 on a single broker  (default 2)
#   KAFKA_CLIENT_CONFIG       a client .properties file for TLS/SASL (optional)
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
replication="${KAFKA_REPLICATION_FACTOR:-3}"
min_isr="${KAFKA_MIN_INSYNC_REPLICAS:-2}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
client=()
if [[ -n "${KAFKA_CLIENT_CONFIG:-}" ]]; then
  client=(--command-config "${KAFKA_CLIENT_CONFIG}")
fi

# topic               partitions  retention
#   7 days for the working topics (the database, not Kafka, is the record of a case; a
#   consumer group stopped for longer than this loses events: alert on lag long before);
#   28 days for dead letters, so an operator can read and replay them after a holiday.
TOPICS="
case-submissions      12          604800000
cases                 12          604800000
specialist-actions    12          604800000
assignments           12          604800000
sla-events            12          604800000
notifications         12          604800000
dead-letters          3           2419200000
"

while read -r topic partitions retention_ms; do
  [[ -z "${topic}" ]] && continue
  "${bin}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" "${client[@]}" \
    --create --if-not-exists --topic "${topic}" \
    --partitions "${partitions}" --replication-factor "${replication}" \
    --config "min.insync.replicas=${min_isr}" \
    --config "retention.ms=${retention_ms}" \
    --config "unclean.leader.election.enable=false" \
    --config "cleanup.policy=delete"
  echo "topic ${topic}: ${partitions} partitions, replication ${replication}, min ISR ${min_isr}"
done <<< "${TOPICS}"

"${bin}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" "${client[@]}" \
  --describe --topics-with-overrides
