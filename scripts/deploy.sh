#!/usr/bin/env bash
# Builds and deploys the stack with the project's own tools: the SAM CLI from .venv and Node 24 /
# esbuild from node_modules (scripts/setup.sh installs both), so it works on the machine the README
# set up without a global SAM CLI.
#   npm run deploy -- --config-env dev            # or prod; further options go to `sam deploy`
# SAM_CLI overrides the SAM CLI used (default .venv/bin/sam), e.g. a globally installed `sam`.
# Before building, scripts/deploy_preflight.py refuses a prod deploy with no alarm target and, after
# `sam delete`, adopts the stage's retained tables (AdoptRetainedTables, RoutingLogStreamArn).
set -euo pipefail
cd "$(dirname "$0")/.."

config_env=''
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --config-env) config_env=${args[i + 1]:-} ;;
    --config-env=*) config_env=${args[i]#*=} ;;
  esac
done
if [ -z "$config_env" ]; then
  echo 'usage: npm run deploy -- --config-env <dev|prod> [sam deploy options]' >&2
  exit 2
fi

bash scripts/setup.sh >&2
export PATH="$PWD/node_modules/.bin:$PATH" SAM_CLI_TELEMETRY=0
sam=${SAM_CLI:-.venv/bin/sam}
preflight=$(mktemp)
trap 'rm -f "$preflight"' EXIT
.venv/bin/python scripts/deploy_preflight.py "$@" > "$preflight" || exit $?
extra=()
if [ -s "$preflight" ]; then
  mapfile -d '' extra < "$preflight"
fi
"$sam" build --config-env "$config_env"
# Parameter overrides given twice: sam deploy takes the last, so the preflight's (which include every
# configured or given one) win.
"$sam" deploy "$@" "${extra[@]}"
