/**
 * The status page's browser script, as a string: polls `/api/stats` every second, renders one
 * table row per backend and two SVG line charts, and drives the strategy switch.
 *
 * Written as plain ES2017 without template literals so it can live inside a TypeScript string;
 * it builds the DOM with `textContent` only, so nothing from the API is ever parsed as HTML.
 *
 * @module
 */

/** The script body for the page's `<script>` element. */
export const STATUS_PAGE_SCRIPT: string = String.raw`
"use strict";
var COLORS = ["#2e90fa", "#f79009", "#12b76a", "#ee46bc", "#7a5af8", "#f04438", "#06aed4", "#a15c07"];
var SVG_NS = "http://www.w3.org/2000/svg";
var state = { strategy: "", dirty: false, pending: false, colors: {} };
var $ = function (id) { return document.getElementById(id); };

function colorOf(name) {
  if (!state.colors[name]) state.colors[name] = COLORS[Object.keys(state.colors).length % COLORS.length];
  return state.colors[name];
}

function ms(v) {
  if (v === null || v === undefined) return "–";
  if (v >= 1000) return (v / 1000).toFixed(2) + " s";
  return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + " ms";
}

function axis(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }

function pct(v) { return (v * 100).toFixed(1) + " %"; }

function cell(row, field) {
  var td = row.querySelector("td[data-field=" + field + "]");
  if (!td) {
    td = document.createElement("td");
    td.dataset.field = field;
    row.appendChild(td);
  }
  return td;
}

function renderRows(report) {
  var body = $("rows");
  var keep = {};
  report.backends.forEach(function (b) {
    keep[b.name] = true;
    var row = body.querySelector("tr[data-backend=\"" + CSS.escape(b.name) + "\"]");
    if (!row) {
      row = document.createElement("tr");
      row.dataset.backend = b.name;
      var name = cell(row, "name");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorOf(b.name);
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(b.name));
      name.title = b.url;
      body.appendChild(row);
    }
    var st = cell(row, "state");
    st.textContent = b.state;
    st.className = "state-" + b.state;
    cell(row, "inFlight").textContent = String(b.inFlight);
    cell(row, "rate").textContent = b.rate.toFixed(1);
    cell(row, "share").textContent = pct(b.share);
    cell(row, "p50").textContent = ms(b.p50);
    cell(row, "p99").textContent = ms(b.p99);
    cell(row, "errors").textContent = pct(b.errorRatio);
  });
  Array.prototype.slice.call(body.children).forEach(function (row) {
    if (!keep[row.dataset.backend]) row.remove();
  });
}

function el(name, attrs, text) {
  var node = document.createElementNS(SVG_NS, name);
  Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draw one polyline per backend; gaps (null) break the line. */
function chart(svg, report, pick) {
  var W = 400, H = 160, L = 34, B = 14;
  var max = 0;
  report.backends.forEach(function (b) {
    pick(b).forEach(function (v) { if (v !== null && v > max) max = v; });
  });
  max = max > 0 ? max * 1.1 : 1;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  [0, 0.5, 1].forEach(function (f) {
    var y = H - B - f * (H - B - 6);
    svg.appendChild(el("line", { x1: L, x2: W, y1: y, y2: y, "class": "grid" }));
    svg.appendChild(el("text", { x: 2, y: y + 3 }, axis(max * f)));
  });
  svg.appendChild(el("text", { x: L, y: H - 2 }, "-" + report.windowSeconds + " s"));
  svg.appendChild(el("text", { x: W - 22, y: H - 2 }, "now"));
  report.backends.forEach(function (b) {
    var values = pick(b);
    var step = (W - L) / Math.max(1, values.length - 1);
    var points = [];
    var flush = function () {
      if (points.length > 1) {
        svg.appendChild(el("polyline", { points: points.join(" "), stroke: colorOf(b.name) }));
      }
      points = [];
    };
    values.forEach(function (v, i) {
      if (v === null) return flush();
      points.push((L + i * step).toFixed(1) + "," + (H - B - (v / max) * (H - B - 6)).toFixed(1));
    });
    flush();
  });
}

function renderStrategy(report) {
  state.strategy = report.strategy;
  $("strategy").textContent = report.strategy;
  var select = $("choice");
  if (select.options.length !== report.available.length) {
    select.textContent = "";
    report.available.forEach(function (name) { select.appendChild(new Option(name, name)); });
  }
  if (!state.dirty) select.value = report.strategy;
  $("token").hidden = !report.tokenRequired;
}

function render(report) {
  renderStrategy(report);
  renderRows(report);
  chart($("rate-chart"), report, function (b) { return b.perSecond; });
  chart($("p99-chart"), report, function (b) { return b.p99PerSecond; });
  $("window").textContent = "numbers over the last " + report.windowSeconds + " s" +
    (report.unrouted ? "; " + report.unrouted + " request(s) found no eligible backend (503)" : "");
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

function say(text, isError) {
  var m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

function poll() {
  fetch("/api/stats", { cache: "no-store" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(function (report) { render(report); })
    .catch(function (e) { $("updated").textContent = "disconnected (" + e.message + "), retrying"; })
    .then(function () { setTimeout(poll, 1000); });
}

$("choice").addEventListener("change", function () { state.dirty = true; });

$("switch").addEventListener("submit", function (event) {
  event.preventDefault();
  if (state.pending) return;
  state.pending = true;
  var headers = { "content-type": "application/json" };
  var token = $("token").value;
  if (token) headers.authorization = "Bearer " + token;
  var wanted = $("choice").value;
  fetch("/api/strategy", { method: "PUT", headers: headers, body: JSON.stringify({ strategy: wanted }) })
    .then(function (r) {
      return r.text().then(function (text) {
        if (r.status === 401) return say("the admin token is missing or wrong", true);
        if (!r.ok) return say("switch failed: " + text.trim(), true);
        state.dirty = false;
        say("strategy is now " + JSON.parse(text).strategy, false);
      });
    })
    .catch(function (e) { say("switch failed: " + e.message, true); })
    .then(function () { state.pending = false; });
});

poll();
`;
