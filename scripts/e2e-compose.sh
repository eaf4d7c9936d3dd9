#!/usr/bin/env bash
# End-to-end check of compose.yml: build the images from docker/, start the stack, and check it from
# the outside. Traffic goes only to 127.0.0.1 and to the containers this run creates.
#
#   1. LB_STANDIN_IMAGES=1: build the local stand-ins for denoland/deno and prom/prometheus
#      (scripts/docker-base-images.sh) and leave Grafana out (its image cannot be built here);
#      LB_STANDIN_IMAGES=0 (default): the real images are pulled and Grafana runs too.
#   2. `up -d --build`, then wait for every container's health check and every backend eligible.
#   3. 127.0.0.1:8080 reaches every backend (three from config.yml, one found by discovery).
#   4. Prometheus has the `lb` target up, answers a query on lb_requests_total, has loaded every
#      rule of docker/prometheus/alert_rules.yml, each evaluated without error, and the dashboard's
#      "Backend CPU and memory" panel reads a ratio in 0..1 for every backend.
#   5. A backend container stopped under load costs no client request, and Prometheus puts
#      LbBackendDown for it in pending (or firing).
#   6. Logs of every container go to $LB_E2E_LOG_DIR (when set), then `down -v` removes it all.
#
# The stack gets its own project name and container prefix (LB_STACK, default lbe2e<pid>), so it
# never touches another stack. Published ports follow LB_HTTP_PORT, LB_ADMIN_PORT,
# PROMETHEUS_PORT and GRAFANA_PORT (defaults 8080, 8081, 9090, 3000).
#
# Needs: docker with `docker compose` or docker-compose >= 1.28, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."

export LB_STACK=${LB_STACK:-lbe2e$$}
export COMPOSE_PROJECT_NAME=$LB_STACK
export DOCKER_GID=${DOCKER_GID:-$(stat -c %g /var/run/docker.sock)}
readonly STANDIN=${LB_STANDIN_IMAGES:-0}
readonly LOG_DIR=${LB_E2E_LOG_DIR:-}
readonly HTTP="http://127.0.0.1:${LB_HTTP_PORT:-8080}"
readonly ADMIN="http://127.0.0.1:${LB_ADMIN_PORT:-8081}"
readonly PROMETHEUS="http://127.0.0.1:${PROMETHEUS_PORT:-9090}"
started=$SECONDS

log() { printf 'e2e-compose: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if docker compose version >/dev/null 2>&1; then
  compose() { docker compose "$@"; }
elif command -v docker-compose >/dev/null; then
  compose() { docker-compose "$@"; }
else
  fail "neither 'docker compose' nor docker-compose is installed"
fi
for tool in curl jq; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

# Poll `$2` (a shell command) once a second until it succeeds or `$1` seconds pass.
wait_until() {
  local limit=$1 what=$3 t0=$SECONDS
  until eval "$2" >/dev/null 2>&1; do
    ((SECONDS - t0 < limit)) || fail "$what: not within ${limit}s"
    sleep 1
  done
  log "$what ($((SECONDS - t0))s)"
}

teardown() {
  local status=$?
  if [[ -n "$LOG_DIR" ]]; then
    mkdir -p "$LOG_DIR"
    compose ps >"$LOG_DIR/ps.txt" 2>&1 || true
    for id in $(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
      name=$(docker inspect -f '{{.Name}}' "$id" | tr -d /)
      docker logs --timestamps "$id" >"$LOG_DIR/$name.log" 2>&1 || true
      docker inspect -f '{{json .State}}' "$id" >"$LOG_DIR/$name.state.json" 2>&1 || true
    done
    log "container logs in $LOG_DIR"
  fi
  compose --profile load down -v --remove-orphans >/dev/null 2>&1 || true
  local filter="label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" left
  left=$(($(docker ps -aq --filter "$filter" | wc -l) + $(docker volume ls -q --filter "$filter" | wc -l)))
  if ((left > 0)); then
    log "FAIL: $left containers or volumes left after down -v"
    ((status != 0)) || status=1
  fi
  ((status == 0)) && log "OK in $((SECONDS - started))s" || log "failed after $((SECONDS - started))s"
  exit "$status"
}
trap teardown EXIT

services=()
if [[ "$STANDIN" == 1 ]]; then
  bash scripts/docker-base-images.sh deno prometheus
  services=(lb backend1 backend2 backend3 backend prometheus)
  log "stand-in images: Grafana left out"
fi

t0=$SECONDS
compose build >/dev/null
log "images built ($((SECONDS - t0))s)"
t0=$SECONDS
up_log=$(mktemp)
compose up -d --build "${services[@]}" >"$up_log" 2>&1 || { cat "$up_log" >&2; fail "compose up"; }
rm -f "$up_log"
log "up ($((SECONDS - t0))s)"

container() { compose ps -q "$1" | head -1; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
all_healthy() {
  local id
  for service in lb backend1 backend2 backend3 backend; do
    id=$(container "$service")
    [[ -n "$id" && "$(health "$id")" == healthy ]] || return 1
  done
}
wait_until 120 all_healthy "every container healthy"

discovered=$(docker inspect -f '{{.Name}}' "$(container backend)" | tr -d /)
expected=$(printf '%s\n' b1 b2 b3 "$discovered" | sort | tr '\n' ' ')
eligible() {
  [[ "$(curl -fsS "$ADMIN/api/backends" | jq -r '[.[] | select(.state == "healthy") | .name] | sort | join(" ")') " == "$expected" ]]
}
wait_until 60 eligible "backends eligible: $expected"

# The proxy reaches the Docker API as its non-root user: stats for a static and a discovered backend.
stats_flow() {
  curl -fsS "$ADMIN/metrics" | grep -q '^lb_docker_up 1' &&
    curl -fsS "$ADMIN/metrics" | grep -q "^lb_backend_cpu_ratio{service=\"default\",backend=\"b1\"}" &&
    curl -fsS "$ADMIN/metrics" | grep -q "^lb_backend_cpu_ratio{service=\"default\",backend=\"$discovered\"}"
}
wait_until 30 stats_flow "lb_docker_up 1, container stats for b1 and $discovered"

# 3. Round robin over four backends: 40 requests reach each several times.
seen=$(for _ in $(seq 40); do
  curl -fsS -o /dev/null -D - "$HTTP/" | tr -d '\r' | sed -n 's/^[Xx]-[Ll][Bb]-[Bb]ackend: //p'
done | sort | uniq -c)
log "responses per backend: $(echo $seen)"
[[ "$(awk '{print $2}' <<<"$seen" | sort | tr '\n' ' ')" == "$expected" ]] || fail "not every backend answered"

# 3b. The access log: one JSON line per request on the proxy's stdout, with its backend and trace id.
curl -fsS -o /dev/null -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' "$HTTP/echo?traced=1"
access_line() {
  docker logs "$(container lb)" 2>/dev/null | grep '"path":"/echo?traced=1"' | tail -1 |
    jq -e '.trace_id == "0af7651916cd43dd8448eb211c80319c" and .status == 200 and .backend != "-"
      and .service == "default" and .attempts >= 1'
}
wait_until 10 access_line "access log line for /echo?traced=1 with the client's trace id"

# 4. Prometheus scrapes the proxy and can query its request counter.
lb_target_up() {
  curl -fsS "$PROMETHEUS/api/v1/targets" |
    jq -e '.data.activeTargets[] | select(.labels.job == "lb" and .health == "up")'
}
wait_until 60 lb_target_up "Prometheus target lb up"
query_has_requests() {
  curl -fsS "$PROMETHEUS/api/v1/query" --data-urlencode 'query=sum(lb_requests_total)' |
    jq -e '.status == "success" and (.data.result[0].value[1] | tonumber) > 0'
}
wait_until 30 query_has_requests "Prometheus answers sum(lb_requests_total) > 0"
# The rules file the compose Prometheus loads (prometheus.yml rule_files, mounted by compose.yml):
# as many alerting rules as the file has, every rule evaluated at least once and healthy.
readonly RULES=docker/prometheus/alert_rules.yml
alerts_in_file=$(grep -cE '^ *- alert: ' "$RULES")
rules_in_file=$(grep -cE '^ *- (alert|record): ' "$RULES")
rules_loaded() {
  curl -fsS "$PROMETHEUS/api/v1/rules" | jq -e --argjson alerts "$alerts_in_file" --argjson rules "$rules_in_file" '
    [.data.groups[].rules[]] as $r
    | ($r | length) == $rules
    and ([$r[] | select(.type == "alerting")] | length) == $alerts
    and all($r[]; .health == "ok" and .lastEvaluation != "0001-01-01T00:00:00Z")'
}
wait_until 30 rules_loaded "Prometheus loaded and evaluated $rules_in_file rules ($alerts_in_file alerts) from $RULES"

# 4b. The dashboard's "Backend CPU and memory" panel, its queries as the JSON has them with every
#     backend selected: a ratio in 0..1 for each backend, all of them containers. The test job's
#     proxy has no containers behind it, so this panel is evaluated here.
mapfile -t panel_exprs < <(jq -r '.. | objects | select(.title? == "Backend CPU and memory") | .targets[].expr' \
  grafana/dashboards/load_balancer.json)
((${#panel_exprs[@]} == 2)) || fail "the Backend CPU and memory panel has ${#panel_exprs[@]} queries, expected 2"
panel_reads() {
  local query=${1//\$backend/.+}
  query=${query//\$service/.+}
  curl -fsS "$PROMETHEUS/api/v1/query" --data-urlencode "query=$query" | jq -e --arg want "$expected" '
    .status == "success" and ([.data.result[] | select(.value[1] | tonumber | . >= 0 and . <= 1)
      | .metric.backend] | sort | join(" ") + " ") == $want'
}
for expr in "${panel_exprs[@]}"; do
  wait_until 30 "panel_reads '$expr'" "panel Backend CPU and memory: $expr in 0..1 for $expected"
done

# 5. Stop a backend under load: retries and passive health must hide it from every client.
summary=$(mktemp)
compose --profile load run --rm -T load run --allow-net --allow-env=LOAD_* demo/load/load.ts \
  --json --clients 5 --rate 20 --duration 12s >"$summary" 2>/dev/null &
load_pid=$!
sleep 4
t0=$SECONDS
docker stop "$(container backend2)" >/dev/null
log "backend2 stopped under load ($((SECONDS - t0))s)"
wait "$load_pid" || fail "load generator failed: $(cat "$summary")"
read -r sent completed failed server_errors non2xx <<<"$(jq -r '[.sent, .completed, .failed, .serverErrors,
  ([.statuses | to_entries[] | select(.key | test("^2") | not) | .value] | add // 0)] | @tsv' "$summary")"
log "load: sent $sent, completed $completed, failed $failed, 5xx $server_errors, non-2xx $non2xx;" \
  "per backend $(jq -c .backends "$summary")"
rm -f "$summary"
((sent > 0 && completed == sent && failed == 0 && non2xx == 0)) || fail "client requests lost while a backend stopped"
# The stopped backend fails its health checks (unhealthy_threshold x interval, 15 s), then the next
# scrape and evaluation see it: the alert exists and waits out its `for` as pending.
backend_down_alert() {
  curl -fsS "$PROMETHEUS/api/v1/alerts" | jq -e '.data.alerts[] |
    select(.labels.alertname == "LbBackendDown" and .labels.backend == "b2" and .labels.service == "default")'
}
wait_until 60 backend_down_alert "Prometheus has LbBackendDown pending for b2"
