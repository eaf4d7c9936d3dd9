/**
 * Helpers for tests that run containers on the local Docker Engine.
 *
 * Every container gets a name and a label unique to this test run, and `cleanup()` removes all
 * of them, so tests never touch containers they did not create.
 *
 * @module
 */

import { gatedTest, which } from "./tools.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Image with a static busybox: `sh`, `sleep`, `dd` and friends; built by scripts/docker-base-images.sh. */
export const BUSYBOX = "lb-test/busybox";

/** Run `docker` with `args`; returns trimmed stdout, throws with stderr on failure. */
export async function docker(...args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`docker ${args.join(" ")} failed: ${text.decode(out.stderr).trim()}`);
  return text.decode(out.stdout).trim();
}

/**
 * A `missing` function for `gatedTest`: the docker CLI must be on PATH and the engine must answer
 * on its socket.
 */
export function dockerMissing(): string | undefined {
  if (!which("docker")) return "docker not found on PATH";
  const info = new Deno.Command("docker", {
    args: ["info", "--format", "{{.ServerVersion}}"],
    stdout: "null",
    stderr: "null",
  })
    .outputSync();
  return info.success ? undefined : "Docker Engine not reachable (start dockerd)";
}

/** Build the busybox test image if it is missing (the script caches; building takes about a second). */
export async function ensureBusybox(): Promise<void> {
  const script = `${ROOT}scripts/docker-base-images.sh`;
  const child = new Deno.Command("bash", { args: [script, "busybox"], stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => child.kill(), 60_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  if (!out.success) throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Containers started through one scope, removed together. */
export interface ContainerScope {
  /** Random id unique to this scope, for labels and names a test derives itself. */
  readonly id: string;
  /** A label unique to this scope, `key=value`, set on every container it starts. */
  readonly label: string;
  /** A name unique to this scope for `suffix`. */
  name(suffix: string): string;
  /** `docker run -d` with the scope label; returns the container name. */
  run(suffix: string, runArgs: string[], command: string[]): Promise<string>;
  /** Run `close` at cleanup, before the containers go (last deferred, first run). */
  defer(close: () => Promise<unknown> | unknown): void;
  /** Run the deferred closers, then force-remove every container started through this scope. */
  cleanup(): Promise<void>;
}

/** Open a scope whose names and label are unique to this process and call. */
export function containerScope(prefix: string): ContainerScope {
  const id = crypto.randomUUID().slice(0, 8);
  const started: string[] = [];
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const name = (suffix: string) => `lbtest-${prefix}-${id}-${suffix}`;
  const label = `lb-test.scope=${prefix}-${id}`;
  return {
    id,
    label,
    name,
    async run(suffix, runArgs, command) {
      const container = name(suffix);
      started.push(container);
      await docker("run", "-d", "--name", container, "--label", label, ...runArgs, BUSYBOX, ...command);
      return container;
    },
    defer(close) {
      closers.push(close);
    },
    async cleanup() {
      for (const close of closers.splice(0).reverse()) await close();
      // By label as well as by name, so a container whose `run` failed half-way is caught too.
      const labelled = (await docker("ps", "-aq", "--filter", `label=${label}`)).split("\n").filter(Boolean);
      const all = [...new Set([...started, ...labelled])];
      if (all.length) await docker("rm", "-f", ...all).catch(() => {});
    },
  };
}

/**
 * A test on the real engine: gated on {@linkcode dockerMissing}, with the busybox image built and
 * a fresh {@linkcode ContainerScope} that is cleaned up however the test ends.
 */
export function dockerTest(name: string, prefix: string, fn: (scope: ContainerScope) => Promise<void>): void {
  gatedTest(name, dockerMissing, async () => {
    await ensureBusybox();
    const scope = containerScope(prefix);
    try {
      await fn(scope);
    } finally {
      await scope.cleanup();
    }
  });
}

/** Poll `probe` every `intervalMs` until it returns a value, or throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A unix socket that relays to the Docker Engine's, for tests that cut the engine off. */
export interface SocketRelay {
  /** Stop listening and sever every relayed connection, as if the engine went away. */
  close(): Promise<void>;
}

/** Listen on `path` and relay each connection to the engine socket at `target`. */
export function relayDockerSocket(path: string, target = "/var/run/docker.sock"): SocketRelay {
  const listener = Deno.listen({ transport: "unix", path });
  const open = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  const track = (conn: Deno.Conn) => {
    open.add(conn);
    return conn;
  };
  const accepting = (async () => {
    for await (const client of listener) {
      track(client);
      try {
        const engine = track(await Deno.connect({ transport: "unix", path: target }));
        // Each direction ends the other side when it finishes, so one hang-up closes both.
        const pipe = (from: Deno.Conn, to: Deno.Conn) =>
          from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
            for (const c of [from, to]) {
              if (open.delete(c)) c.close();
            }
          });
        pipes.push(pipe(client, engine), pipe(engine, client));
      } catch {
        if (open.delete(client)) client.close();
      }
    }
  })();
  return {
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of open) {
        open.delete(conn);
        try {
          conn.close();
        } catch { /* already closed by its pipe */ }
      }
      await Promise.allSettled(pipes);
      await Deno.remove(path).catch(() => {});
    },
  };
}
