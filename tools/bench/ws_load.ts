/**
 * A raw WebSocket load client (RFC 6455) on `Deno.connect`, for the WebSocket rows: echo
 * throughput (N sockets, each sending one message and waiting for its echo before the next, for a
 * fixed time) and idle tunnels (N sockets opened, one echo each, then left open). It frames by
 * hand with one precomputed masked frame, so the client spends as little CPU per message as a
 * Deno client can: on a 2-core machine the client shares the CPU with the proxy and the backend.
 *
 * @module
 */

/** An open client WebSocket: the TCP connection after a 101, and its read buffer. */
export interface RawWs {
  readonly conn: Deno.TcpConn;
  /** Bytes read and not yet consumed (the start of the next frame). */
  buf: Uint8Array;
  have: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Open a WebSocket to `127.0.0.1:port` and finish the HTTP/1.1 upgrade.
 *
 * @param port The server (a proxy or the backend) port on 127.0.0.1.
 * @param path The request target.
 * @param registry Every connection opened is added here, so a guard can close all of them.
 * @returns the open socket
 * @throws {Error} when the answer is not `101`
 */
export async function openRawWs(port: number, path = "/echo", registry?: Set<Deno.Conn>): Promise<RawWs> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  registry?.add(conn);
  conn.setNoDelay(true);
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      enc.encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const ws: RawWs = { conn, buf: new Uint8Array(4096), have: 0 };
    let end = -1;
    while (end < 0) {
      if (ws.have === ws.buf.length) throw new Error("upgrade answer head over 4 KiB");
      const n = await conn.read(ws.buf.subarray(ws.have));
      if (n === null) throw new Error("closed before the upgrade answer");
      ws.have += n;
      end = indexOfHeadEnd(ws.buf, ws.have);
    }
    const head = dec.decode(ws.buf.subarray(0, end));
    if (!/^HTTP\/1\.1 101 /.test(head)) throw new Error(`no 101: ${head.split("\r\n")[0]}`);
    ws.buf.copyWithin(0, end + 4, ws.have);
    ws.have -= end + 4;
    return ws;
  } catch (e) {
    conn.close();
    throw e;
  }
}

function indexOfHeadEnd(buf: Uint8Array, have: number): number {
  for (let i = 0; i + 3 < have; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** A masked binary client frame carrying `payload` (RFC 6455 section 5.2; payload < 64 KiB). */
export function maskedFrame(
  payload: Uint8Array,
  mask = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]),
): Uint8Array {
  const ext = payload.length < 126 ? 0 : 2;
  const frame = new Uint8Array(2 + ext + 4 + payload.length);
  frame[0] = 0x82; // FIN, binary
  if (ext) {
    frame[1] = 0x80 | 126;
    frame[2] = payload.length >> 8;
    frame[3] = payload.length & 0xff;
  } else frame[1] = 0x80 | payload.length;
  frame.set(mask, 2 + ext);
  for (let i = 0; i < payload.length; i++) frame[6 + ext + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * Read the next data frame from the server (unmasked, not fragmented); control frames are
 * skipped. Returns its payload length; `check` (when given) must equal the payload.
 */
export async function readFrame(ws: RawWs, check?: Uint8Array): Promise<number> {
  for (;;) {
    if (ws.have >= 2) {
      const b = ws.buf;
      let len = b[1] & 0x7f;
      let hl = 2;
      if (len === 126) {
        if (ws.have < 4) len = -1;
        else (len = (b[2] << 8) | b[3]), hl = 4;
      } else if (len === 127) throw new Error("frame over 64 KiB");
      if (len >= 0 && ws.have >= hl + len) {
        const opcode = b[0] & 0x0f;
        if (opcode === 8) throw new Error("closed by the server");
        if (check) {
          const got = b.subarray(hl, hl + len);
          if (got.length !== check.length || got.some((x, i) => x !== check[i])) {
            throw new Error("echo differs from the message sent");
          }
        }
        b.copyWithin(0, hl + len, ws.have);
        ws.have -= hl + len;
        if (opcode === 1 || opcode === 2) return len;
        continue; // ping or pong: not an echo
      }
      if (hl + Math.max(len, 0) > b.length) throw new Error("frame larger than the read buffer");
    }
    const n = await ws.conn.read(ws.buf.subarray(ws.have));
    if (n === null) throw new Error("closed by the server");
    ws.have += n;
  }
}

/** Options for {@linkcode echoThroughput}. */
export interface EchoOptions {
  /** Concurrent sockets, each with one message in flight. @default 50 */
  readonly sockets?: number;
  /** Measured seconds, after the warmup. */
  readonly seconds: number;
  /** Seconds of echoes at the start that are not counted. @default 0 */
  readonly warmupSeconds?: number;
  /** Payload bytes per message. @default 64 */
  readonly size?: number;
  /** Most messages in all (a bound on the loop besides time). @default 50 million */
  readonly maxMessages?: number;
  /** Request target of the upgrade. @default "/echo" */
  readonly path?: string;
}

/** Result of {@linkcode echoThroughput}. */
export interface EchoResult {
  /** Messages echoed per second over the measured time (round trips, all sockets together). */
  readonly perSecond: number;
  /** Messages echoed in the measured time. */
  readonly messages: number;
  /** Messages echoed in all, warmup and opening checks included (to divide CPU time by). */
  readonly total: number;
  readonly seconds: number;
  /** Mean round trip by Little's law (sockets ÷ rate), ms. */
  readonly meanRttMs: number;
  /** Sockets that failed to open or broke during the run. */
  readonly errors: number;
  readonly lastError: string;
}

/**
 * Echo throughput through `127.0.0.1:port`: open `sockets` WebSockets, then on each, in a loop,
 * send one message and wait for its echo, for `warmupSeconds + seconds`. Bounded by time (a guard
 * closes every socket 5 s after the end, whatever a stalled server does) and by `maxMessages`.
 *
 * @param port The proxy or backend port on 127.0.0.1.
 * @param options What to run; see {@linkcode EchoOptions}.
 * @returns messages per second and errors
 */
export async function echoThroughput(port: number, options: EchoOptions): Promise<EchoResult> {
  const { sockets = 50, warmupSeconds = 0, size = 64, maxMessages = 50_000_000, path = "/echo" } = options;
  const payload = crypto.getRandomValues(new Uint8Array(size));
  const frame = maskedFrame(payload);
  let errors = 0;
  let lastError = "";
  const fail = (e: unknown) => {
    errors++;
    lastError = (e as Error).message;
  };
  // The guard bounds the whole run (opening included): it closes every connection, which ends
  // every pending read or write.
  const conns = new Set<Deno.Conn>();
  const closeAll = () => conns.forEach((c) => closeConn(c));
  const budgetMs = OPEN_BUDGET_MS + (warmupSeconds + options.seconds) * 1000 + 5000;
  const guard = setTimeout(closeAll, budgetMs);
  let messages = 0;
  let sent = 0;
  let opened = 0;
  let total = 0;
  let countFrom = 0;
  let lastDone = 0;
  try {
    const sockets_ = (await Promise.all(
      Array.from({ length: sockets }, async () => {
        try {
          const ws = await openRawWs(port, path, conns);
          // One checked echo per socket before the clock starts: the path carries these bytes.
          await writeAll(ws.conn, frame);
          await readFrame(ws, payload);
          return ws;
        } catch (e) {
          return fail(e);
        }
      }),
    )).filter((ws): ws is RawWs => ws !== undefined);
    opened = total = sockets_.length;
    const start = performance.now();
    countFrom = lastDone = start + warmupSeconds * 1000;
    const end = countFrom + options.seconds * 1000;
    await Promise.all(sockets_.map(async (ws) => {
      try {
        for (let now = performance.now(); now < end && sent < maxMessages; now = performance.now()) {
          sent++;
          await writeAll(ws.conn, frame);
          if (await readFrame(ws) !== size) throw new Error("echo of another length");
          const done = performance.now();
          total++;
          if (done >= countFrom) messages++, lastDone = Math.max(lastDone, done);
        }
      } catch (e) {
        fail(e);
      }
    }));
  } finally {
    clearTimeout(guard);
    closeAll();
  }
  const seconds = (lastDone - countFrom) / 1000;
  const perSecond = seconds > 0 ? messages / seconds : 0;
  return {
    perSecond,
    messages,
    total,
    seconds,
    meanRttMs: perSecond > 0 ? (opened / perSecond) * 1000 : NaN,
    errors,
    lastError,
  };
}

/** Close the TCP connection of `ws` (no close handshake: the benchmark is over). */
export function closeQuietly(ws: RawWs): void {
  closeConn(ws.conn);
}

function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** How long opening the sockets of one run may take before the guard closes them. */
const OPEN_BUDGET_MS = 30_000;

/**
 * Open `count` WebSockets through `127.0.0.1:port`, `batch` at a time, and carry one checked echo
 * on each, so every tunnel is set up both ways; then leave them idle.
 *
 * @param port The proxy port on 127.0.0.1.
 * @param count How many sockets.
 * @param batch How many handshakes at once. @default 50
 * @returns the open sockets (close each with {@linkcode closeQuietly})
 * @throws {Error} when one fails; the ones already open are closed first
 */
export async function openIdleSockets(port: number, count: number, batch = 50): Promise<RawWs[]> {
  const payload = enc.encode("idle");
  const frame = maskedFrame(payload);
  const conns = new Set<Deno.Conn>();
  const open: RawWs[] = [];
  const guard = setTimeout(() => conns.forEach((c) => closeConn(c)), OPEN_BUDGET_MS + count * 20);
  try {
    while (open.length < count) {
      const n = Math.min(batch, count - open.length);
      const next = await Promise.allSettled(Array.from({ length: n }, async () => {
        const ws = await openRawWs(port, "/idle", conns);
        await writeAll(ws.conn, frame);
        await readFrame(ws, payload);
        return ws;
      }));
      for (const r of next) if (r.status === "fulfilled") open.push(r.value);
      const failed = next.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    return open;
  } catch (e) {
    conns.forEach((c) => closeConn(c));
    throw e;
  } finally {
    clearTimeout(guard);
  }
}
