/**
 * The edge-protocol sections of the benchmark report (HTTPS, WebSocket echo, idle WebSocket
 * tunnels) and their goal rows, rendered from {@linkcode EdgeResults}.
 *
 * @module
 */

import type { EdgeResults, HttpsRuns } from "./edge.ts";

/** One goal row: what was promised, what this run measured, whether it held. */
export interface Goal {
  readonly goal: string;
  readonly measured: number;
  readonly limit: string;
  readonly met: boolean;
}

/** The target every edge ratio is taken against. */
const ANCHOR = "nginx";
/** The name of this proxy's rows. */
const MINE = "lb round_robin";

function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const f = (x: number, digits = 2) => Number.isFinite(x) ? x.toFixed(digits) : "n/a";
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** Medians of one target's HTTPS runs of one protocol. */
function httpsMedians(runs: HttpsRuns) {
  return { rps: median(runs.rounds), latencyMs: median(runs.latencyMs), cpuUs: median(runs.cpuUs) };
}

/** Median h1 or h2 rate of `target`, NaN when it was not measured. */
function httpsRps(e: EdgeResults, target: string, protocol: "h1" | "h2"): number {
  const r = e.https.find((x) => x.target === target);
  return r ? median(r[protocol].rounds) : NaN;
}

function wsRps(e: EdgeResults, target: string): number {
  const r = e.ws.find((x) => x.target === target);
  return r ? median(r.rounds) : NaN;
}

/** KiB of RSS each idle tunnel of `target` cost. */
export function kibPerTunnel(e: EdgeResults, target: string): number {
  const r = e.idle.find((x) => x.target === target);
  return r ? (r.withKiB - r.beforeKiB) / r.tunnels : NaN;
}

/**
 * The edge goals from the edge-protocols issue, checked against this run.
 *
 * @param e The edge results.
 * @returns HTTPS h1 and h2 and WebSocket echo against NGINX, and RSS per idle tunnel
 */
export function edgeGoals(e: EdgeResults): Goal[] {
  const ratio = (mine: number, anchor: number) => mine / anchor;
  const h1 = ratio(httpsRps(e, MINE, "h1"), httpsRps(e, ANCHOR, "h1"));
  const h2 = ratio(httpsRps(e, MINE, "h2"), httpsRps(e, ANCHOR, "h2"));
  const ws = ratio(wsRps(e, MINE), wsRps(e, ANCHOR));
  const perTunnel = kibPerTunnel(e, MINE);
  const tunnels = e.idle.find((x) => x.target === MINE)?.tunnels ?? e.settings.idleTunnels;
  return [
    { goal: "HTTPS HTTP/1.1 throughput ÷ nginx", measured: h1, limit: ">= 0.5", met: h1 >= 0.5 },
    { goal: "HTTPS h2 throughput ÷ nginx", measured: h2, limit: ">= 0.5", met: h2 >= 0.5 },
    { goal: "WebSocket echo throughput ÷ nginx", measured: ws, limit: ">= 0.5", met: ws >= 0.5 },
    {
      goal: `RSS per idle WebSocket tunnel, ${tunnels} open (KiB)`,
      measured: perTunnel,
      limit: "<= 32",
      met: perTunnel <= 32,
    },
  ];
}

/**
 * The report's edge sections as Markdown lines.
 *
 * @param e The edge results.
 * @returns lines for the HTTPS, WebSocket echo and idle tunnel sections
 */
export function renderEdge(e: EdgeResults): string[] {
  const s = e.settings;
  const cpuNote = "CPU is the user plus system time of the target's processes (all threads, and NGINX's " +
    "worker) per request, from /proc: another process taking a core lowers every target's rate, much " +
    "less its CPU per request.";
  const tls = e.https.find((r) => r.target === ANCHOR)?.tls ?? e.https[0]?.tls ?? "";
  const httpsTable = (protocol: "h1" | "h2", latency: string) => {
    const anchor = httpsRps(e, ANCHOR, protocol);
    return [
      row(["target", "req/s", latency, "÷ nginx", "CPU µs/req", "req/s per round", "errors"]),
      row(["---", "---:", "---:", "---:", "---:", "---", "---:"]),
      ...e.https.filter((r) => r[protocol].rounds.length > 0).map((r) => {
        const m = httpsMedians(r[protocol]);
        return row([
          r.target,
          f(m.rps, 0),
          f(m.latencyMs),
          f(m.rps / anchor),
          f(m.cpuUs, 0),
          r[protocol].rounds.map((x) => f(x, 0)).join(" "),
          r[protocol].errors,
        ]);
      }),
    ];
  };
  const wsAnchor = wsRps(e, ANCHOR);
  const out = [
    "## HTTPS, HTTP/1.1",
    "",
    `\`wrk -t1 -c${s.h1Connections} -d${s.seconds}s --latency\` over TLS (${tls || "TLS"}, one throwaway ` +
    `ECDSA P-256 certificate for all), ${s.rounds} rounds interleaved with the h2 runs, median per target; ` +
    `same NGINX backend and tiny response as above. NGINX: 1 worker, upstream keep-alive; Caddy: every ` +
    `core. ÷ nginx: target ÷ NGINX. ${cpuNote}`,
    ...(e.https.some((r) => r.target.startsWith("yardstick"))
      ? [
        "",
        "The yardsticks are tools/bench/forwarder.ts with `--tls`: `Deno.listenTls` terminating TLS and " +
        "copying bytes to the backend (this runtime's HTTPS floor), and the same behind a plain TCP relay on " +
        "loopback (`--relay`), the shape this proxy's TLS listener has: a `Deno.listenTls` connection closed " +
        "before its handshake finished keeps its socket open (lib/listener/tls.ts), so a silent client could " +
        "not be cut off at `timeouts.tls_handshake` without a public socket of the proxy's own.",
      ]
      : []),
    "",
    ...(e.https.length ? httpsTable("h1", "p99 ms") : ["Not measured (see Notes)."]),
    "",
    "## HTTPS, HTTP/2",
    "",
    `\`h2load -t1 -c${s.h2Clients} -m${s.h2Streams} -D${s.seconds}\` (${s.h2Clients * s.h2Streams} streams ` +
    `in flight), same targets and rounds; h2load reports no percentiles, so the latency column is its mean ` +
    `time per request. Application protocol negotiated: ` +
    `${
      [...new Set(e.https.filter((r) => r.h2.rounds.length > 0).map((r) => `${r.target} ${r.protocol}`))]
        .join(", ")
    }.`,
    "",
    ...(e.https.length ? httpsTable("h2", "mean ms") : ["Not measured (see Notes)."]),
    "",
    "## WebSocket echo",
    "",
    `${s.wsSockets} WebSockets per target, each sending one ${s.wsBytes}-byte binary message and waiting for ` +
    `its echo before the next (a raw client, tools/bench/ws_load.ts), ${s.seconds}s per target per round ` +
    `after a warmup, ${s.rounds} rounds interleaved; one echo backend (\`Deno.upgradeWebSocket\`, its own ` +
    `process) behind this proxy and NGINX (1 worker, \`proxy_http_version 1.1\`, \`Upgrade\` and ` +
    `\`Connection "upgrade"\` passed); direct is the backend alone. The client, the proxy and the backend ` +
    `share 2 cores, so the rates are compressed towards each other; the CPU columns are per echoed message ` +
    `(two frames relayed).`,
    "",
    row([
      "target",
      "msg/s",
      "mean RTT ms",
      "÷ nginx",
      "proxy CPU µs/msg",
      "backend CPU µs/msg",
      "msg/s per round",
      "errors",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---", "---:"]),
    ...e.ws.map((r) =>
      row([
        r.target,
        f(median(r.rounds), 0),
        f(median(r.meanRttMs), 3),
        f(median(r.rounds) / wsAnchor),
        r.target === "direct" ? "-" : f(median(r.cpuUs), 1),
        f(median(r.backendCpuUs), 1),
        r.rounds.map((x) => f(x, 0)).join(" "),
        r.errors,
      ])
    ),
    "",
    "## Idle WebSocket tunnels",
    "",
    `A fresh proxy in front of the echo backend, warmed with 10 tunnels opened and closed; RSS (VmRSS of ` +
    `its processes) then, and ${
      s.quick ? "0.3" : "2"
    } s after opening the tunnels, each of which carried one ` +
    `echo and then stayed idle. KiB per tunnel = growth ÷ tunnels.`,
    "",
    row([
      "target",
      "tunnels",
      "RSS before MiB",
      "RSS with tunnels MiB",
      "KiB per tunnel",
      "RSS after closing MiB",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:"]),
    ...e.idle.map((r) =>
      row([
        r.target,
        r.tunnels,
        f(r.beforeKiB / 1024, 1),
        f(r.withKiB / 1024, 1),
        f((r.withKiB - r.beforeKiB) / r.tunnels, 1),
        f(r.afterCloseKiB / 1024, 1),
      ])
    ),
    "",
  ];
  return out;
}
