# The load balancer. Build from the repository root:
#   docker build -f docker/lb.Dockerfile -t lb-proxy .
# Runs as the image's non-root user `deno`. The config is read from /etc/lb/config.yml (mount your
# own over it); the admin listener must listen on 8081 inside the container for the HEALTHCHECK.
FROM denoland/deno:2.9.6

ENV DENO_NO_UPDATE_CHECK=1 \
    NO_COLOR=1 \
    LB_CONFIG=/etc/lb/config.yml
WORKDIR /app
RUN chown deno:deno /app
USER deno

# npm dependencies first, in their own layer: rebuilt only when deno.json or deno.lock change.
# --frozen fails the build instead of resolving anything the lockfile does not pin.
COPY deno.json deno.lock ./
RUN deno install --frozen \
 # The workflow linter is a development tool; nothing the proxy runs imports it.
 && rm -rf node_modules/@tktco node_modules/.deno/@tktco+node-actionlint@*

# Only what runs: no tests, docs, dashboards or scripts (see also .dockerignore).
COPY main.ts ./
COPY algorithms/ algorithms/
COPY lib/ lib/
COPY docker/healthcheck.ts docker/
COPY config.yml /etc/lb/config.yml
# Compile everything now, so the first request is not the one that pays for it.
RUN deno cache main.ts docker/healthcheck.ts

EXPOSE 8080 8081
# Read and write on the Docker socket are what a unix-socket connection needs; Docker is used
# only when the config enables discovery or names a container (docs/docker.md). The V8 flags are
# the `start` task's (deno.json; why in docs/performance.md).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "docker/healthcheck.ts", "http://127.0.0.1:8081/healthz"]
CMD ["run", "--allow-net", "--allow-read", "--allow-write=/var/run/docker.sock", "--allow-env", "--allow-sys", "--v8-flags=--max-semi-space-size=4,--no-allocation-site-pretenuring", "main.ts"]
