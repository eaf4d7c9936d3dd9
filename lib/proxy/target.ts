/**
 * The request target a backend gets.
 *
 * @module
 */

/**
 * The origin-form request target to send upstream, byte-for-byte: an origin-form target (`/a//b?`)
 * exactly as the client sent it; for an absolute-form one (`http://host/path`) only its path and
 * query, never its authority, so a client cannot choose which host we dial.
 */
export function targetOf(target: string): string {
  if (target.charCodeAt(0) === 47) return target; // "/"
  const scheme = target.indexOf("://");
  if (scheme === -1) return "/"; // asterisk-form (OPTIONS *) or authority-form: the backend's root
  const authority = scheme + 3;
  const slash = target.indexOf("/", authority);
  const query = target.indexOf("?", authority);
  if (slash === -1 && query === -1) return "/";
  if (slash === -1 || (query !== -1 && query < slash)) return "/" + target.slice(query);
  return target.slice(slash);
}
