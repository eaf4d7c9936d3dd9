/**
 * Swarm discovery without the API: the engine's embedded DNS server answers `tasks.<service>`
 * with the address of every running task (healthy, when the service has a health check) on the
 * networks this container shares with it, and the reverse (PTR) record of each address with
 * `<service>.<slot>.<task id>.<network>`. A worker node cannot list services, but it can ask
 * that; it is the fallback `discovery.docker.dns_fallback` configures.
 *
 * The backend name comes from the reverse record, so it is the task's container name, the
 * same one the API listing gives (`task_spec.ts`): a replica on a worker and one on a manager
 * build the same `ip_hash` table. Labels cannot be read this way: the port and the service come
 * from the config entry.
 *
 * @module
 */

import type { SwarmDnsTarget } from "../config/mod.ts";
import { type BackendSpec, backendUrl } from "./backend_spec.ts";
import type { SwarmListing } from "./task_spec.ts";

/** The two DNS questions the fallback asks; {@linkcode systemResolver} asks the system's server. */
export interface TaskResolver {
  /** IPv4 addresses of `name`; empty when the name does not exist (no running task). */
  addresses(name: string, signal: AbortSignal): Promise<string[]>;
  /** Names of the reverse record of `ip`; empty when there is none. */
  reverse(ip: string, signal: AbortSignal): Promise<string[]>;
}

/** Longest wait for one DNS answer. */
const DNS_TIMEOUT_MS = 2_000;

/**
 * The resolver of this process (`/etc/resolv.conf`: the engine's 127.0.0.11 in a container),
 * through `Deno.resolveDns`. A name that does not exist answers empty; other failures throw.
 */
export function systemResolver(): TaskResolver {
  const ask = async (query: string, type: "A" | "PTR", signal: AbortSignal) => {
    try {
      return await Deno.resolveDns(query, type, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(DNS_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  };
  return {
    addresses: (name, signal) => ask(name, "A", signal),
    reverse: (ip, signal) => ask(reverseName(ip), "PTR", signal),
  };
}

/** `10.0.2.5` -> `5.2.0.10.in-addr.arpa` (RFC 1035 section 3.5). */
function reverseName(ip: string): string {
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

/**
 * The task's container name in a reverse record `<service>.<slot or node id>.<task id>.<network>.`:
 * everything up to the 25-character task id. Undefined when the record has another shape.
 */
export function taskNameFromPtr(record: string): string | undefined {
  return /^(.+?\.(?:\d+|[a-z0-9]{25})\.[a-z0-9]{25})(?:\.|$)/.exec(record)?.[1];
}

/**
 * Resolve every target's `tasks.<name>` and name each address by its reverse record. `names`
 * caches address -> name across calls (a task keeps its address for its lifetime); addresses
 * gone from every answer are dropped from it.
 *
 * @throws when a DNS question fails other than by a name that does not exist, so the caller keeps
 *   the backends it has instead of removing them over a resolver hiccup
 */
export async function resolveSwarmTasks(
  targets: readonly SwarmDnsTarget[],
  resolver: TaskResolver,
  names: Map<string, string>,
  signal: AbortSignal,
): Promise<SwarmListing> {
  const specs: BackendSpec[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    for (const ip of (await resolver.addresses(`tasks.${target.name}`, signal)).toSorted()) {
      seen.add(ip);
      let name = names.get(ip);
      if (name === undefined) {
        const found = (await resolver.reverse(ip, signal)).map(taskNameFromPtr).find((n) => n !== undefined);
        if (found === undefined) {
          skipped.push(
            `Cannot name ${ip} of tasks.${target.name} by its task: no reverse record of the form ` +
              `<service>.<slot>.<task id>.<network>; it is named ${target.name}.${ip} instead`,
          );
        }
        name = found ?? `${target.name}.${ip}`;
        names.set(ip, name);
      }
      specs.push({ service: target.service, name, url: backendUrl(ip, target.port), weight: 1 });
    }
  }
  for (const ip of [...names.keys()]) if (!seen.has(ip)) names.delete(ip);
  return { specs, skipped };
}
