/**
 * Small helpers the admin handler answers with: JSON and text responses, and the bearer-token
 * check for changing calls.
 *
 * @module
 */

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

/** A JSON answer, pretty-printed (people read it with curl). */
export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, null, 2) + "\n", { status, headers: JSON_HEADERS });
}

/** A one-line text answer. */
export function text(body: string, status: number): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Constant-time string comparison, so the token cannot be guessed byte by byte from timings. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The 401 to answer when `token` is set and `req` does not carry it as `Authorization: Bearer`,
 * else undefined. The scheme is case-insensitive (RFC 9110 section 11.1); the token is not.
 */
export function unauthorized(req: Request, token: string): Response | undefined {
  if (!token) return undefined;
  const given = /^bearer +(.*)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  if (sameSecret(given, token)) return undefined;
  return new Response("401 Unauthorized: admin token required\n", {
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="lb-admin"', "content-type": "text/plain; charset=utf-8" },
  });
}

/** The JSON body of `req`, or undefined when it is not JSON. */
export async function jsonBody(req: Request): Promise<unknown> {
  try {
    return JSON.parse(await req.text());
  } catch {
    return undefined;
  }
}
