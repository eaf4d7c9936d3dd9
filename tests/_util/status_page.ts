/**
 * Readers for the status page in a browser tab: what each service's section, chart and legend
 * show, as plain JSON, so tests assert on what was rendered rather than on the page's code.
 *
 * @module
 */

import type { Page } from "./cdp.ts";

/** One service's section as rendered. */
export interface SectionView {
  readonly service: string;
  readonly strategy: string;
  readonly message: string;
  /** Backend -> field (`name`, `state`, ..., `action`) -> text, in table order. */
  readonly rows: [string, Record<string, string>][];
}

/** One chart as drawn, in its view box's units (the SVG's pixels). */
export interface ChartView {
  readonly width: number;
  /** Rendered width in CSS pixels (equal to `width` when nothing is stretched). */
  readonly rendered: number;
  readonly ticks: { label: string; value: number; y: number }[];
  /** Per backend: its computed stroke colour and every point's y, oldest first. */
  readonly lines: Record<string, { stroke: string; ys: number[] }>;
  /** Strategy switch marks: the new strategy and the x of the line. */
  readonly marks: { to: string; x: number }[];
}

const SECTION = (service: string) => `document.querySelector('section[data-service="${service}"]')`;

/** Every section, in page order. */
export function readSections(page: Page): Promise<SectionView[]> {
  return page.evaluate(`Array.from(document.querySelectorAll("section.service")).map((s) => ({
    service: s.dataset.service,
    strategy: s.querySelector(".service-head strong").textContent,
    message: s.querySelector(".message").textContent,
    rows: Array.from(s.querySelectorAll("tbody tr")).map((tr) => [tr.dataset.backend, Object.fromEntries(
      Array.from(tr.querySelectorAll("td")).map((td) => [td.dataset.field, td.textContent]))]),
  }))`);
}

/** One service's `rate` or `p99` chart. */
export function readChart(page: Page, service: string, chart: "rate" | "p99"): Promise<ChartView> {
  return page.evaluate(`(() => {
    const svg = ${SECTION(service)}.querySelector('svg[data-chart="${chart}"]');
    const lines = {};
    for (const p of svg.querySelectorAll("polyline, circle")) {
      const l = lines[p.dataset.backend] ??= { stroke: getComputedStyle(p).stroke, ys: [] };
      if (p.tagName === "circle") l.ys.push(Number(p.getAttribute("cy")));
      else for (const xy of p.getAttribute("points").split(" ")) l.ys.push(Number(xy.split(",")[1]));
    }
    return {
      width: svg.viewBox.baseVal.width,
      rendered: svg.getBoundingClientRect().width,
      ticks: Array.from(svg.querySelectorAll("text.tick")).map((t) => ({
        label: t.textContent, value: Number(t.dataset.value), y: Number(t.getAttribute("y")) })),
      lines,
      marks: Array.from(svg.querySelectorAll("line.change"))
        .map((m) => ({ to: m.dataset.to, x: Number(m.getAttribute("x1")) })),
    };
  })()`);
}

/** One service's legend: each entry's backend (or text) and its swatch's computed colour. */
export function readLegend(page: Page, service: string): Promise<[string, string][]> {
  return page.evaluate(`Array.from(${SECTION(service)}.querySelectorAll(".legend-item")).map((i) => {
    const swatch = i.querySelector(".swatch");
    return [i.dataset.backend ?? i.textContent, swatch ? getComputedStyle(swatch).backgroundColor : ""];
  })`);
}

/** Click the element `selector` finds inside a service's section. */
export function clickIn(page: Page, service: string, selector: string): Promise<unknown> {
  return page.evaluate(`${SECTION(service)}.querySelector(${JSON.stringify(selector)}).click()`);
}

/** Pick `strategy` in a service's switch, put `token` in the token field, and press apply. */
export function switchStrategy(
  page: Page,
  service: string,
  strategy: string,
  token: string,
): Promise<unknown> {
  return page.evaluate(`(() => {
    const s = ${SECTION(service)};
    s.querySelector("select").value = ${JSON.stringify(strategy)};
    s.querySelector("select").dispatchEvent(new Event("change"));
    document.getElementById("token").value = ${JSON.stringify(token)};
    s.querySelector("form button").click();
  })()`);
}
