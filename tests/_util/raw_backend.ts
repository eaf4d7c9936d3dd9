/**
 * A backend on a raw TCP socket: it writes exactly the bytes a test gives it, so tests can send
 * what no well-behaved server library would (a `Content-Length: 5, 5`, a latin-1 byte in a value,
 * a body that arrives after the head), and records every byte the proxy sent it.
 *
 * Health checks (`GET /health`) are answered `200 ok` so the proxy marks it healthy.
 *
 * @module
 */

import { latin1, octets } from "./raw_http.ts";

/** A started raw backend. */
export interface RawBackend {
  readonly port: number;
  readonly url: string;
  /** Request heads received (health checks excluded), each without its final CRLF CRLF. */
  readonly heads: string[];
  /** Every byte received on each connection, health-check connections included, as latin-1 text. */
  readonly received: string[];
  close(): Promise<void>;
}

/** Writes a reply for one request head; may write in several steps, or close the connection. */
export type RawReply = (head: string, conn: Deno.Conn) => Promise<void> | void;

const HEALTHY = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/** Start a raw backend on 127.0.0.1 that answers each request head with `reply`. */
export function startRawBackend(reply: RawReply): RawBackend {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const received: string[] = [];
  const open = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    open.add(conn);
    const index = received.push("") - 1;
    const buf = new Uint8Array(65536);
    let pending = "";
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        const text = latin1(buf.subarray(0, n));
        received[index] += text;
        pending += text;
        let end;
        while ((end = pending.indexOf("\r\n\r\n")) !== -1) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          if (head.startsWith("GET /health ")) await conn.write(octets(HEALTHY));
          else {
            heads.push(head);
            await reply(head, conn);
          }
        }
      }
    } catch { /* the proxy or the reply closed it */ }
    open.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) void serve(conn);
    } catch { /* closed */ }
  })();
  const port = listener.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    heads,
    received,
    close: async () => {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}
