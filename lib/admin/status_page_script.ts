/**
 * The status page's browser script: polls `/api/stats` every second, renders one table row per
 * backend and two SVG line charts, and drives the strategy switch.
 *
 * Written as TypeScript and checked and linted with the rest of the project; the page embeds
 * {@linkcode STATUS_PAGE_SCRIPT}, the compiled function's own source (Deno strips the types
 * when it loads this module), so the browser gets plain JavaScript with no build step. The
 * function is self-contained: it uses only its parameters and `fetch`, `setTimeout` and `Date`,
 * which browsers and Deno share. The page's DOM comes in as a parameter typed by the small
 * interfaces below, the part of the DOM it uses: the browser's DOM types cannot join the
 * server's type check (they redefine globals Deno declares differently). It builds the DOM with
 * `textContent` only, so nothing from the API is ever parsed as HTML.
 *
 * @module
 */

/** One backend row of `GET /api/stats`, as the page reads it. */
interface BackendRow {
  readonly name: string;
  readonly url: string;
  readonly state: string;
  readonly in_flight: number;
  readonly rate: number;
  readonly share: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly error_ratio: number;
  readonly per_second: readonly number[];
  readonly p99_per_second: readonly (number | null)[];
}

/** The `GET /api/stats` document (its first service), as the page reads it. */
interface Report {
  readonly service: string;
  readonly window_seconds: number;
  readonly strategy: string;
  readonly available: readonly string[];
  readonly token_required: boolean;
  readonly backends: readonly BackendRow[];
  readonly unrouted: number;
}

/** The part of a DOM element the page uses. */
interface PageNode {
  textContent: string | null;
  className: string;
  title: string;
  hidden: boolean;
  value: string;
  readonly dataset: Record<string, string | undefined>;
  readonly style: { background: string };
  readonly options: { readonly length: number };
  appendChild(child: PageNode): void;
  append(...children: PageNode[]): void;
  replaceChildren(): void;
  remove(): void;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void;
}

/** The part of the browser the page uses: `document`, `CSS` and `Option`. */
export interface PageHost {
  readonly document: {
    getElementById(id: string): PageNode | null;
    createElement(tag: string): PageNode;
    createElementNS(ns: string, tag: string): PageNode;
    createTextNode(text: string): PageNode;
  };
  readonly CSS: { escape(text: string): string };
  readonly Option: new (text: string, value: string) => PageNode;
}

/**
 * The page's behaviour; runs in the browser once the document is parsed.
 *
 * @param host the browser's `window` (its `document`, `CSS` and `Option`)
 * @param pollMs how often to fetch `/api/stats`
 */
export function statusPage(host: PageHost, pollMs: number): void {
  const { document, CSS, Option } = host;
  const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#ee46bc", "#7a5af8", "#f04438", "#06aed4", "#a15c07"];
  const SVG_NS = "http://www.w3.org/2000/svg";
  const state = {
    service: "",
    strategy: "",
    dirty: false,
    pending: false,
    colors: new Map<string, string>(),
  };
  const $ = (id: string): PageNode => {
    const node = document.getElementById(id);
    if (!node) throw new Error(`the page has no #${id}`);
    return node;
  };

  const colorOf = (name: string): string => {
    let c = state.colors.get(name);
    if (!c) state.colors.set(name, c = COLORS[state.colors.size % COLORS.length]);
    return c;
  };
  const ms = (v: number | null): string => {
    if (v === null) return "–";
    if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
    return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
  };
  const axis = (v: number) => v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

  const cell = (row: PageNode, field: string): PageNode => {
    let td = row.querySelector(`td[data-field=${field}]`);
    if (!td) {
      td = document.createElement("td");
      td.dataset.field = field;
      row.appendChild(td);
    }
    return td;
  };

  const renderRows = (report: Report) => {
    const body = $("rows");
    const keep = new Set<string>();
    for (const b of report.backends) {
      keep.add(b.name);
      let row = body.querySelector(`tr[data-backend="${CSS.escape(b.name)}"]`);
      if (!row) {
        row = document.createElement("tr");
        row.dataset.backend = b.name;
        const name = cell(row, "name");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = colorOf(b.name);
        name.append(swatch, document.createTextNode(b.name));
        name.title = b.url;
        body.appendChild(row);
      }
      const st = cell(row, "state");
      st.textContent = b.state;
      st.className = `state-${b.state}`;
      cell(row, "in_flight").textContent = String(b.in_flight);
      cell(row, "rate").textContent = b.rate.toFixed(1);
      cell(row, "share").textContent = pct(b.share);
      cell(row, "p50").textContent = ms(b.p50);
      cell(row, "p99").textContent = ms(b.p99);
      cell(row, "errors").textContent = pct(b.error_ratio);
    }
    for (const row of [...body.querySelectorAll("tr")]) {
      if (!keep.has(row.dataset.backend ?? "")) row.remove();
    }
  };

  const el = (name: string, attrs: Record<string, string | number>, text?: string): PageNode => {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };

  /** Draw one polyline per backend; gaps (null) break the line. */
  const chart = (svg: PageNode, report: Report, pick: (b: BackendRow) => readonly (number | null)[]) => {
    const W = 400, H = 160, L = 34, B = 14;
    let max = 0;
    for (const b of report.backends) for (const v of pick(b)) if (v !== null && v > max) max = v;
    max = max > 0 ? max * 1.1 : 1;
    svg.replaceChildren();
    for (const f of [0, 0.5, 1]) {
      const y = H - B - f * (H - B - 6);
      svg.appendChild(el("line", { x1: L, x2: W, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: 2, y: y + 3 }, axis(max * f)));
    }
    svg.appendChild(el("text", { x: L, y: H - 2 }, `-${report.window_seconds} s`));
    svg.appendChild(el("text", { x: W - 22, y: H - 2 }, "now"));
    for (const b of report.backends) {
      const values = pick(b);
      const step = (W - L) / Math.max(1, values.length - 1);
      let points: string[] = [];
      const flush = () => {
        if (points.length > 1) {
          svg.appendChild(el("polyline", { points: points.join(" "), stroke: colorOf(b.name) }));
        }
        points = [];
      };
      values.forEach((v, i) => {
        if (v === null) return flush();
        points.push(`${(L + i * step).toFixed(1)},${(H - B - (v / max) * (H - B - 6)).toFixed(1)}`);
      });
      flush();
    }
  };

  const renderStrategy = (report: Report) => {
    state.strategy = report.strategy;
    $("strategy").textContent = report.strategy;
    const select = $("choice");
    if (select.options.length !== report.available.length) {
      select.textContent = "";
      for (const name of report.available) select.appendChild(new Option(name, name));
    }
    if (!state.dirty) select.value = report.strategy;
    $("token").hidden = !report.token_required;
  };

  const render = (report: Report) => {
    renderStrategy(report);
    renderRows(report);
    chart($("rate-chart"), report, (b) => b.per_second);
    chart($("p99-chart"), report, (b) => b.p99_per_second);
    $("window").textContent = `numbers over the last ${report.window_seconds} s` +
      (report.unrouted ? `; ${report.unrouted} request(s) found no eligible backend (503)` : "");
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  const say = (text: string, isError: boolean) => {
    const m = $("message");
    m.textContent = text;
    m.className = isError ? "error" : "";
  };

  const poll = async () => {
    try {
      const r = await fetch("/api/stats", { cache: "no-store" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const doc = await r.json() as {
        window_seconds: number;
        available: string[];
        token_required: boolean;
        services: { name: string; strategy: string; backends: BackendRow[]; unavailable: number }[];
      };
      const svc = doc.services[0];
      state.service = svc.name;
      render({
        ...doc,
        service: svc.name,
        strategy: svc.strategy,
        backends: svc.backends,
        unrouted: svc.unavailable,
      });
    } catch (e) {
      $("updated").textContent = `disconnected (${(e as Error).message}), retrying`;
    }
    setTimeout(poll, pollMs);
  };

  $("choice").addEventListener("change", () => state.dirty = true);
  $("switch").addEventListener("submit", async (event: { preventDefault(): void }) => {
    event.preventDefault();
    if (state.pending) return;
    state.pending = true;
    const headers: Record<string, string> = { "content-type": "application/json" };
    const token = $("token").value;
    if (token) headers.authorization = `Bearer ${token}`;
    const wanted = $("choice").value;
    try {
      const r = await fetch(`/api/services/${encodeURIComponent(state.service)}/strategy`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ strategy: wanted }),
      });
      const text = await r.text();
      if (r.status === 401) say("the admin token is missing or wrong", true);
      else if (!r.ok) say(`switch failed: ${text.trim()}`, true);
      else {
        state.dirty = false;
        say(`strategy is now ${JSON.parse(text).strategy}`, false);
      }
    } catch (e) {
      say(`switch failed: ${(e as Error).message}`, true);
    } finally {
      state.pending = false;
    }
  });

  void poll();
}

/** The script body for the page's `<script>` element: the function above, called once. */
export const STATUS_PAGE_SCRIPT: string = `"use strict";\n(${statusPage.toString()})(window, 1000);\n`;
