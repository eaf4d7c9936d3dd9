/**
 * The built-in status page served at `GET /` on the admin listener.
 *
 * A TypeScript module rather than a file read at startup, so it ships inside the compiled program
 * and the Docker image with nothing else to copy. Plain HTML, CSS and JavaScript: no build step,
 * no CDN, works offline. The script polls `/api/stats` every second and switches strategy with
 * `PUT /api/strategy`.
 *
 * @module
 */

import { STATUS_PAGE_SCRIPT } from "./status_page_script.ts";

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #fff; --card: #f6f7f9; --line: #d0d5dd;
  --bad: #d92d20; --ok: #079455; --warn: #dc6803; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --muted: #98a2b3; --bg: #10131a; --card: #1a1f2b;
  --line: #344054; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; margin-bottom: 16px; }
h1 { font-size: 18px; margin: 0; }
.muted { color: var(--muted); }
form { display: flex; gap: 8px; align-items: center; }
select, input, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); }
button { cursor: pointer; }
#message.error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin-bottom: 16px; }
th, td { text-align: right; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, th:nth-child(2), td:first-child, td[data-field=state] { text-align: left; }
td { font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.state-healthy { color: var(--ok); } .state-unhealthy { color: var(--bad); }
.state-unknown, .state-draining, .state-ejected { color: var(--warn); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 8px 12px; background: var(--card); border-radius: 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: 160px; display: block; }
svg text { fill: var(--muted); font-size: 10px; }
svg .grid { stroke: var(--line); stroke-width: 0.5; }
svg polyline { fill: none; stroke-width: 1.5; }
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
  <span>strategy <strong id="strategy">…</strong></span>
  <form id="switch">
    <label for="choice">switch to</label>
    <select id="choice"></select>
    <input id="token" type="password" placeholder="admin token" autocomplete="off" hidden>
    <button id="apply" type="submit">apply</button>
  </form>
  <span id="message" role="status"></span>
  <span class="muted" id="updated"></span>
</header>
<table>
  <thead><tr><th>backend</th><th>state</th><th>in flight</th><th>req/s</th><th>share</th><th>p50</th>
    <th>p99</th><th>errors</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p class="muted" id="window"></p>
<div class="charts">
  <figure><figcaption>requests per second</figcaption><svg id="rate-chart" viewBox="0 0 400 160"
    preserveAspectRatio="none"></svg></figure>
  <figure><figcaption>p99 latency per second (ms)</figcaption><svg id="p99-chart" viewBox="0 0 400 160"
    preserveAspectRatio="none"></svg></figure>
</div>
<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;
