#!/usr/bin/env bash
# Install every tool the test suite needs: Deno (pinned, from npm) and the Debian packages the
# integration tests drive. Idempotent: anything already present at the right version is kept.
set -euo pipefail

DENO_VERSION="2.9.6"
APT_PACKAGES=(prometheus docker.io busybox-static debootstrap)

if ! command -v deno >/dev/null 2>&1 || [[ "$(deno --version | head -1 | awk '{print $2}')" != "$DENO_VERSION" ]]; then
  echo "installing deno@$DENO_VERSION from npm"
  npm install -g "deno@$DENO_VERSION"
fi
deno --version | head -1

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
