/**
 * Headless Chromium driven over the Chrome DevTools Protocol with Deno's own WebSocket: no
 * dependency, no downloaded browser. Just enough for page tests: open a page, evaluate
 * expressions, collect page errors, take screenshots.
 *
 * @module
 */

/** An open tab. */
export interface Page {
  /** Uncaught exceptions and `console.error` messages seen so far. */
  readonly errors: string[];
  /** Evaluate an expression (awaiting promises) and return its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** PNG of the viewport. */
  screenshot(): Promise<Uint8Array>;
}

/** A running headless Chromium. */
export interface Browser {
  open(url: string, size?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

type Message = { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string };

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
  "--remote-debugging-port=0",
  "about:blank",
];

/** Read `stream` until `pattern` matches a line; keep draining it afterwards so the pipe never fills. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs: number) {
  const lines = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${pattern} on stderr within ${timeoutMs}ms: ${buffer}`)),
      timeoutMs,
    );
  });
  try {
    while (true) {
      const { value, done } = await Promise.race([lines.read(), timeout]);
      if (done) throw new Error(`chromium exited before printing ${pattern}: ${buffer}`);
      buffer += value;
      const m = pattern.exec(buffer);
      if (m) {
        (async () => {
          while (!(await lines.read()).done) { /* drain */ }
        })().catch(() => {});
        return m;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Start `/usr/bin/chromium` (or `command`) headless with a throwaway profile. */
export async function launchChromium(command = "chromium"): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "lb-chromium-" });
  const child = new Deno.Command(command, {
    args: [`--user-data-dir=${profile}`, ...FLAGS],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let ws: WebSocket;
  try {
    const m = await readUntil(child.stderr, /DevTools listening on (ws:\/\/\S+)/, 20_000);
    ws = new WebSocket(m[1]);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("cannot connect to the DevTools socket"));
    });
  } catch (e) {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(profile, { recursive: true });
    throw e;
  }

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(m: Message) => void>();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data) as Message & { result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    } else for (const l of listeners) l(msg);
  };
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params, sessionId }));
    });

  return {
    async open(url, size = { width: 1280, height: 800 }) {
      const { targetId } = await send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      const errors: string[] = [];
      listeners.add((m) => {
        if (m.sessionId !== sessionId) return;
        if (m.method === "Runtime.exceptionThrown") {
          const d = (m.params as { exceptionDetails: { text: string; exception?: { description?: string } } })
            .exceptionDetails;
          errors.push(d.exception?.description ?? d.text);
        }
        if (m.method === "Runtime.consoleAPICalled" && m.params?.type === "error") {
          errors.push(JSON.stringify(m.params.args));
        }
      });
      await send("Runtime.enable", {}, sessionId);
      await send("Page.enable", {}, sessionId);
      await send(
        "Emulation.setDeviceMetricsOverride",
        { ...size, deviceScaleFactor: 1, mobile: false },
        sessionId,
      );
      const loaded = new Promise<void>((resolve) => {
        const l = (m: Message) => {
          if (m.sessionId === sessionId && m.method === "Page.loadEventFired") {
            listeners.delete(l);
            resolve();
          }
        };
        listeners.add(l);
      });
      await send("Page.navigate", { url }, sessionId);
      await loaded;
      return {
        errors,
        async evaluate<T>(expression: string) {
          const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
            "Runtime.evaluate",
            { expression, awaitPromise: true, returnByValue: true },
            sessionId,
          );
          if (r.exceptionDetails) {
            throw new Error(`evaluate(${expression}) threw: ${r.exceptionDetails.text}`);
          }
          return r.result.value;
        },
        async screenshot() {
          const { data } = await send<{ data: string }>(
            "Page.captureScreenshot",
            { format: "png" },
            sessionId,
          );
          return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        },
      };
    },
    async close() {
      const exited = child.status;
      try {
        await Promise.race([send("Browser.close"), new Promise((r) => setTimeout(r, 2000))]);
      } catch { /* the socket may close before the answer */ }
      if (ws.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
        ws.close();
        await closed;
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
