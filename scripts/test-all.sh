#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up the machine, then runs every tier and prints one
# closing line "N passed, N failed". Tiers: typecheck; unit (Vitest, no GPU); kernels (Vitest on Dawn,
# once on SwiftShader for f32 and once on Mesa 25 lavapipe for f16); build; e2e (Playwright, Chromium).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/ensure-env.sh || { echo "environment set-up failed"; exit 1; }

REPORTS="$ROOT/.cache/reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
status=0
step() { echo; echo "=== $1"; }

step "typecheck"
npx tsc --noEmit -p tsconfig.json || { echo "typecheck FAILED"; status=1; }

step "unit tests (no GPU)"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$REPORTS/unit.json" || status=1

step "kernel tests on SwiftShader (f32)"
CIDM_ADAPTER=swiftshader VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
  npx vitest run --project kernels --reporter=default --reporter=json --outputFile.json="$REPORTS/kernels-swiftshader.json" || status=1

step "kernel tests on Mesa 25 lavapipe (f16)"
CIDM_ADAPTER=lavapipe VK_ICD_FILENAMES="$MESA25_ICD" LD_LIBRARY_PATH="$MESA25_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  npx vitest run --project kernels --reporter=default --reporter=json --outputFile.json="$REPORTS/kernels-lavapipe.json" || status=1

step "build"
npx vite build --logLevel warn || { echo "build FAILED"; status=1; }

step "e2e (Playwright, headless Chromium)"
PLAYWRIGHT_JSON_OUTPUT_FILE="$REPORTS/e2e.json" npx playwright test --reporter=list,json || status=1

step "summary"
node scripts/summarize-tests.mjs "$REPORTS" || status=1
exit $status
