/**
 * The built-in status page served at `GET /` on the admin listener.
 *
 * A TypeScript module rather than a file read at startup, so it ships inside the compiled program
 * and the Docker image with nothing else to copy. Plain HTML, CSS and JavaScript: no build step,
 * no CDN, works offline. The script (`status_page_script.ts`) polls `/api/stats` every second,
 * draws one section per service, and switches strategies and drains or enables backends through
 * `/api/services/{service}/...`.
 *
 * @module
 */

import { STATUS_PAGE_SCRIPT } from "./status_page_script.ts";

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #fff; --card: #f6f7f9; --line: #d0d5dd;
  --grid: #e4e7ec; --bad: #d92d20; --ok: #079455; --warn: #dc6803; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --muted: #98a2b3; --bg: #10131a; --card: #1a1f2b;
  --line: #344054; --grid: #262d3b; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; padding: 12px 24px; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 16px; margin: 0; }
.muted, .message { color: var(--muted); }
.message.error { color: var(--bad); }
form, label { display: inline-flex; gap: 8px; align-items: center; margin: 0; }
select, input, button { font: inherit; padding: 2px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); }
button { cursor: pointer; }
section.service { border-top: 1px solid var(--line); margin-top: 10px; padding-top: 8px; }
.service-head { display: flex; flex-wrap: wrap; gap: 6px 20px; align-items: center; margin-bottom: 2px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: right; padding: 3px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, th:nth-child(2), td[data-field=name], td[data-field=state] { text-align: left; }
th { font-weight: 600; color: var(--muted); }
td { font-variant-numeric: tabular-nums; }
td[data-field=action] { width: 1%; }
button.action { padding: 0 10px; min-width: 64px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.state-healthy { color: var(--ok); } .state-unhealthy { color: var(--bad); }
.state-unknown, .state-draining, .state-ejected { color: var(--warn); }
.charts-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 16px; margin: 6px 0 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; }
.legend-item { display: inline-flex; align-items: center; }
.legend-change::before { content: ""; width: 0; height: 12px; border-left: 1.5px dashed var(--fg);
  margin-right: 6px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 380px), 1fr)); gap: 12px; }
figure { margin: 0; padding: 4px 10px 2px; background: var(--card); border-radius: 8px; min-width: 0; }
figcaption { font-weight: 600; font-size: 13px; }
svg { width: 100%; height: 150px; display: block; }
svg text { fill: var(--muted); font-size: 10px; }
svg .grid { stroke: var(--line); stroke-width: 0.6; }
svg .grid.minor { stroke: var(--grid); stroke-width: 0.5; }
svg polyline { fill: none; stroke-width: 1.5; stroke-linejoin: round; }
svg .change { stroke: var(--fg); stroke-width: 1; stroke-dasharray: 3 3; }
svg text.change-label { fill: var(--fg); }
footer { margin-top: 10px; }
/* A narrow window shows each backend as a card: name, state and button, then the labelled numbers. */
@media (max-width: 640px) {
  body { padding: 8px 10px; }
  thead { display: none; }
  table, tbody { display: block; }
  tr { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 14px; padding: 5px 0;
    border-bottom: 1px solid var(--line); }
  tr::after { content: ""; flex-basis: 100%; order: 1; }
  td { border: 0; padding: 0; text-align: left; }
  td[data-label] { order: 2; }
  td[data-label]::before { content: attr(data-label) " "; color: var(--muted); }
  td[data-field=action] { margin-left: auto; width: auto; }
}
`;

/** The complete status page document. */
export const STATUS_PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lb status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>lb status</h1>
  <label id="token-field" hidden>admin token
    <input id="token" type="password" placeholder="needed to change things" autocomplete="off"></label>
  <span class="muted" id="updated"></span>
</header>
<main id="services"></main>
<footer class="muted" id="window"></footer>
<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;
