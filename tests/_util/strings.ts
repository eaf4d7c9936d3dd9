/**
 * Strings in each representation V8 gives the parts of a message head, for tests of code that
 * reads their chars (`putHead` in lib/http1/buffered_conn.ts, the access log's LineBytes).
 *
 * @module
 */

/** One string per representation: a literal, a sequential copy, a sliced, a thin and a cons string, a number's digits, and one latin-1 char. */
export function representations(): Record<string, string> {
  const text = new TextDecoder().decode(new TextEncoder().encode("GET /index.html HTTP/1.1\r\nhost: a\r\n"));
  const thin = text.slice(0, 3);
  const keys: Record<string, number> = {};
  keys[thin] = 1; // internalized as a key: V8 leaves a thin string behind
  let cons = "00-";
  for (let i = 0; i < 3; i++) cons += String(1e9 + i);
  return {
    literal: "x-forwarded-for",
    sequential: text.slice(0, 3),
    sliced: text.slice(4, 30),
    thin,
    cons,
    number: String(1234),
    latin1: "caf\u00e9",
  };
}
