/**
 * Questions scripts/e2e-swarm.sh asks from inside the stack's network, where the proxy replicas'
 * task addresses are reachable. Each command prints one JSON document on stdout; the script
 * checks it with jq. Uses only `fetch` and `Deno.resolveDns`, so it runs in any Deno image.
 *
 * ```sh
 * deno run --allow-net scripts/swarm_probe.ts replicas              # ["10.0.3.5","10.0.3.6"]
 * deno run --allow-net scripts/swarm_probe.ts backends 10.0.3.5     # {"10.0.3.5":["lb_backend.1.x",...]}
 * deno run --allow-net scripts/swarm_probe.ts agree 10.0.3.5 10.0.3.6 --keys 1000 --drain lb_backend.2.y
 * deno run --allow-net scripts/swarm_probe.ts targets prometheus:9090
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The proxy's ports in the stack: public and admin. */
const PROXY_PORT = 8080;
const ADMIN_PORT = 8081;
/** Requests in flight at once while mapping keys. */
const PARALLEL = 20;

/** GET (or POST) `url` and parse its JSON, failing with the status and body otherwise. */
async function json(url: string, init: RequestInit = {}): Promise<unknown> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** The addresses of the lb service's running tasks. */
async function replicas(): Promise<string[]> {
  return (await Deno.resolveDns("tasks.lb", "A")).toSorted();
}

/** Names of the healthy discovered backends each replica lists, sorted. */
async function backends(ips: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const ip of ips) {
    const list = await json(`http://${ip}:${ADMIN_PORT}/api/backends`) as {
      name: string;
      state: string;
      source: string;
    }[];
    out[ip] = list.filter((b) => b.state === "healthy" && b.source === "discovery").map((b) => b.name).sort();
  }
  return out;
}

/** The backend (`X-LB-Backend`) each of `keys` keys reaches through the replica at `ip`. */
async function mapKeys(ip: string, keys: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < keys; i += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, keys - i) }, async (_, j) => {
      const key = `key-${i + j}`;
      const sent = performance.now();
      try {
        const r = await fetch(`http://${ip}:${PROXY_PORT}/`, {
          headers: { "x-client-id": key },
          signal: AbortSignal.timeout(10_000),
        });
        await r.body?.cancel();
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        return r.headers.get("x-lb-backend") ?? "none";
      } catch (error) {
        const ms = Math.round(performance.now() - sent);
        throw new Error(`${key} via ${ip}: ${(error as Error).message} after ${ms} ms`);
      }
    });
    out.push(...await Promise.all(batch));
  }
  return out;
}

function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/**
 * Map the keys through both replicas and count agreement; with `drain`, drain that backend on
 * the second replica only (two health views) and count how many of the other backends' keys
 * kept their backend there, then enable it again.
 */
async function agree(a: string, b: string, keys: number, drain?: string) {
  const onA = await mapKeys(a, keys);
  const onB = await mapKeys(b, keys);
  const result: Record<string, unknown> = {
    keys,
    agreed: onA.filter((name, i) => name === onB[i]).length,
    backends: tally(onA),
  };
  if (drain) {
    const admin = `http://${b}:${ADMIN_PORT}/api/backends/${encodeURIComponent(drain)}`;
    await json(`${admin}/drain`, { method: "POST" });
    try {
      const drained = await mapKeys(b, keys);
      const others = onA.map((name, i) => [name, drained[i]]).filter(([name]) => name !== drain);
      result.drained = {
        backend: drain,
        keys_of_others: others.length,
        kept: others.filter(([before, after]) => before === after).length,
        still_sent_to_drained: drained.filter((name) => name === drain).length,
      };
    } finally {
      await json(`${admin}/enable`, { method: "POST" });
    }
  }
  return result;
}

/** Prometheus's active targets of the `lb` job and their health, and how many rules it loaded. */
async function targets(hostPort: string) {
  const body = await json(`http://${hostPort}/api/v1/targets?state=active`) as {
    data: { activeTargets: { labels: { job: string; instance: string }; health: string }[] };
  };
  const lb = body.data.activeTargets.filter((t) => t.labels.job === "lb");
  const rules = await json(`http://${hostPort}/api/v1/rules`) as {
    data: { groups: { rules: { health: string }[] }[] };
  };
  const loaded = rules.data.groups.flatMap((g) => g.rules);
  return {
    up: lb.filter((t) => t.health === "up").map((t) => t.labels.instance).sort(),
    other: lb.filter((t) => t.health !== "up").map((t) => `${t.labels.instance} ${t.health}`),
    rules: loaded.length,
    rules_failing: loaded.filter((r) => r.health === "err").length,
  };
}

/** Run one command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { keys: { type: "string", default: "1000" }, drain: { type: "string" } },
  });
  const [command, ...rest] = positionals;
  const keys = Number(values.keys);
  let out: unknown;
  if (command === "replicas") out = await replicas();
  else if (command === "backends" && rest.length > 0) out = await backends(rest);
  else if (command === "agree" && rest.length === 2 && keys > 0) {
    out = await agree(rest[0], rest[1], keys, values.drain);
  } else if (command === "targets" && rest.length === 1) out = await targets(rest[0]);
  else {
    console.error(
      "usage: swarm_probe.ts replicas | backends IP... | agree IP IP [--keys N] [--drain NAME] | targets HOST:PORT",
    );
    return 2;
  }
  console.log(JSON.stringify(out));
  return 0;
}

if (import.meta.main) {
  Deno.exit(
    await main(Deno.args).catch((error) => {
      console.error(`swarm_probe: ${error instanceof Error ? error.message : error}`);
      return 1;
    }),
  );
}
