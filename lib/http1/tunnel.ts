/**
 * A byte tunnel between two connections: what an `Upgrade` (a WebSocket, RFC 6455) becomes once
 * the backend answered 101 (RFC 9110 section 15.2.2), as Go's ReverseProxy and NGINX carry it.
 *
 * Each direction reads into its own buffer and writes it out before reading again, so at most one
 * buffer per direction is held: a reader that stops reading stalls the writer's socket, which stalls the
 * other side's reads through TCP flow control, and the proxy never buffers without bound. A
 * direction that ends (EOF) half-closes the other side's write end, so a protocol that shuts
 * down one way first still works; a reset on either side closes both at once. A tunnel with no
 * bytes either way for `idleMs` is closed.
 *
 * @module
 */

import type { Deadlines } from "../base/mod.ts";
import type { BufferedConn } from "./buffered_conn.ts";

/**
 * A direction's buffer starts at MIN_BYTES, doubles after a read that filled it (up to
 * MAX_BYTES, as much as a loopback read returns at once) and halves after one that used an
 * eighth of it. NGINX holds its `proxy_buffer_size` (4 or 8 KiB) per direction for a tunnel.
 */
const MIN_BYTES = 1024;
const MAX_BYTES = 64 * 1024;

async function writeAll(conn: Deno.Conn, data: Uint8Array, from: number): Promise<void> {
  for (let off = from; off < data.length;) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** How a tunnel ended, and what crossed it. */
export interface TunnelResult {
  /** `closed`: both sides finished; `reset`: a side broke; `idle`: nothing moved for `idleMs`. */
  readonly outcome: "closed" | "reset" | "idle";
  /** Bytes from the first connection (the client) to the second (the backend). */
  readonly bytesUp: number;
  /** Bytes from the second to the first. */
  readonly bytesDown: number;
}

/** Options for {@linkcode tunnel}. */
export interface TunnelOptions {
  /** Close after this long with no bytes either way. */
  readonly idleMs: number;
  /** The timer set the idle deadline joins, and its clock. */
  readonly deadlines: Deadlines;
  readonly now: () => number;
  /**
   * The second connection ending closes both, instead of half-closing the first: for a relay to
   * a terminator on loopback, whose close ends the session it carried (a TLS connection cannot be
   * half open), so nothing waits for an idle client to close its side. @default false
   */
  readonly endWithSecond?: boolean;
  /** Shown each chunk the first connection sends until it returns true (a TLS relay watching the handshake). */
  readonly watchFirst?: (chunk: Uint8Array) => boolean;
}

/**
 * Relay bytes both ways between `a` and `b` (each may hold bytes buffered already) until both
 * directions end, one side breaks, or the tunnel goes idle; then close both.
 */
export async function tunnel(
  a: BufferedConn,
  b: BufferedConn,
  options: TunnelOptions,
): Promise<TunnelResult> {
  const { deadlines, now, idleMs } = options;
  let last = now();
  let outcome: TunnelResult["outcome"] = "closed";
  const stop = (why: TunnelResult["outcome"]) => {
    if (outcome === "closed") outcome = why;
    a.close();
    b.close();
  };
  const idle = {
    deadline: last + idleMs,
    expire: () => {
      if (now() - last >= idleMs) return stop("idle");
      idle.deadline = last + idleMs;
      deadlines.add(idle);
    },
  };
  deadlines.add(idle);
  const pump = async (from: BufferedConn, to: BufferedConn): Promise<number> => {
    let moved = 0;
    try {
      let watch = from === a ? options.watchFirst : undefined;
      const rest = await from.release();
      if (rest !== null) {
        if (watch?.(rest)) watch = undefined;
        if (rest.length > 0) await writeAll(to.conn, rest, 0);
        moved += rest.length;
        // Each direction reads into one buffer of its own and writes it out before the next
        // read: sized to the traffic, so an idle tunnel holds MIN_BYTES per direction.
        let buf = new Uint8Array(MIN_BYTES);
        while (true) {
          const n = await from.conn.read(buf);
          if (n === null) break;
          last = now();
          if (watch?.(buf.subarray(0, n))) watch = undefined;
          await writeAll(to.conn, buf.subarray(0, n), 0);
          moved += n;
          if (n === buf.length && n < MAX_BYTES) buf = new Uint8Array(n * 2);
          else if (n <= buf.length / 8 && buf.length > MIN_BYTES) buf = new Uint8Array(buf.length / 2);
        }
      }
      // EOF one way: pass the half-close on; the other way may still carry bytes.
      if (from === b && options.endWithSecond) stop("closed");
      else await to.conn.closeWrite().catch(() => stop("reset"));
    } catch {
      if (!from.closed || !to.closed) stop("reset");
    }
    return moved;
  };
  const [bytesUp, bytesDown] = await Promise.all([pump(a, b), pump(b, a)]);
  deadlines.delete(idle);
  a.close();
  b.close();
  return { outcome, bytesUp, bytesDown };
}
