/**
 * The status page's SVG line charts: one line per backend over the stats window, a linear axis
 * from zero for rates, a log axis at powers of ten for latency (so a 1 ms backend is not a flat
 * line under a 100 ms one), and a dashed mark with the new strategy's name at each switch.
 *
 * Like the page's script, {@linkcode statusCharts} is self-contained: the page embeds its source
 * and calls it with `document` (see `status_page_script.ts`).
 *
 * @module
 */

import type { ChartDrawer, ChartSpec, PageDocument, PageNode } from "./status_page_types.ts";

/**
 * Make the chart drawer for `document`.
 *
 * @param document the page's `document` (only `createElementNS` is used)
 * @returns a function that redraws one `<svg>` from a {@linkcode ChartSpec}; the SVG's view box
 *   follows its rendered width, so text is never stretched.
 */
export function statusCharts(document: Pick<PageDocument, "createElementNS">): ChartDrawer {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const H = 150, TOP = 14, BOTTOM = 16, LEFT = 46, RIGHT = 6;
  const el = (name: string, attrs: Record<string, string | number>, text?: string): PageNode => {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const ms = (exp: number) =>
    exp >= 3 ? `${10 ** (exp - 3)} s` : `${+(10 ** exp).toFixed(Math.max(0, -exp))} ms`;
  const num = (v: number) => v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1);

  /** Value -> y, and the labelled ticks, for the spec's scale over `values`. */
  const axis = (spec: ChartSpec, values: number[]) => {
    const bottom = H - BOTTOM, span = H - BOTTOM - TOP;
    if (spec.scale === "log") {
      const positive = values.filter((v) => v > 0);
      // At least one decade; below 0.01 ms is noise of the histogram's first bucket.
      const lo = positive.length ? Math.floor(Math.log10(Math.max(0.01, Math.min(...positive))) + 1e-9) : 0;
      const hi = Math.max(lo + 1, positive.length ? Math.ceil(Math.log10(Math.max(...positive)) - 1e-9) : 2);
      const y = (v: number) => bottom - (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo) * span;
      const ticks = [];
      for (let e = lo; e <= hi; e++) ticks.push({ y: y(10 ** e), label: ms(e), value: 10 ** e });
      const minor = [];
      for (let e = lo; e < hi; e++) for (const m of [2, 5]) minor.push(y(m * 10 ** e));
      return { y, ticks, minor };
    }
    const max = Math.max(0, ...values) * 1.1;
    const pow = max > 0 ? 10 ** Math.floor(Math.log10(max)) : 1;
    const top = max > 0 ? [1, 2, 2.5, 5, 10].map((f) => f * pow).find((t) => t >= max)! : 1;
    const y = (v: number) => bottom - (v / top) * span;
    return { y, ticks: [0, top / 2, top].map((v) => ({ y: y(v), label: num(v), value: v })), minor: [] };
  };

  return (svg: PageNode, spec: ChartSpec) => {
    const W = svg.clientWidth > 0 ? svg.clientWidth : 400;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
    const { y, ticks, minor } = axis(spec, values);
    const n = Math.max(2, ...spec.series.map((s) => s.values.length));
    const x = (i: number) => LEFT + i * (W - LEFT - RIGHT) / (n - 1);
    const parts: PageNode[] = [];
    for (const m of minor) {
      parts.push(el("line", { x1: LEFT, x2: W - RIGHT, y1: m, y2: m, class: "grid minor" }));
    }
    for (const t of ticks) {
      parts.push(el("line", { x1: LEFT, x2: W - RIGHT, y1: t.y, y2: t.y, class: "grid" }));
      parts.push(
        el(
          "text",
          {
            x: LEFT - 4,
            y: t.y,
            class: "tick",
            "text-anchor": "end",
            "dominant-baseline": "middle",
            "data-value": t.value,
          },
          t.label,
        ),
      );
    }
    const half = Math.round(spec.windowSeconds / 2);
    parts.push(el("text", { x: LEFT, y: H - 3 }, `-${spec.windowSeconds} s`));
    parts.push(el("text", { x: (LEFT + W - RIGHT) / 2, y: H - 3, "text-anchor": "middle" }, `-${half} s`));
    parts.push(el("text", { x: W - RIGHT, y: H - 3, "text-anchor": "end" }, "now"));
    if (values.length === 0) {
      parts.push(
        el("text", { x: (LEFT + W) / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, "no requests"),
      );
    }
    for (const s of spec.series) {
      let run: string[] = [];
      const flush = () => {
        const attrs = { stroke: s.color, fill: s.color, "data-backend": s.name };
        if (run.length > 1) parts.push(el("polyline", { ...attrs, fill: "none", points: run.join(" ") }));
        else if (run.length === 1) {
          const [cx, cy] = run[0].split(",");
          parts.push(el("circle", { ...attrs, cx, cy, r: 1.5 }));
        }
        run = [];
      };
      s.values.forEach((v, i) => v === null ? flush() : run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`));
      flush();
    }
    for (const c of spec.changes) {
      // The last point is the last complete second, about a second ago; older marks sit left.
      const at = Math.min(n - 1, Math.max(0, n - c.secondsAgo));
      const cx = x(at);
      parts.push(
        el("line", { x1: cx, x2: cx, y1: TOP - 4, y2: H - BOTTOM, class: "change", "data-to": c.to }),
      );
      const end = cx > W / 2;
      parts.push(
        el("text", {
          x: end ? cx - 3 : cx + 3,
          y: TOP - 4,
          class: "change-label",
          "text-anchor": end ? "end" : "start",
        }, c.to),
      );
    }
    svg.replaceChildren(...parts);
  };
}
