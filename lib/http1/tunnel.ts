/**
 * A byte tunnel between two connections: what an `Upgrade` (a WebSocket, RFC 6455) becomes once
 * the backend answered 101 (RFC 9110 section 15.2.2), as Go's ReverseProxy and NGINX carry it.
 *
 * Each direction reads a chunk and writes it before reading the next, so at most one chunk per
 * direction is held: a reader that stops reading stalls the writer's socket, which stalls the
 * other side's reads through TCP flow control, and the proxy never buffers without bound. A
 * direction that ends (EOF) half-closes the other side's write end, so a protocol that shuts
 * down one way first still works; a reset on either side closes both at once. A tunnel with no
 * bytes either way for `idleMs` is closed.
 *
 * @module
 */

import type { Deadlines } from "../base/mod.ts";
import { type BufferedConn, CHUNK_BYTES } from "./buffered_conn.ts";

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
      while (true) {
        const chunk = await from.readSome(CHUNK_BYTES);
        if (chunk === null) break;
        last = now();
        await to.writeAll(chunk);
        moved += chunk.length;
      }
      // EOF one way: pass the half-close on; the other way may still carry bytes.
      await to.conn.closeWrite().catch(() => stop("reset"));
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
