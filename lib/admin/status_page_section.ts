/**
 * One service's section of the status page: its name and strategy switch, a table with a drain
 * or enable button per backend, a legend, and the rate and p99 charts.
 *
 * Like the page's script, {@linkcode statusSections} is self-contained: the page embeds its
 * source and calls it with `window` and the chart drawer (see `status_page_script.ts`). It builds
 * everything with `textContent` and attributes, never from HTML.
 *
 * @module
 */

import type {
  BackendRow,
  ChartDrawer,
  PageHost,
  PageNode,
  Report,
  SectionHandlers,
  SectionMaker,
  ServiceRow,
} from "./status_page_types.ts";

/**
 * Make the section factory.
 *
 * @param host the browser's `window` (its `document`, `CSS` and `Option`)
 * @param draw the chart drawer, `statusCharts(document)`
 * @returns a function that builds one service's section; its `render` updates it from a poll.
 */
export function statusSections(host: PageHost, draw: ChartDrawer): SectionMaker {
  const { document, CSS, Option } = host;
  const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#ee46bc", "#7a5af8", "#f04438", "#06aed4", "#a15c07"];
  const COLUMNS = ["backend", "state", "in flight", "req/s", "share", "p50", "p99", "errors", ""];
  const FIELDS = ["name", "state", "in_flight", "rate", "share", "p50", "p99", "errors", "action"];
  const h = (tag: string, props: Record<string, string> = {}, ...children: (PageNode | string)[]) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) node.setAttribute(k, v);
    node.append(...children);
    return node;
  };
  const ms = (v: number | null): string => {
    if (v === null) return "–";
    if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
    return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
  };
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

  return (service: string, handlers: SectionHandlers) => {
    /** The service's backends get the palette in order of appearance; a name keeps its colour. */
    const colors = new Map<string, string>();
    const colorOf = (backend: string): string => {
      let c = colors.get(backend);
      if (!c) colors.set(backend, c = COLORS[colors.size % COLORS.length]);
      return c;
    };
    const swatch = (backend: string) => {
      const node = h("span", { class: "swatch" });
      node.style.background = colorOf(backend);
      return node;
    };
    const strategy = h("strong");
    const choice = h("select", { "aria-label": `strategy for ${service}` });
    const form = h(
      "form",
      {},
      h("label", {}, "switch to ", choice),
      h("button", { type: "submit" }, "apply"),
    );
    const message = h("span", { class: "message", role: "status" });
    const summary = h("span", { class: "muted" });
    const rows = h("tbody");
    const legend = h("div", { class: "legend", "aria-label": `legend for ${service}` });
    const figure = (chart: string, caption: string) => {
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", `${caption} of ${service}`);
      svg.dataset.chart = chart;
      return { svg, node: h("figure", {}, h("figcaption", {}, caption), svg) };
    };
    const rate = figure("rate", "requests per second");
    const p99 = figure("p99", "p99 latency (log scale)");
    const root = h(
      "section",
      { class: "service", "data-service": service },
      h(
        "div",
        { class: "service-head" },
        h("h2", {}, service),
        h("span", {}, "strategy ", strategy),
        form,
        message,
      ),
      h(
        "div",
        { class: "table-wrap" },
        h("table", {}, h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", {}, c)))), rows),
      ),
      h("div", { class: "charts-head" }, legend, summary),
      h("div", { class: "charts" }, rate.node, p99.node),
    );

    /** The operator picked a strategy not applied yet: polls leave the choice alone. */
    let dirty = false;
    const busy = new Set<string>();
    /** Run one call per `key` at a time and say how it went. */
    const act = async (key: string, call: () => Promise<string>) => {
      if (busy.has(key)) return;
      busy.add(key);
      try {
        message.textContent = await call();
        message.className = "message";
      } catch (e) {
        message.textContent = (e as Error).message;
        message.className = "message error";
      } finally {
        busy.delete(key);
      }
    };
    choice.addEventListener("change", () => dirty = true);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void act("strategy", async () => {
        const said = await handlers.switchStrategy(choice.value);
        dirty = false;
        return said;
      });
    });

    const makeRow = (backend: string): PageNode => {
      const row = h("tr", { "data-backend": backend });
      // The numbers carry their column's name, which a narrow window shows instead of the header.
      FIELDS.forEach((f, i) => {
        row.appendChild(
          h("td", i >= 2 && COLUMNS[i] ? { "data-field": f, "data-label": COLUMNS[i] } : { "data-field": f }),
        );
      });
      const button = h("button", { type: "button", class: "action" });
      button.addEventListener("click", () => {
        const action = button.dataset.action === "enable" ? "enable" : "drain";
        void act(`backend ${backend}`, () => handlers.setBackend(backend, action));
      });
      row.querySelector("td[data-field=action]")?.appendChild(button);
      return row;
    };

    const renderRow = (b: BackendRow) => {
      let found = rows.querySelector(`tr[data-backend="${CSS.escape(b.name)}"]`);
      if (!found) rows.appendChild(found = makeRow(b.name));
      const row = found;
      const cell = (field: string) => row.querySelector(`td[data-field=${field}]`)!;
      cell("name").replaceChildren(swatch(b.name), h("span", {}, b.name));
      cell("name").title = b.url;
      cell("state").textContent = b.state;
      cell("state").className = `state-${b.state}`;
      cell("in_flight").textContent = String(b.in_flight);
      cell("rate").textContent = b.rate.toFixed(1);
      cell("share").textContent = pct(b.share);
      cell("p50").textContent = ms(b.p50);
      cell("p99").textContent = ms(b.p99);
      cell("errors").textContent = pct(b.error_ratio);
      // Draining and ejected backends are the ones an operator brings back.
      const action = b.state === "draining" || b.state === "ejected" ? "enable" : "drain";
      const button = cell("action").querySelector("button")!;
      button.dataset.action = action;
      button.textContent = action;
      button.title = action === "drain"
        ? `stop new requests to ${b.name}; in-flight ones finish`
        : `give ${b.name} traffic again once its health checks pass`;
    };

    const render = (svc: ServiceRow, report: Report) => {
      strategy.textContent = svc.strategy;
      if (choice.options.length !== report.available.length) {
        choice.replaceChildren(...report.available.map((name) => new Option(name, name)));
      }
      if (!dirty) choice.value = svc.strategy;
      const names = new Set(svc.backends.map((b) => b.name));
      for (const b of svc.backends) renderRow(b);
      for (const row of [...rows.querySelectorAll("tr")]) {
        if (!names.has(row.dataset.backend ?? "")) row.remove();
      }
      const changes = svc.strategy_changes.map((c) => ({ to: c.to, secondsAgo: c.seconds_ago }));
      const items = svc.backends.map((b) =>
        h("span", { class: "legend-item", "data-backend": b.name }, swatch(b.name), b.name)
      );
      if (changes.length > 0) {
        items.push(h("span", { class: "legend-item legend-change" }, "strategy switch"));
      }
      legend.replaceChildren(...items);
      const healthy = svc.backends.filter((b) => b.state === "healthy").length;
      summary.textContent = `${healthy} of ${svc.backends.length} healthy` +
        (svc.unavailable ? `; ${svc.unavailable} request(s) found no eligible backend (503)` : "");
      const series = (pick: (b: BackendRow) => readonly (number | null)[]) =>
        svc.backends.map((b) => ({ name: b.name, color: colorOf(b.name), values: pick(b) }));
      const windowSeconds = report.window_seconds;
      draw(rate.svg, { series: series((b) => b.per_second), scale: "linear", windowSeconds, changes });
      draw(p99.svg, { series: series((b) => b.p99_per_second), scale: "log", windowSeconds, changes });
    };
    return { root, render };
  };
}
