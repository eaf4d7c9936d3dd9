/**
 * The import graph of the source tree, for the architecture test: which files each file imports,
 * as repository-relative paths, read from the source text.
 *
 * @module
 */

/** Every `.ts` file under `roots` (folders or single files), repository-relative, sorted. */
export async function sourceFiles(root: string, roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const info = await Deno.stat(`${root}${rel}`);
    if (info.isFile) {
      if (rel.endsWith(".ts")) out.push(rel);
      return;
    }
    for await (const e of Deno.readDir(`${root}${rel}`)) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      await walk(`${rel}/${e.name}`);
    }
  };
  for (const r of roots) await walk(r);
  return out.sort();
}

/** Static and dynamic imports and re-exports with a relative specifier. */
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\b[^"';]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)|^import\s+["'](\.{1,2}\/[^"']+)["']/gm;

/** Relative imports of `file` (repository-relative), resolved to repository-relative paths. */
export async function importsOf(root: string, file: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${root}${file}`);
  // Comments may show imports in examples: they do not count.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out = new Set<string>();
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const url = new URL(spec, `file:///${file}`);
    out.add(url.pathname.slice(1));
  }
  return [...out];
}
