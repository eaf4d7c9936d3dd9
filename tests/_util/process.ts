/**
 * Run `main.ts` as a real subprocess with a config file in a temp dir, and find the addresses it
 * listens on from its log.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Deno permission flags used to run the proxy unless a test passes its own. */
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-env", "--allow-sys"];

/** A running proxy process. */
export interface LbProcess {
  readonly child: Deno.ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly configPath: string;
  /** Every stderr line so far. */
  readonly log: string[];
  /** Wait for the process to exit (bounded); returns its status. */
  exited(timeoutMs?: number): Promise<Deno.CommandStatus>;
  /** Kill (if still running) and remove the temp dir. */
  cleanup(): Promise<void>;
}

/** Run `deno run main.ts ...args` to completion and capture its output. */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The permission flags of `deno task start`, read from deno.json, for tests of exactly those. */
export function startTaskPermissions(): string[] {
  const json = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)));
  return (json.tasks.start as string).split(/\s+/).filter((word) => word.startsWith("--allow-"));
}

/**
 * Write `config` to a temp file and start the proxy on it; resolves once it logs `listening`.
 * The config should use port 0 for both listeners. With `stdout` "piped", `child.stdout` is
 * the process's standard output, which nobody reads unless the test does.
 */
export async function spawnLb(
  config: string,
  permissions: string[] = PERMISSIONS,
  env: Record<string, string> = {},
  stdout: "null" | "piped" = "null",
): Promise<LbProcess> {
  const dir = await Deno.makeTempDir();
  const configPath = `${dir}/lb.yml`;
  await Deno.writeTextFile(configPath, config);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, MAIN, "--config", configPath],
    env,
    stdout,
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  let listening!: (line: string) => void;
  const ready = new Promise<string>((r) => listening = r);
  (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        if (line.includes(" listening ")) listening(line);
      }
    }
  })();
  const timer = setTimeout(() => listening(""), 15_000);
  const line = await ready;
  clearTimeout(timer);
  const proxy = / proxy=(\S+)/.exec(line)?.[1];
  const admin = / admin=(\S+)/.exec(line)?.[1];
  const status = child.status;
  const exited = async (timeoutMs = 15_000) => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`process still running after ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return await Promise.race([status, timeout]);
    } finally {
      clearTimeout(t);
    }
  };
  const cleanup = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await status;
    await Deno.remove(dir, { recursive: true });
  };
  if (!proxy || !admin) {
    await cleanup();
    throw new Error(`proxy did not start:\n${log.join("\n")}`);
  }
  const local = (addr: string) => `http://${addr.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}`;
  return { child, url: local(proxy), adminUrl: local(admin), configPath, log, exited, cleanup };
}
