#!/usr/bin/env bash
# Three Hive nodes on this machine, one hive: a throwaway PostgreSQL they share, agents placed
# on each node, tasks submitted to the first node and run on the others' agents. Stops
# everything on Ctrl-C (or at the end with --once).
#
# Usage: bash examples/cluster/three-nodes.sh [--once]
# Needs a built hive (bash scripts/run-server builds one; BUILD_DIR=build by default) and the
# PostgreSQL 15 server binaries (scripts/setup installs them). HTTP on 3301-3303, cluster links
# on 4201-4203.
set -euo pipefail
cd "$(dirname "$0")/../.."
HIVE=${BUILD_DIR:-build}/app/hive
[[ -x $HIVE ]] || { echo "no $HIVE: build first (bash scripts/run-server, or scripts/setup)"; exit 1; }

pids=()
pg_env=$(bash scripts/pg-test-cluster start)
eval "$pg_env"
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash scripts/pg-test-cluster stop "$HIVE_TEST_PG_DIR"
}
trap stop EXIT

for i in 1 2 3; do
  HIVE_DATABASE__URL=$HIVE_TEST_POSTGRES_URL HIVE_CLUSTER__ENABLED=true \
  HIVE_CLUSTER__NODE_ID=n$i HIVE_CLUSTER__PORT=420$i HIVE_CLUSTER__SECRET=example-secret \
  HIVE_CLUSTER__SEEDS=127.0.0.1:4201,127.0.0.1:4202 \
    "$HIVE" serve --port 330$i 2>"/tmp/hive-example-n$i.log" &
  pids+=($!)
  until curl -sf -o /dev/null localhost:330$i/health; do sleep 0.2; done
done
sleep 1.5 # a heartbeat or so: every node knows the others
echo "== the nodes, as n3 sees them"
curl -s localhost:3303/api/cluster/nodes; echo

json='Content-Type: application/json'
echo "== agents, all created through n1: one placed on n2, one on n3, one wherever load is least"
curl -s -X POST localhost:3301/api/agents -H "$json" \
  -d '{"name":"writer","placement":"n2","capabilities":[{"name":"nlp","proficiency":0.9}]}'; echo
curl -s -X POST localhost:3301/api/agents -H "$json" \
  -d '{"name":"gpu-box","placement":"n3","capabilities":[{"name":"gpu"}]}'; echo
curl -s -X POST localhost:3301/api/agents -H "$json" -d '{"name":"spare","placement":"least_loaded"}'; echo
sleep 1 # the directories sync at each tick (500 ms)

echo "== tasks submitted to n1; the gpu one can only run on n3's agent"
gpu=$(curl -s -X POST localhost:3301/api/tasks -H "$json" \
  -d '{"type":"echo","payload":{"on":"gpu"},"required_capabilities":[{"name":"gpu"}]}')
nlp=$(curl -s -X POST localhost:3301/api/tasks -H "$json" \
  -d '{"type":"nlp.analyze","required_capabilities":[{"name":"nlp"}],"payload":{"text":"Clusters are fun."}}')
sleep 0.5
for t in "$gpu" "$nlp"; do
  id=$(sed -E 's/.*"id":"([^"]+)".*/\1/' <<<"$t")
  echo "-- task $id, read through n2:"
  curl -s "localhost:3302/api/tasks/$id" | grep -o '"status":"[a-z]*","attempts":[0-9]*,"agent_id":"[^"]*"'
done
echo "== the agents as n2 lists them (node_id says where each lives)"
curl -s localhost:3302/api/agents; echo

if [[ ${1:-} == --once ]]; then exit 0; fi
echo "== running: HTTP on 3301-3303 (logs in /tmp/hive-example-n*.log); Ctrl-C stops everything"
wait
