import assert from "node:assert/strict";
import { rowOf } from "../../../demo/compare/figures.ts";
import { formatMarkdownTable, formatTextTable, resultTable } from "../../../demo/compare/table.ts";
import { runOf, spread } from "../../_util/compare.ts";

Deno.test("resultTable() has the same cells for the terminal and the markdown", () => {
  const rows = [
    rowOf(runOf({ strategy: "round_robin", latencies: spread(100, 2, 60), routed: { a: 50, b: 50 } }), [
      "a",
      "b",
    ], 2_000),
  ];
  const table = resultTable(rows, ["a", "b"]);
  assert.deepEqual(table.header, [
    "strategy",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "errors",
    "a share",
    "b share",
  ]);
  assert.deepEqual(table.rows[0], ["round_robin", "100", "31", "54", "59", "60", "0.0%", "50.0%", "50.0%"]);
  const text = formatTextTable(table).split("\n");
  assert.equal(text[1], "round_robin    100      31      54      59        60    0.0%    50.0%    50.0%");
  assert.equal(text[0].length, text[1].length);
  const markdown = formatMarkdownTable(table).split("\n");
  assert.equal(markdown[1], "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  assert.equal(markdown[2], "| round_robin | 100 | 31 | 54 | 59 | 60 | 0.0% | 50.0% | 50.0% |");
});
