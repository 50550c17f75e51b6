#!/usr/bin/env bash
# The one test command (npm test): types, lint and format, then every unit, interop and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
echo "== typecheck" && tsc --noEmit -p . && tsc --noEmit -p src/web
echo "== dashboard build" && node scripts/build-web.ts
echo "== lint + format" && biome check .
echo "== python peers" && bash scripts/setup-python.sh
files=(test/**/*.test.ts)
[ ${#files[@]} -gt 0 ] || { echo "no test files found" >&2; exit 1; }
echo "== tests (${#files[@]} files)"
mkdir -p artifacts
node --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec "${files[@]}"
