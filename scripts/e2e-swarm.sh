#!/usr/bin/env bash
# End-to-end check of docker/stack.yml on a one-node Docker Swarm: build the images, deploy the
# stack, and check it from a container on the stack's overlay network. Traffic goes only to the
# containers this run creates.
#
#   1. Wait until no swarm is active (someone else's run), then `docker swarm init`; the swarm is
#      left again at the end, also on failure, and only when this run created it.
#   2. Build lb-proxy and lb-demo under a tag of this run; LB_STANDIN_IMAGES=1 builds the local
#      stand-ins for denoland/deno and prom/prometheus first and deploys Grafana with 0 replicas.
#   3. Deploy; a probe container joins the network (it has Deno, the load generator and
#      scripts/swarm_probe.ts).
#   4. Checks, one line each: discovery (both proxy replicas list the 3 backend tasks by name),
#      agreement (1,000 ip_hash keys map alike through both; with a backend drained on one, the
#      other backends' keys still do), a replica without the Docker API (DNS fallback: same
#      names, same keys), scaling the backend 3 -> 5 -> 2 under load, killing a proxy task under
#      load (clients retry at the other replica, as a DNS round-robin client does), and
#      Prometheus scraping both replicas and evaluating the alert rules. Zero failed client
#      requests is the bar throughout.
#   5. Logs to $LB_E2E_LOG_DIR (when set), `docker stack rm`, leave the swarm.
#
# The stack gets its own name (LB_STACK, default lbswarm<pid>), network (<stack>-net) and image
# tag, and publishes Prometheus and Grafana on free ports, so a compose run beside it is not
# disturbed. Every wait is bounded in time; the whole run takes about 2.5 minutes.
#
# Needs: docker (Engine 20.10 or newer, able to run a swarm), jq, ss.
set -euo pipefail
cd "$(dirname "$0")/.."

export LB_STACK=${LB_STACK:-lbswarm$$}
export LB_IMAGE_TAG=${LB_IMAGE_TAG:-e2e-$LB_STACK}
export DOCKER_GID=${DOCKER_GID:-$(stat -c %g /var/run/docker.sock)}
readonly STACK=$LB_STACK NET=$LB_STACK-net PROBE=$LB_STACK-probe WORKER=$LB_STACK-worker
readonly STANDIN=${LB_STANDIN_IMAGES:-0}
readonly LOG_DIR=${LB_E2E_LOG_DIR:-}
# The whole run's limit: every wait below also gives up when it is reached.
readonly LIMIT_S=${LB_E2E_LIMIT_S:-540}
started=$SECONDS
# The load generator's summaries (copied to $LOG_DIR at the end).
work=$(mktemp -d /tmp/e2e-swarm.XXXXXX)
owned=0
failure=""

# Progress goes to stderr; the checks' lines and the verdict, always the last line, to stdout.
log() { printf 'e2e-swarm: %s\n' "$*" >&2; }
fail() {
  failure=$*
  exit 1
}
trap '[[ -n "$failure" ]] || failure="command failed at line $LINENO: $BASH_COMMAND"' ERR
for tool in docker jq ss; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

# Poll `$2` (a shell command) every second until it succeeds, for at most `$1` seconds.
wait_until() {
  local limit=$1 what=$3 t0=$SECONDS
  until eval "$2" >/dev/null 2>&1; do
    ((SECONDS - t0 < limit)) || fail "$what: not within ${limit}s"
    ((SECONDS - started < LIMIT_S)) || fail "$what: the run's ${LIMIT_S}s are up"
    sleep 1
  done
  log "$what ($((SECONDS - t0))s)"
}

teardown() {
  local status=$?
  set +e
  trap - ERR
  if [[ -n "$LOG_DIR" && "$owned" == 1 ]]; then
    mkdir -p "$LOG_DIR"
    docker stack ps --no-trunc "$STACK" >"$LOG_DIR/stack-ps.txt" 2>&1
    # `service logs` can hang on Engine 20.10 once a task's container is gone (the killed lb
    # task): bounded, and the last lines only.
    for service in lb backend prometheus; do
      timeout 30 docker service logs --timestamps --tail 5000 "${STACK}_$service" >"$LOG_DIR/$service.log" 2>&1 ||
        echo "(docker service logs: exit status $?)" >>"$LOG_DIR/$service.log"
    done
    cp "$work"/*.json "$LOG_DIR/" 2>/dev/null
    docker logs --timestamps "$WORKER" >"$LOG_DIR/worker.log" 2>&1
    log "logs in $LOG_DIR"
  fi
  docker rm -f "$PROBE" "$WORKER" >/dev/null 2>&1
  if [[ "$owned" == 1 ]]; then
    docker stack rm "$STACK" >/dev/null 2>&1
    # Tasks stop, then the network goes; leaving before that leaves them behind.
    local t0=$SECONDS
    while { docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | grep -q . ||
      docker network inspect "$NET" >/dev/null 2>&1; } && ((SECONDS - t0 < 60)); do sleep 1; done
    docker swarm leave --force >/dev/null 2>&1
    if [[ "$(swarm_state)" != inactive ]]; then
      failure=${failure:-the swarm is still active after leaving}
      status=1
    fi
    log "stack removed, swarm left ($((SECONDS - t0))s)"
  fi
  docker rmi "lb-proxy:$LB_IMAGE_TAG" "lb-demo:$LB_IMAGE_TAG" >/dev/null 2>&1
  rm -rf "$work"
  log "took $((SECONDS - started))s"
  if ((status == 0)); then
    echo "e2e-swarm: OK"
  else
    echo "e2e-swarm: FAIL: ${failure:-exit status $status}"
  fi
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# 1. A swarm of our own. Nobody else should run one here, but another run of this script might.
t0=$SECONDS
until [[ "$owned" == 1 ]]; do
  state=$(swarm_state)
  if [[ "$state" == inactive ]] && docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
    owned=1
  else
    ((SECONDS - t0 < 180)) || fail "a swarm is active on this engine (state '$state') and not ours; not touching it"
    sleep 5
  fi
done
log "swarm initialised ($((SECONDS - t0))s)"

# 2. Images.
t0=$SECONDS
[[ "$STANDIN" == 1 ]] && bash scripts/docker-base-images.sh deno prometheus
for image in lb:lb-proxy demo:lb-demo; do
  build_log=$(mktemp)
  DOCKER_BUILDKIT=0 docker build -f "docker/${image%%:*}.Dockerfile" -t "${image#*:}:$LB_IMAGE_TAG" . \
    >"$build_log" 2>&1 || { tail -30 "$build_log" >&2; fail "docker build ${image#*:}"; }
  rm -f "$build_log"
done
log "images built ($((SECONDS - t0))s)"

# 3. Deploy, on free ports.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
  return 1
}
# free_port's own `fail` would only leave the command substitution.
PROMETHEUS_PORT=$(free_port) || fail "no free port for Prometheus"
GRAFANA_PORT=$(free_port) || fail "no free port for Grafana"
export PROMETHEUS_PORT GRAFANA_PORT
export GRAFANA_REPLICAS=1
[[ "$STANDIN" == 1 ]] && GRAFANA_REPLICAS=0 && log "stand-in images: Grafana deployed with 0 replicas"
t0=$SECONDS
deploy_log=$(mktemp)
docker stack deploy --resolve-image never -c docker/stack.yml "$STACK" >"$deploy_log" 2>&1 ||
  { cat "$deploy_log" >&2; fail "docker stack deploy"; }
rm -f "$deploy_log"
docker run -d --name "$PROBE" --network "$NET" --entrypoint sleep \
  -v "$PWD/scripts/swarm_probe.ts:/probe/swarm_probe.ts:ro" "lb-demo:$LB_IMAGE_TAG" 900 >/dev/null
probe() { docker exec "$PROBE" deno run --allow-net /probe/swarm_probe.ts "$@"; }

running() { docker service ls --filter "name=${STACK}_$1" --format '{{.Replicas}}' | grep -qx "$2/$2"; }
wait_until 120 "running lb 2 && running backend 3 && running prometheus 1" "stack deployed and healthy"
log "deploy command: docker stack deploy --resolve-image never -c docker/stack.yml $STACK ($((SECONDS - t0))s)"

# Task names as the proxies must call them: <service>.<slot>.<task id>.
task_names() {
  docker service ps --no-trunc --filter desired-state=running --format '{{.Name}}.{{.ID}}' "${STACK}_backend" |
    sort | tr '\n' ' '
}
replicas() { probe replicas | jq -r '.[]'; }
# True when each proxy replica lists exactly the running backend tasks, healthy.
both_list_tasks() {
  local want ips
  want=$(task_names)
  ips=$(replicas | tr '\n' ' ')
  [[ $(wc -w <<<"$ips") == 2 ]] || return 1
  # shellcheck disable=SC2086
  probe backends $ips | jq -e --arg want "$want" '[.[] | join(" ") + " "] | all(. == $want)'
}

# 4a. Discovery.
wait_until 60 both_list_tasks "both proxy replicas list the backend tasks"
read -r LB_A LB_B <<<"$(replicas | tr '\n' ' ')"
echo "e2e-swarm: discovery: replicas $LB_A and $LB_B each list the 3 tasks: $(task_names)"

# 4b. Agreement, and with two health views (a backend drained on one replica only).
drain=$(task_names | cut -d' ' -f2)
agreement=$(probe agree "$LB_A" "$LB_B" --keys 1000 --drain "$drain")
jq -e '.agreed == 1000 and (.backends | length) == 3 and .drained.kept == .drained.keys_of_others
  and .drained.still_sent_to_drained == 0' <<<"$agreement" >/dev/null || fail "agreement: $agreement"
echo "e2e-swarm: agreement: $(jq -r '"\(.agreed)/\(.keys) keys map alike through both replicas (per backend \(.backends | [.[]] | join("/"))); with \(.drained.backend) drained on one, \(.drained.kept)/\(.drained.keys_of_others) keys of the others kept their backend"' <<<"$agreement")"

# 4c. A replica without the Docker API, as on a worker node: the DNS fallback.
docker run -d --name "$WORKER" --network "$NET" -e LB_CONFIG=/etc/lb/swarm.yml -e "LB_STACK=$STACK" \
  -e "LB_NETWORK=$NET" -v "$PWD/docker/stack/lb.yml:/etc/lb/swarm.yml:ro" "lb-proxy:$LB_IMAGE_TAG" >/dev/null
worker_ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$WORKER"; }
worker_lists_tasks() {
  probe backends "$(worker_ip)" | jq -e --arg want "$(task_names)" '[.[] | join(" ") + " "] | all(. == $want)'
}
wait_until 30 worker_lists_tasks "the replica without the API lists the tasks"
fallback_lines=$(docker logs "$WORKER" 2>&1 | grep -c 'no swarm API on this node; resolving tasks by DNS' || true)
((fallback_lines == 1)) || fail "fallback: $fallback_lines log lines about the missing API, want 1"
fallback=$(probe agree "$LB_A" "$(worker_ip)" --keys 1000)
jq -e '.agreed == 1000' <<<"$fallback" >/dev/null || fail "fallback agreement: $fallback"
echo "e2e-swarm: fallback: a replica without the Docker API found the same 3 tasks by DNS (one log line" \
  "saying so) and maps $(jq -r .agreed <<<"$fallback")/1000 keys like the others"
docker rm -f "$WORKER" >/dev/null

# Load from the probe container through both replicas, as a DNS round-robin client (--failover);
# ip_hash spreads the clients by X-Client-Id. An attempt gets 5 s before the retry at the other
# replica: a busy 2-core host stalls new backend tasks (and the client) for seconds while they
# start, and a stall is not a lost request; a dead replica still costs one attempt at most.
start_load() { # $1 duration, $2 summary file
  docker exec "$PROBE" deno run --allow-net --allow-env=LOAD_* demo/load/load.ts --url http://lb:8080/ \
    --failover --client-header X-Client-Id --clients 8 --rate 10 --duration "$1" --timeout 20s \
    --attempt-timeout 5s --json >"$2" 2>/dev/null &
}
# One line of figures from a summary; returns 1 unless every request got a 2xx answer. It runs in
# a command substitution, where `fail` would only leave the subshell: the caller fails on status.
load_figures() { # $1 summary file
  local s
  s=$(jq -c '{sent, completed, failed, unsent, cancelled, non2xx: ([.statuses | to_entries[] | select(.key | test("^2") | not)
    | .value] | add // 0), retried: .retries.total, recovered: .retries.recovered, reasons: .retries.reasons,
    errors, addresses: (.addresses | length), p99: .latencyMs.p99}' "$1") || {
    echo "no load summary: $(head -c 500 "$1")"
    return 1
  }
  jq -r '"\(.sent) requests, \(.failed) failed, \(.non2xx) non-2xx, \(.unsent) unsent, \(.cancelled) cancelled; \(.retried) retried at the other replica (\(.reasons | to_entries | map("\(.key) \(.value)") | join(", ") | if . == "" then "none" else . end)), \(.recovered) recovered; p99 \(.p99 | floor) ms"' <<<"$s"
  jq -e '.sent > 0 and .completed == .sent and .failed == 0 and .non2xx == 0 and .unsent == 0 and .cancelled == 0' <<<"$s" >/dev/null || {
    echo "client requests lost: $s"
    return 1
  }
}
count_backends() { # true when both replicas list exactly $1 healthy tasks, the running ones
  local ips
  ips=$(replicas | tr '\n' ' ')
  [[ $(wc -w <<<"$ips") == 2 && $(wc -w <<<"$(task_names)") == "$1" ]] || return 1
  # shellcheck disable=SC2086
  probe backends $ips | jq -e --arg want "$(task_names)" --argjson n "$1" \
    '[.[] | select(length == $n and join(" ") + " " == $want)] | length == 2'
}

# 4d. Scale the backend 3 -> 5 -> 2 under load.
summary=$work/scale.json
start_load 60s "$summary"
load_pid=$!
sleep 4
t0=$SECONDS
docker service scale --detach "${STACK}_backend=5" >/dev/null
wait_until 45 "count_backends 5" "scaled up to 5, both replicas serving them"
up_s=$((SECONDS - t0))
t0=$SECONDS
docker service scale --detach "${STACK}_backend=2" >/dev/null
wait_until 45 "count_backends 2" "scaled down to 2, both replicas serving them"
down_s=$((SECONDS - t0))
wait "$load_pid" || fail "scale: the load generator failed: $(cat "$summary")"
figures=$(load_figures "$summary") || fail "scale: $figures"
echo "e2e-swarm: scale: 3 -> 5 in ${up_s}s, 5 -> 2 in ${down_s}s under load: $figures"

# 4e. Kill one proxy task under load; Swarm starts a new one.
summary=$work/kill.json
start_load 30s "$summary"
load_pid=$!
sleep 5
victim=$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_lb" | head -1)
[[ -n "$victim" ]] || fail "kill: no lb container"
docker kill "$victim" >/dev/null
t0=$SECONDS
wait_until 60 'running lb 2 && [[ $(replicas | wc -l) == 2 ]] && count_backends 2' "a new lb task running and serving"
replaced_s=$((SECONDS - t0))
wait "$load_pid" || fail "kill: the load generator failed: $(cat "$summary")"
figures=$(load_figures "$summary") || fail "kill: $figures"
echo "e2e-swarm: kill: one lb task killed under load, replaced in ${replaced_s}s: $figures"

# 4f. Prometheus scrapes every replica, the replacement included, and evaluates the alert rules.
read -r LB_A LB_B <<<"$(replicas | tr '\n' ' ')"
RULES=$(grep -cE '^ *- (alert|record):' docker/prometheus/alert_rules.yml)
both_scraped() {
  probe targets "prometheus:9090" | jq -e --arg a "$LB_A:8081" --arg b "$LB_B:8081" --argjson rules "$RULES" \
    '.up == ([$a, $b] | sort) and .other == [] and .rules == $rules and .rules_failing == 0'
}
wait_until 60 both_scraped "Prometheus scrapes both replicas"
echo "e2e-swarm: prometheus: job lb has both replicas up: $LB_A:8081 $LB_B:8081 (dns_sd_configs on tasks.lb);" \
  "$RULES alert and recording rules loaded, none failing"
