# The demo backend and the load generator: one image, two commands. Build from the repository root:
#   docker build -f docker/demo.Dockerfile -t lb-demo .
#   docker run lb-demo                                        # backend on 9001 (BACKEND_* env)
#   docker run lb-demo run --allow-net --allow-env=LOAD_* demo/load/load.ts --url http://lb:8080/
FROM denoland/deno:2.9.6

ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
WORKDIR /app
RUN chown deno:deno /app
USER deno

# npm dependencies first (only when deno.json or deno.lock change); see lb.Dockerfile.
COPY deno.json deno.lock ./
RUN deno install --frozen \
 && rm -rf node_modules/@tktco node_modules/.deno/@tktco+node-actionlint@*

# lib/ imports algorithms/ (strategy names and types, for config validation and the demo's routes).
COPY algorithms/ algorithms/
COPY lib/ lib/
COPY demo/ demo/
COPY docker/healthcheck.ts docker/
RUN deno cache demo/backend/backend.ts demo/load/load.ts docker/healthcheck.ts

EXPOSE 9001
# The backend's port is BACKEND_PORT (default 9001); a load generator has no port to probe.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["sh", "-c", "exec deno run --allow-net=127.0.0.1 docker/healthcheck.ts http://127.0.0.1:${BACKEND_PORT:-9001}/health"]
CMD ["run", "--allow-net", "--allow-env=BACKEND_*", "--allow-sys=hostname", "demo/backend/backend.ts"]
