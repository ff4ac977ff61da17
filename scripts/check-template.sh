#!/usr/bin/env bash
# Template checks, offline, with the project's own tools (.venv from scripts/setup.sh):
#   1. sam validate --lint   (SAM transform + cfn-lint on the transformed template)
#   2. cfn-lint              (the SAM template itself, informational checks included)
#   3. sam build             (esbuild bundles into .aws-sam/build; cached, no Docker, no npm install)
#   4. bundle guard          (ESM chunks: no esbuild dynamic-require shim, no AWS SDK package loaded at run time)
#   5. iac scan              (checkov; every finding must be accepted, with why, in scripts/iac-scan-accepted.yaml)
# Any warning fails the run. Prints the duration of every step.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN=.venv/bin
TEMPLATE=template.yaml
REGION=us-east-1
export SAM_CLI_TELEMETRY=0
# SAM's esbuild workflow looks esbuild up via `npm root`, then PATH: use the project's esbuild.
export PATH="$PWD/node_modules/.bin:$PATH"

for tool in sam cfn-lint; do
  [ -x "$VENV_BIN/$tool" ] || { echo "check-template: $VENV_BIN/$tool missing; run: bash scripts/setup.sh" >&2; exit 1; }
done
[ -x .venv-checkov/bin/checkov ] || { echo "check-template: .venv-checkov/bin/checkov missing; run: bash scripts/setup.sh" >&2; exit 1; }

now_ms() { date +%s%3N; }
step() {
  local name=$1
  shift
  local started output status
  started=$(now_ms)
  set +e
  output=$("$@" 2>&1)
  status=$?
  set -e
  local elapsed=$(($(now_ms) - started))
  printf '%s\n' "$output"
  if [ $status -ne 0 ]; then
    printf '[check-template] FAIL %-14s %6d ms\n' "$name" "$elapsed" >&2
    exit $status
  fi
  # cfn-lint reports warnings as Wxxxx and informational findings as Ixxxx; sam prints "warning" lines.
  # The one expected sam build notice is the package.json one (CodeUri src/ has no manifest by design).
  if printf '%s\n' "$output" | grep -v 'package.json file not found. Bundling source without installing dependencies.' |
    grep -Eiq '(^|[^a-z])([WI][0-9]{4}|warning)'; then
    printf '[check-template] FAIL %-14s %6d ms (warnings above)\n' "$name" "$elapsed" >&2
    exit 1
  fi
  printf '[check-template] ok   %-14s %6d ms\n' "$name" "$elapsed" >&2
}

guard_bundles() {
  local bundles
  bundles=$(find .aws-sam/build -name '*.mjs' -type f)
  [ -n "$bundles" ] || { echo 'no .mjs bundles in .aws-sam/build' >&2; return 1; }
  # esbuild leaves "Dynamic require of X is not supported" in an ESM bundle when a CommonJS
  # dependency calls require(): it would fail at run time. Fix: add the createRequire Banner.
  if grep -l 'Dynamic require of' $bundles; then
    echo 'bundle(s) above call require() at run time; add BuildProperties.Banner with createRequire' >&2
    return 1
  fi
  # The SDK is bundled (tree-shaken with the rest, docs/DEPLOY.md "Bundling"): an import of an
  # @aws-sdk or @smithy package left in a bundle would load the runtime's copy, unminified, at init.
  if grep -lE '(from|import)\(?"@(aws-sdk|smithy)/' $bundles; then
    echo 'bundle(s) above import an AWS SDK package at run time; remove it from BuildProperties.External' >&2
    return 1
  fi
  ls -l $bundles | awk '{ total += $5 } END { print NR " files, " total " bytes" }'
}

total_started=$(now_ms)
step 'sam validate' "$VENV_BIN/sam" validate --lint --region "$REGION" -t "$TEMPLATE"
step 'cfn-lint' "$VENV_BIN/cfn-lint" --include-checks I -- "$TEMPLATE"
step 'sam build' "$VENV_BIN/sam" build --parallel --region "$REGION" -t "$TEMPLATE" --build-dir .aws-sam/build
step 'bundle guard' guard_bundles
step 'iac scan' node scripts/scan-template.mjs
printf '[check-template] all checks passed in %d ms\n' "$(($(now_ms) - total_started))" >&2
