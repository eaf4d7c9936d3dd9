/**
 * Child processes for the benchmark: started with output to log files, awaited until their port
 * accepts, and all killed (by process id) when the run ends, even when it fails half-way.
 *
 * @module
 */

/** A started server process. */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  readonly log: string;
}

/** A free TCP port on 127.0.0.1 (bound, read and released; fine on a quiet loopback). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Wait until `port` on 127.0.0.1 accepts a connection, or throw after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 15_000, proc?: Proc): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  proc?.child.status.then(() => exited = true);
  while (performance.now() < deadline && !exited) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = proc ? await Deno.readTextFile(proc.log).catch(() => "") : "";
  const why = exited ? "the process exited" : `not within ${timeoutMs}ms`;
  throw new Error(`Cannot reach port ${port}: ${why}${proc ? ` (${proc.name}): ${log}` : ""}`);
}

/** Owns every process of one run, so they can all be stopped at the end. */
export class ProcSet {
  readonly #procs: Proc[] = [];
  readonly #dir: string;

  /** @param dir where each process's combined output goes (`NAME.log`). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Start `cmd args`, output to `DIR/NAME.log`; with `port`, wait until it accepts. */
  async start(
    name: string,
    cmd: string,
    args: string[],
    options: { port?: number; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<Proc> {
    const log = `${this.#dir}/${name}.log`;
    const file = await Deno.open(log, { write: true, create: true, truncate: true });
    const child = new Deno.Command(cmd, {
      args,
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Both streams into one file; pipes are drained so a chatty process never blocks on them.
    const sink = file.writable.getWriter();
    const drain = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) await sink.write(chunk).catch(() => {});
    };
    Promise.all([drain(child.stdout), drain(child.stderr)]).finally(() => sink.close().catch(() => {}));
    const proc = { name, pid: child.pid, child, log };
    this.#procs.push(proc);
    if (options.port !== undefined) await waitForPort(options.port, 15_000, proc);
    return proc;
  }

  /** SIGTERM one process of this set (SIGKILL after `graceMs`) and wait for it to exit. */
  async stop(proc: Proc, graceMs = 3000): Promise<void> {
    const i = this.#procs.indexOf(proc);
    if (i < 0) return;
    this.#procs.splice(i, 1);
    await stop(proc, graceMs);
  }

  /** SIGTERM every process (SIGKILL after `graceMs`) and wait for each to exit. */
  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all(this.#procs.splice(0).map((p) => stop(p, graceMs)));
  }
}

async function stop(p: Proc, graceMs: number): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    p.child.status.then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), graceMs)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      p.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await p.child.status;
  }
}

/** Run a command to completion and return its stdout (throws with stderr on failure). */
export async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${text}`);
  }
  return text;
}
