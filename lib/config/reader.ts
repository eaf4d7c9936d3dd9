/**
 * A small typed reader over a parsed YAML document that records errors with their line.
 *
 * Config validation walks the YAML syntax tree (not the plain JS value) so every message can say
 * where the offending value is: `config.yml:14: backends[1].weight: must be a positive integer,
 * got -2`. Readers never throw; they collect every error so one run shows all of them.
 *
 * @module
 */

import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node } from "yaml";

/** A node as it appears in the tree, before alias resolution. */
type AnyNode = Node | null | undefined;

/** How a config reads the files it names (`backends[].tls.ca`). */
export interface ConfigFiles {
  /** Absolute path of a path as written in the config (relative ones are the config file's). */
  readonly resolve: (path: string) => string;
  /** A file's bytes; throws (as `Deno.readFileSync` does) when it cannot. */
  readonly read: (path: string) => Uint8Array;
}

/** Collects errors and resolves positions, environment references and file paths. */
export class Reader {
  readonly errors: string[] = [];
  #doc: Document;
  #lines: LineCounter;
  #file: string;
  #env: (name: string) => string | undefined;
  #files: ConfigFiles;

  constructor(
    doc: Document,
    lines: LineCounter,
    file: string,
    env: (name: string) => string | undefined,
    files: ConfigFiles,
  ) {
    this.#doc = doc;
    this.#lines = lines;
    this.#file = file;
    this.#env = env;
    this.#files = files;
  }

  /**
   * Read the file a value names: its absolute path and bytes, or undefined with an error naming
   * the file (`cannot read "/etc/lb/ca.pem": file not found`).
   */
  readFile(node: AnyNode, path: string, given: string): { file: string; bytes: Uint8Array } | undefined {
    let file = given;
    try {
      file = this.#files.resolve(given);
      return { file, bytes: this.#files.read(file) };
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? "file not found"
        : e instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : (e as Error).message;
      this.fail(this.deref(node) ?? node, path, `cannot read ${JSON.stringify(file)}: ${why}`);
      return undefined;
    }
  }

  /** Record an error at `node` for `path`. */
  fail(node: AnyNode, path: string, message: string): void {
    const where = this.#where(node);
    // Messages quote the offending value; a hostile file's megabyte-long value must not turn
    // one error line into a megabyte.
    const short = message.replace(/"([^"]{60})[^"]{10,}"/g, '"$1..."');
    this.errors.push(`${where}${path ? `${path}: ` : ""}${short}`);
  }

  #where(node: AnyNode): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return `${this.#file}: `;
    return `${this.#file}:${this.#lines.linePos(offset).line}: `;
  }

  /** Follow aliases (once each; anchors cannot recurse into themselves in a valid document). */
  deref(node: AnyNode): AnyNode {
    let n = node;
    for (let hops = 0; n && isAlias(n) && hops < 16; hops++) n = n.resolve(this.#doc) as AnyNode;
    return n;
  }

  /**
   * Read a mapping: returns its entries keyed by name, after flagging unknown keys with a
   * suggestion. Returns undefined (and records an error) when the node is not a mapping.
   */
  map(node: AnyNode, path: string, known: readonly string[]): Map<string, Node> | undefined {
    const n = this.deref(node);
    if (!isMap(n)) {
      this.fail(n ?? node, path, `must be a mapping, got ${describe(n)}`);
      return undefined;
    }
    const out = new Map<string, Node>();
    const lines = new Map<string, string>();
    for (const pair of n.items) {
      const key = this.deref(pair.key as AnyNode);
      const name = isScalar(key) ? String(key.value) : undefined;
      const keyPath = path ? `${path}.${name}` : `${name}`;
      if (name !== undefined && this.#duplicate(lines, name, key, keyPath)) continue;
      if (name === undefined || !known.includes(name)) {
        const hint = name === undefined ? undefined : suggest(name, known);
        this.fail(
          key,
          keyPath,
          `unknown key${hint ? ` (did you mean \`${hint}\`?)` : ""}; expected one of ${known.join(", ")}`,
        );
        continue;
      }
      out.set(name, pair.value as Node);
    }
    return out;
  }

  /**
   * Read a mapping whose keys are names the file chooses (`services: {web: ..., api: ...}`):
   * its entries in file order, each with its key node for messages. Undefined (with an error) when
   * the node is not a mapping.
   */
  entries(node: AnyNode, path: string): { name: string; key: Node; value: Node }[] | undefined {
    const n = this.deref(node);
    if (!isMap(n)) {
      this.fail(n ?? node, path, `must be a mapping, got ${describe(n)}`);
      return undefined;
    }
    const out: { name: string; key: Node; value: Node }[] = [];
    const lines = new Map<string, string>();
    for (const pair of n.items) {
      const key = this.deref(pair.key as AnyNode);
      if (!isScalar(key)) {
        this.fail(key, path, "keys must be names");
        continue;
      }
      if (this.#duplicate(lines, String(key.value), key, `${path}.${key.value}`)) continue;
      out.push({ name: String(key.value), key: key as Node, value: pair.value as Node });
    }
    return out;
  }

  /** True (and an error recorded) when `name` was a key of this mapping already. */
  #duplicate(seen: Map<string, string>, name: string, key: AnyNode, path: string): boolean {
    const first = seen.get(name);
    if (first !== undefined) {
      this.fail(key, path, `duplicate key (first given at ${first}); a key may appear once`);
      return true;
    }
    seen.set(name, this.#where(key).replace(/: $/, ""));
    return false;
  }

  /** Read a sequence's items, or undefined (with an error) when the node is not a list. */
  seq(node: AnyNode, path: string): Node[] | undefined {
    const n = this.deref(node);
    if (!isSeq(n)) {
      this.fail(n ?? node, path, `must be a list, got ${describe(n)}`);
      return undefined;
    }
    return n.items as Node[];
  }

  /** Read a scalar's value with `${VAR}` / `${VAR:-default}` expanded in strings. */
  scalar(node: AnyNode, path: string): { value: unknown; node: AnyNode } | undefined {
    const n = this.deref(node);
    if (!isScalar(n)) {
      this.fail(n ?? node, path, `must be a single value, got ${describe(n)}`);
      return undefined;
    }
    if (typeof n.value !== "string") return { value: n.value, node: n };
    const expanded = this.#expand(n.value, n, path);
    return expanded === undefined ? undefined : { value: expanded, node: n };
  }

  #expand(text: string, node: AnyNode, path: string): string | undefined {
    let ok = true;
    const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name, fallback) => {
      const value = this.#env(name);
      if (value !== undefined && value !== "") return value;
      if (fallback !== undefined) return fallback;
      ok = false;
      this.fail(
        node,
        path,
        `environment variable ${name} is not set (use \${${name}:-default} for a default)`,
      );
      return "";
    });
    return ok ? out : undefined;
  }

  /** A string value. */
  string(node: AnyNode, path: string): string | undefined {
    const s = this.scalar(node, path);
    if (!s) return undefined;
    if (typeof s.value !== "string") {
      this.fail(s.node, path, `must be a string, got ${JSON.stringify(s.value)}`);
      return undefined;
    }
    return s.value;
  }

  /** A boolean value (`true`/`false`, also from an expanded env string). */
  boolean(node: AnyNode, path: string): boolean | undefined {
    const s = this.scalar(node, path);
    if (!s) return undefined;
    if (typeof s.value === "boolean") return s.value;
    if (s.value === "true" || s.value === "false") return s.value === "true";
    this.fail(s.node, path, `must be true or false, got ${JSON.stringify(s.value)}`);
    return undefined;
  }

  /** An integer within [min, max]. Strings of digits (from env expansion) are accepted. */
  integer(node: AnyNode, path: string, min: number, max: number, what = "an integer"): number | undefined {
    const s = this.scalar(node, path);
    if (!s) return undefined;
    const v = typeof s.value === "string" && /^-?\d+$/.test(s.value) ? Number(s.value) : s.value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(s.node, path, `must be ${what} (${min}..${max}), got ${JSON.stringify(s.value)}`);
      return undefined;
    }
    return v;
  }

  /** A number within [min, max]. */
  number(node: AnyNode, path: string, min: number, max: number): number | undefined {
    const s = this.scalar(node, path);
    if (!s) return undefined;
    const v = typeof s.value === "string" && s.value.trim() !== "" ? Number(s.value) : s.value;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.fail(s.node, path, `must be a number between ${min} and ${max}, got ${JSON.stringify(s.value)}`);
      return undefined;
    }
    return v;
  }

  /** Where a node starts, for callers that report errors after reading. */
  nodeOf(node: AnyNode): AnyNode {
    return this.deref(node);
  }
}

/** Short description of a node's kind for "got ..." messages. */
function describe(node: AnyNode): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return node.value === null ? "null" : JSON.stringify(node.value);
  return "an alias";
}

/** The known key closest to `name` by edit distance, when close enough to be a likely typo. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance; inputs are short config keys. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
