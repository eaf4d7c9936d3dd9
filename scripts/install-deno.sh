#!/usr/bin/env bash
# Install the pinned Deno from npm (the npm package ships the binary, so no other download is needed).
# Idempotent: a Deno of the right version already on PATH is kept. Used by .ci/run, by
# install-test-tools.sh and by every job of .github/workflows/ci.yml, so all of them run one Deno.
set -euo pipefail

DENO_VERSION="2.9.6"

if ! command -v deno >/dev/null 2>&1 || [[ "$(deno --version | head -1 | awk '{print $2}')" != "$DENO_VERSION" ]]; then
  echo "installing deno@$DENO_VERSION from npm"
  npm install -g "deno@$DENO_VERSION"
fi
deno --version | head -1
