#!/usr/bin/env bash
# Build the local Docker images the tests and the compose stack run on, without any image registry.
#
# Usage: scripts/docker-base-images.sh [busybox] [debian] [deno] [prometheus]   (no argument: all)
#
# Images (each skipped when an image with the same tag and recipe label already exists):
#   lb-test/busybox                  static busybox only: enough for containers that just run a process
#   lb-test/debian-base:bookworm     debootstrap --variant=minbase from the Debian mirror
#   denoland/deno:2.9.6              stand-in for the official image: Debian base + the Deno binary that the
#                                    npm package @deno/linux-x64-glibc ships, user deno (uid 1993)
#   prom/prometheus:v2.42.0          stand-in for the official image: Debian base + the files of Debian's
#                                    prometheus 2.42.0 package, same entrypoint, command and paths
#
# The stand-ins carry the official names and tags so compose files read as they would anywhere else; on a
# machine that can pull, the real images are drop-in replacements.
#
# Needs: docker (engine running), debootstrap, busybox-static, npm, apt-get. Run as root.
set -euo pipefail

# Bump when a recipe below changes, so cached images built by an older recipe are rebuilt.
readonly RECIPE=1
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly DENO_VERSION=2.9.6
readonly PROMETHEUS_TAG=v2.42.0
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

readonly BUSYBOX_IMAGE=lb-test/busybox
readonly DEBIAN_IMAGE=lb-test/debian-base:${DEBIAN_SUITE}
readonly DENO_IMAGE=denoland/deno:${DENO_VERSION}
readonly PROMETHEUS_IMAGE=prom/prometheus:${PROMETHEUS_TAG}

work=$(mktemp -d /tmp/lb-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

log() { printf 'docker-base-images: %s\n' "$*" >&2; }

# True when $1 exists and was built by this recipe.
cached() {
  local label
  label=$(docker image inspect --format '{{ index .Config.Labels "lb-test.recipe" }}' "$1" 2>/dev/null) || return 1
  [[ "$label" == "$RECIPE" ]]
}

# docker build with the classic builder (no buildx needed); output only when it fails.
docker_build() {
  DOCKER_BUILDKIT=0 docker build --force-rm -t "$1" "$2" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; return 1; }
}

build_busybox() {
  cached "$BUSYBOX_IMAGE" && { log "$BUSYBOX_IMAGE cached"; return; }
  local bb=/bin/busybox root="$work/busybox"
  [[ -x "$bb" ]] && file -L "$bb" | grep -Eq 'statically linked|static-pie linked' ||
    { log "need a static /bin/busybox: apt-get install -y busybox-static"; return 1; }
  mkdir -p "$root"/{bin,tmp,proc,sys,dev,etc}
  cp "$bb" "$root/bin/busybox"
  # One symlink per applet, like the official busybox image, so `sh`, `dd`, `sleep` resolve on PATH.
  for applet in $("$bb" --list); do
    [[ "$applet" == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import \
    --change "LABEL lb-test.recipe=$RECIPE" \
    --change 'ENV PATH=/bin' \
    --change 'CMD ["sh"]' \
    - "$BUSYBOX_IMAGE" >/dev/null
  log "built $BUSYBOX_IMAGE"
}

build_debian() {
  cached "$DEBIAN_IMAGE" && { log "$DEBIAN_IMAGE cached"; return; }
  local root="$work/debian"
  log "debootstrap $DEBIAN_SUITE (about a minute)"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; return 1; }
  # The host's CA bundle, so TLS through this machine's proxy verifies inside containers too.
  mkdir -p "$root/etc/ssl/certs"
  cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change "LABEL lb-test.recipe=$RECIPE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    - "$DEBIAN_IMAGE" >/dev/null
  log "built $DEBIAN_IMAGE"
}

build_deno() {
  cached "$DENO_IMAGE" && { log "$DENO_IMAGE cached"; return; }
  build_debian
  local ctx="$work/deno"
  mkdir -p "$ctx"
  # The npm package of the platform binary carries the same executable as the GitHub release.
  (cd "$ctx" && npm pack --silent "@deno/linux-x64-glibc@$DENO_VERSION" >/dev/null && tar xzf deno-linux-x64-glibc-*.tgz)
  cp "$ctx/package/deno" "$ctx/deno"
  chmod 755 "$ctx/deno"
  # Same dispatch as the official entrypoint: a Deno subcommand runs under deno, anything else runs as is.
  cat >"$ctx/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
case "$1" in
  bench|bundle|cache|check|compile|completions|coverage|doc|eval|fmt|help|info|init|install|jupyter|lint|lsp|publish|repl|run|serve|task|test|types|uninstall|upgrade|vendor|add|remove|outdated|clean|approve-scripts|audit|update|x)
    exec deno "$@" ;;
esac
exec "$@"
EOF
  chmod 755 "$ctx/docker-entrypoint.sh"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN groupadd --gid 1993 deno && useradd --uid 1993 --gid deno --shell /bin/bash --create-home deno \\
 && mkdir /deno-dir && chown deno:deno /deno-dir
COPY deno /usr/bin/deno
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV DENO_DIR=/deno-dir/ DENO_INSTALL_ROOT=/usr/local DENO_CERT=$CA_BUNDLE
LABEL lb-test.recipe=$RECIPE
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["deno", "repl"]
EOF
  docker_build "$DENO_IMAGE" "$ctx"
  docker run --rm "$DENO_IMAGE" deno --version | head -1 >&2
  log "built $DENO_IMAGE"
}

build_prometheus() {
  cached "$PROMETHEUS_IMAGE" && { log "$PROMETHEUS_IMAGE cached"; return; }
  build_debian
  local ctx="$work/prometheus"
  mkdir -p "$ctx/root"
  (cd "$ctx" && apt-get download prometheus >/dev/null 2>&1) ||
    { apt-get update >/dev/null && (cd "$ctx" && apt-get download prometheus >/dev/null); }
  dpkg-deb -x "$ctx"/prometheus_*.deb "$ctx/root"
  # Into /usr/bin: Debian's /bin is a symlink to it (merged /usr), so /bin/prometheus resolves as in the
  # official image, and copying a real bin/ directory would replace that symlink.
  mkdir -p "$ctx/files/usr/bin" "$ctx/files/etc/prometheus" "$ctx/files/usr/share/prometheus"
  cp "$ctx/root/usr/bin/prometheus" "$ctx/root/usr/bin/promtool" "$ctx/files/usr/bin/"
  cp -r "$ctx/root/usr/share/doc/prometheus/examples/console_libraries" \
    "$ctx/root/usr/share/doc/prometheus/examples/consoles" "$ctx/files/usr/share/prometheus/"
  # The official image's default config: scrape itself.
  cat >"$ctx/files/etc/prometheus/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
EOF
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY files/ /
RUN mkdir -p /prometheus && chown -R nobody:nogroup /etc/prometheus /prometheus
LABEL lb-test.recipe=$RECIPE
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", \
     "--web.console.libraries=/usr/share/prometheus/console_libraries", \
     "--web.console.templates=/usr/share/prometheus/consoles"]
EOF
  docker_build "$PROMETHEUS_IMAGE" "$ctx"
  docker run --rm --entrypoint /bin/prometheus "$PROMETHEUS_IMAGE" --version | head -1 >&2
  log "built $PROMETHEUS_IMAGE"
}

main() {
  docker info >/dev/null 2>&1 || { log "Docker engine not reachable (start dockerd)"; return 1; }
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(busybox debian deno prometheus)
  for target in "${targets[@]}"; do
    case "$target" in
      busybox) build_busybox ;;
      debian) build_debian ;;
      deno) build_deno ;;
      prometheus) build_prometheus ;;
      *) log "unknown image '$target': expected busybox, debian, deno or prometheus"; return 2 ;;
    esac
  done
}

main "$@"
