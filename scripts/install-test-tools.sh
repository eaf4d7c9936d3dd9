#!/usr/bin/env bash
# Install every tool the test suite needs: Deno (pinned, from npm) and the Debian packages the
# integration tests drive. Idempotent: anything already present at the right version is kept.
set -euo pipefail

bash "$(dirname "$0")/install-deno.sh"

APT_PACKAGES=(prometheus chromium busybox-static debootstrap curl jq wrk nginx-light haproxy caddy python3 nghttp2-client openssl iproute2)
# Debian's engine only where none is installed: hosts that ship Docker's own packages (docker-ce,
# moby) would conflict with docker.io over containerd.
command -v dockerd >/dev/null 2>&1 || APT_PACKAGES+=(docker.io)
# scripts/e2e-compose.sh drives compose.yml: Debian's docker-compose (1.29) where the compose
# plugin (`docker compose`) is missing.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || APT_PACKAGES+=(docker-compose)

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
