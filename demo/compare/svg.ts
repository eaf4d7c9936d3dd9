/**
 * The two report charts as hand-written SVG: latency percentiles per strategy as grouped bars on
 * a logarithmic axis, and each strategy's share per backend as stacked bars.
 *
 * No dependencies and no script: the files render on GitHub, in a browser or in an editor, and
 * every bar carries a `<title>` with its exact figure for hover.
 *
 * @module
 */

import { formatFigure, formatPercent, PERCENTILES, type Row } from "./figures.ts";

const WIDTH = 760;
const HEIGHT = 380;
const PLOT = { left: 64, right: 16, top: 44, bottom: 96 };
/** Percentile bars, light to dark. */
const PERCENTILE_COLOURS = ["#9ecae1", "#6baed6", "#3182bd", "#08519c"];
/** Okabe-Ito palette: distinguishable with the common colour-vision deficiencies. */
const BACKEND_COLOURS = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#999999",
];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function svgDocument(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${
      escapeXml(title)
    }</text>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

/** Strategy names under the bars, slanted so long names fit. */
function xLabels(names: readonly string[], centre: (i: number) => number): string[] {
  const y = HEIGHT - PLOT.bottom + 14;
  return names.map((name, i) =>
    `<text x="${centre(i).toFixed(1)}" y="${y}" text-anchor="end" transform="rotate(-30 ${
      centre(i).toFixed(1)
    } ${y})">${escapeXml(name)}</text>`
  );
}

/** A legend row at the top: coloured squares and labels. */
function legend(labels: readonly string[], colours: readonly string[]): string[] {
  const step = Math.min(120, (WIDTH - PLOT.left - PLOT.right) / Math.max(1, labels.length));
  return labels.flatMap((label, i) => {
    const x = PLOT.left + i * step;
    return [
      `<rect x="${x}" y="26" width="10" height="10" fill="${colours[i % colours.length]}"/>`,
      `<text x="${x + 14}" y="35">${escapeXml(label)}</text>`,
    ];
  });
}

/** Ticks 1, 2, 5 × 10^k between `low` and `high`. */
function logTicks(low: number, high: number): number[] {
  const ticks: number[] = [];
  for (let decade = low; decade < high * 10; decade *= 10) {
    for (const m of [1, 2, 5]) if (m * decade >= low && m * decade <= high) ticks.push(m * decade);
  }
  return ticks;
}

/**
 * Latency percentiles per strategy as grouped bars, log scale in milliseconds. Lower bounds
 * (unanswered requests) are drawn hatched-outline with a `≥` label.
 *
 * @param title Chart title.
 * @param rows One group per row, in order.
 */
export function latencyChart(title: string, rows: readonly Row[]): string {
  const values = rows.flatMap((r) => PERCENTILES.map((p) => r[p.key].ms)).filter((v) => v > 0);
  const low = values.length ? 10 ** Math.floor(Math.log10(Math.min(...values))) : 1;
  const high = Math.max(low * 10, values.length ? 10 ** Math.ceil(Math.log10(Math.max(...values))) : 10);
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const plotW = WIDTH - PLOT.left - PLOT.right;
  const y = (ms: number) =>
    PLOT.top + plotH * (1 - (Math.log10(Math.max(ms, low)) - Math.log10(low)) / Math.log10(high / low));
  const group = plotW / Math.max(1, rows.length);
  const bar = Math.min(18, (group * 0.8) / PERCENTILES.length);
  const centre = (i: number) => PLOT.left + group * (i + 0.5);
  const body: string[] = [];
  for (const tick of logTicks(low, high)) {
    body.push(
      `<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${y(tick).toFixed(1)}" y2="${
        y(tick).toFixed(1)
      }" stroke="#dddddd"/>`,
      `<text x="${PLOT.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick}</text>`,
    );
  }
  body.push(
    `<text x="14" y="${PLOT.top + plotH / 2}" transform="rotate(-90 14 ${
      PLOT.top + plotH / 2
    })" text-anchor="middle">latency, ms (log scale)</text>`,
  );
  rows.forEach((r, i) => {
    PERCENTILES.forEach((p, j) => {
      const figure = r[p.key];
      const x = centre(i) - (bar * PERCENTILES.length) / 2 + j * bar;
      const top = y(figure.ms);
      const style = figure.atLeast
        ? `fill="${PERCENTILE_COLOURS[j]}" fill-opacity="0.45" stroke="#08306b" stroke-dasharray="3 2"`
        : `fill="${PERCENTILE_COLOURS[j]}"`;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${
          (PLOT.top + plotH - top).toFixed(1)
        }" ${style}><title>${
          escapeXml(`${r.strategy} ${p.label}: ${formatFigure(figure)} ms`)
        }</title></rect>`,
      );
      if (p.key === "p99") {
        body.push(
          `<text x="${(x + bar / 2).toFixed(1)}" y="${
            (top - 3).toFixed(1)
          }" text-anchor="middle" font-size="9">${escapeXml(formatFigure(figure))}</text>`,
        );
      }
    });
  });
  body.push(
    `<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.top + plotH}" stroke="#333333"/>`,
  );
  body.push(...legend(PERCENTILES.map((p) => p.label), PERCENTILE_COLOURS));
  body.push(...xLabels(rows.map((r) => r.strategy), centre));
  return svgDocument(title, body);
}

/**
 * Each strategy's share of routed requests per backend as stacked bars summing to 100%.
 *
 * @param title Chart title.
 * @param rows One bar per row, in order.
 * @param backends Backend names in scenario order (stacking order, bottom first).
 */
export function shareChart(title: string, rows: readonly Row[], backends: readonly string[]): string {
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const plotW = WIDTH - PLOT.left - PLOT.right;
  const slot = plotW / Math.max(1, rows.length);
  const bar = Math.min(48, slot * 0.6);
  const centre = (i: number) => PLOT.left + slot * (i + 0.5);
  const body: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const ty = PLOT.top + plotH * (1 - tick);
    body.push(
      `<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${ty}" y2="${ty}" stroke="#dddddd"/>`,
      `<text x="${PLOT.left - 6}" y="${ty + 4}" text-anchor="end">${tick * 100}%</text>`,
    );
  }
  rows.forEach((r, i) => {
    let base = PLOT.top + plotH;
    backends.forEach((b, k) => {
      const h = plotH * r.shares[b];
      base -= h;
      const x = centre(i) - bar / 2;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${bar.toFixed(1)}" height="${
          h.toFixed(1)
        }" fill="${BACKEND_COLOURS[k % BACKEND_COLOURS.length]}"><title>${
          escapeXml(`${r.strategy} → ${b}: ${formatPercent(r.shares[b])}`)
        }</title></rect>`,
      );
      if (h >= 14) {
        body.push(
          `<text x="${centre(i).toFixed(1)}" y="${
            (base + h / 2 + 4).toFixed(1)
          }" text-anchor="middle" font-size="9" fill="#ffffff">${formatPercent(r.shares[b])}</text>`,
        );
      }
    });
  });
  body.push(...legend(backends, BACKEND_COLOURS));
  body.push(...xLabels(rows.map((r) => r.strategy), centre));
  return svgDocument(title, body);
}
