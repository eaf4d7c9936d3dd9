import { deepEqual, equal } from "node:assert/strict";
import { charCodeAt } from "../../../lib/base/mod.ts";
import { representations } from "../../_util/strings.ts";

Deno.test("charCodeAt called as a function reads every representation as the method does", () => {
  for (const [kind, s] of Object.entries(representations())) {
    const got: number[] = [];
    const want: number[] = [];
    for (let i = 0; i < s.length; i++) {
      got.push(charCodeAt.call(s, i));
      want.push(s.charCodeAt(i));
    }
    deepEqual(got, want, kind);
    equal(Number.isNaN(charCodeAt.call(s, s.length)), true, kind);
  }
});
