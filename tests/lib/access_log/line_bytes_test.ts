import { equal } from "node:assert/strict";
import { LineBytes } from "../../../lib/access_log/line_bytes.ts";
import { representations } from "../../_util/strings.ts";

Deno.test("LineBytes writes strings of every representation byte for byte, and escapes what needs it", () => {
  const all = representations();
  const ascii = Object.values(all).filter((s) => !/[^\x20-\x7e]/.test(s));
  const line = new LineBytes(8);
  for (const s of ascii) line.ascii(s);
  equal(line.toString(), ascii.join(""));
  const json = new LineBytes(8);
  for (const s of ascii) json.json(s);
  json.json(all.latin1);
  equal(json.toString(), ascii.map((s) => JSON.stringify(s)).join("") + '"caf\\u00e9"');
  const clf = new LineBytes(8);
  clf.clf(all.latin1 + all.cons);
  equal(clf.toString(), "caf\\xe9" + all.cons);
});
