#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer test/e2e/openapi-fuzz.test.ts runs) into a venv under
# .cache. Versions are pinned: schemathesis 3.39's hypothesis-jsonschema breaks with hypothesis
# releases newer than 6.120 ("'many' object has no attribute 'more'").
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.cache/schemathesis-venv
python=${PYTHON:-python3}
if [[ -x $venv/bin/st ]] && "$venv/bin/st" --version 2>/dev/null | grep -q '3.39.16'; then
  echo "schemathesis: already installed in $venv"
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet 'schemathesis==3.39.16' 'hypothesis==6.120.0'
"$venv/bin/st" --version
