#!/usr/bin/env bash
# Installs everything the project needs, from the registries only, into the project tree:
#   node_modules/      npm ci (brings Node 24 itself: the `node` devDependency)
#   .venv/             moto[server] (AWS emulator), aws-sam-cli and cfn-lint (template checks)
#   .venv-checkov/     checkov (static IaC scan of template.yaml), in its own venv: its pinned
#                      dependencies must not move the emulator's and SAM's
#   .emulators/        DynamoDB Local, taken from the npm package amplify-dynamodb-simulator
#   chromium           Debian's package (system-wide, as root), for the console's browser tests
# Idempotent: a second run only verifies what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
DDB_SIMULATOR_VERSION=2.9.30
CHECKOV_VERSION=3.3.30

log() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/sam ] || [ ! -x .venv/bin/cfn-lint ]; then
  log "python venv (.venv): moto[server]==$MOTO_VERSION aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
fi

if [ ! -x .venv-checkov/bin/checkov ]; then
  log "python venv (.venv-checkov): checkov==$CHECKOV_VERSION"
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

if [ ! -f .emulators/dynamodb-local/DynamoDBLocal.jar ]; then
  log "DynamoDB Local (from amplify-dynamodb-simulator@$DDB_SIMULATOR_VERSION, emulator/ folder only)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$DDB_SIMULATOR_VERSION" >/dev/null)
  mkdir -p .emulators/dynamodb-local
  tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
  cp -R "$tmp"/package/emulator/. .emulators/dynamodb-local/
  rm -rf "$tmp"
fi

# The console's end-to-end tests drive a real headless Chromium (playwright-core, no browser
# download): Debian's package. CHROMIUM_PATH points the tests at another one.
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "chromium (Debian package, for the console's browser tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    log "chromium is missing: the console's browser tests need it (apt-get install chromium, or set CHROMIUM_PATH)"
  fi
fi

command -v java >/dev/null || { log "java (17+) is required for DynamoDB Local"; exit 1; }
log "ready: node $(node_modules/.bin/node --version), $(.venv/bin/moto_server --version 2>/dev/null || echo moto), $(.venv/bin/sam --version)"
