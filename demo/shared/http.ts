/**
 * HTTP helpers shared by the demo tools.
 *
 * @module
 */

/** A JSON response with `status` (default 200). */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
