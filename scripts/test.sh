#!/usr/bin/env bash
# The one test command (`npm test`): type-check, check the layers (dependency-cruiser), build, and run every jest suite on real engines.
# PostgreSQL (embedded) and chDB need nothing. Kafka: when KAFKA_BROKERS is unset and Java + Maven
# are present, a single-node broker is started for the run (deploy/kafka/kafka.sh) and stopped after.
# Extra arguments go to jest (e.g. `npm test -- test/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent lint:deps   # layers and import cycles (.dependency-cruiser.cjs)
npm run --silent build

started_kafka=0
if [[ -z "${KAFKA_BROKERS:-}" ]] && command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  # A broker someone else started (kafka.sh start earlier) is used and left running afterwards.
  already_running=0
  if bash deploy/kafka/kafka.sh status >/dev/null 2>&1; then already_running=1; fi
  if brokers_line=$(bash deploy/kafka/kafka.sh start | grep '^KAFKA_BROKERS='); then
    export KAFKA_BROKERS="${brokers_line#KAFKA_BROKERS=}"
    if [[ $already_running == 0 ]]; then started_kafka=1; fi
  else
    echo "scripts/test.sh: could not start Kafka; Kafka suites will report SKIPPED" >&2
  fi
fi
cleanup() { if [[ $started_kafka == 1 ]]; then bash deploy/kafka/kafka.sh stop || true; fi; }
trap cleanup EXIT

results_dir="$(mktemp -d)"
status=0
npx jest --json --outputFile="$results_dir/main.json" "$@" || status=$?

# A full run with a broker also runs the feature end-to-end suites with Kafka as the system's bus
# (TEST_BUS=kafka): the production topology, not only the embedded one. Suites that pick their own
# topology (split processes, broker restarts) or test the HTTP edge alone run once.
KAFKA_E2E_SUITES=(identity telemetry arena arena-api training cli-start)
if [[ $# -eq 0 && -n "${KAFKA_BROKERS:-}" ]]; then
  echo "scripts/test.sh: end-to-end suites again, on Kafka (TEST_BUS=kafka): ${KAFKA_E2E_SUITES[*]}" >&2
  TEST_BUS=kafka npx jest --json --outputFile="$results_dir/kafka-e2e.json" \
    $(printf 'test/e2e/%s.test.ts ' "${KAFKA_E2E_SUITES[@]}") || status=$?
fi

# One plain closing line any CI reader understands: "tests: N passed, N failed, N skipped".
node -e '
  const fs = require("fs");
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    total.passed += r.numPassedTests;
    // A suite that fails before any test runs (a thrown setup, a missing engine) counts as a failure.
    total.failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    total.skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
' "$results_dir/main.json" "$results_dir/kafka-e2e.json" || true
rm -rf "$results_dir"
exit $status
