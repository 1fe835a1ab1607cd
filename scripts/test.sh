#!/usr/bin/env bash
# The one test command (`npm test`): type-check, build, and run every jest suite on real engines.
# PostgreSQL (embedded) and chDB need nothing. Kafka: when KAFKA_BROKERS is unset and Java + Maven
# are present, a single-node broker is started for the run (deploy/kafka/kafka.sh) and stopped after.
# Extra arguments go to jest (e.g. `npm test -- test/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent build

started_kafka=0
if [[ -z "${KAFKA_BROKERS:-}" ]] && command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  if brokers_line=$(bash deploy/kafka/kafka.sh start | grep '^KAFKA_BROKERS='); then
    export KAFKA_BROKERS="${brokers_line#KAFKA_BROKERS=}"
    started_kafka=1
  else
    echo "scripts/test.sh: could not start Kafka; Kafka suites will report SKIPPED" >&2
  fi
fi
cleanup() { if [[ $started_kafka == 1 ]]; then bash deploy/kafka/kafka.sh stop || true; fi; }
trap cleanup EXIT

results="$(mktemp)"
status=0
npx jest --json --outputFile="$results" "$@" || status=$?
# One plain closing line any CI reader understands: "tests: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$results" || true
rm -f "$results"
exit $status
