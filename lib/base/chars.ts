/**
 * Reading a string's chars where the strings come in many representations.
 *
 * A message head is written from literals, short copies cut from a parsed head, sliced and cons
 * strings, and thin strings (what V8 leaves where a string was internalized as a property key):
 * more maps than V8 keeps a property lookup polymorphic for. A `s.charCodeAt(i)` site that sees
 * them all looks the method up megamorphically on every call, once per byte in a copying loop;
 * that lookup was 7% of the proxy's CPU samples (docs/performance.md, sixth round). Calling the
 * one function directly, on the string typed as one (`"" + s` is `s` itself), costs no lookup.
 *
 * @module
 */

/**
 * `String.prototype.charCodeAt`, to be called as a known function.
 *
 * @example
 * ```ts
 * const s = "" + part; // typed as a string, so `s.length` needs no lookup either
 * for (let i = 0; i < s.length; i++) buf[at + i] = charCodeAt.call(s, i);
 * ```
 */
export const charCodeAt: (this: string, index: number) => number = String.prototype.charCodeAt;
