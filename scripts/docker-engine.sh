#!/usr/bin/env bash
# Make sure a Docker Engine answers on /var/run/docker.sock: start dockerd when it does not (CI
# machines start with none running) and wait for it. The packages come from install-test-tools.sh.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "docker engine: running ($(docker info --format '{{.ServerVersion}}'))"
  exit 0
fi
command -v dockerd >/dev/null || { echo "docker engine: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
log=/tmp/dockerd.log
echo "docker engine: starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine: running ($(docker info --format '{{.ServerVersion}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "docker engine: dockerd did not come up within 30 s; last log lines:" >&2
tail -20 "$log" >&2
exit 1
