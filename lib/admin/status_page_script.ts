/**
 * The status page's browser script: polls `/api/stats` every second and keeps one section per
 * service (its strategy switch, a table with drain and enable buttons per backend, a legend, the
 * rate chart and the p99 chart on a log axis, both marking strategy switches), and sends the
 * operator's changes with the admin token when one is needed.
 *
 * Written as TypeScript and checked and linted with the rest of the project; the page embeds
 * {@linkcode STATUS_PAGE_SCRIPT}: the compiled source of three self-contained functions (Deno
 * strips the types when it loads the modules), {@linkcode statusPage} here, `statusSections`
 * and `statusCharts`, so the browser gets plain JavaScript with no build step. Each uses only its
 * parameters and what browsers and Deno share (`fetch`, `setTimeout`, `clearTimeout`, `Date`,
 * `JSON`, `Math`); the page's DOM comes in as a parameter typed by the small interfaces of
 * `status_page_types.ts`. Everything is built with `textContent`, so nothing from the API is
 * ever parsed as HTML.
 *
 * @module
 */

import { statusCharts } from "./status_page_chart.ts";
import { statusSections } from "./status_page_section.ts";
import type {
  PageHost,
  PageNode,
  Report,
  SectionHandlers,
  SectionMaker,
  ServiceSection,
} from "./status_page_types.ts";

/**
 * The page's behaviour; runs in the browser once the document is parsed.
 *
 * @param host the browser's `window` (its `document`)
 * @param pollMs how often to fetch `/api/stats`
 * @param makeSection builds a service's section, `statusSections(window, statusCharts(document))`
 */
export function statusPage(
  host: Pick<PageHost, "document">,
  pollMs: number,
  makeSection: SectionMaker,
): void {
  const { document } = host;
  const sections = new Map<string, ServiceSection>();
  const $ = (id: string): PageNode => {
    const node = document.getElementById(id);
    if (!node) throw new Error(`the page has no #${id}`);
    return node;
  };

  /** Send a changing call with the token, if any; resolve to its JSON or throw a readable error. */
  const send = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const token = $("token").value;
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status === 401) {
      $("token-field").hidden = false;
      $("token").focus();
      throw new Error(token ? "the admin token is wrong" : "enter the admin token first");
    }
    let doc: Record<string, unknown> = {};
    try {
      doc = JSON.parse(text);
    } catch { /* a text answer */ }
    if (!r.ok) throw new Error(typeof doc.error === "string" ? doc.error : `HTTP ${r.status} ${text.trim()}`);
    return doc;
  };

  /** The calls a service's section makes; each refreshes the page once it is answered. */
  const handlersFor = (service: string): SectionHandlers => {
    const path = `/api/services/${encodeURIComponent(service)}`;
    const then = async (
      call: Promise<Record<string, unknown>>,
      say: (r: Record<string, unknown>) => string,
    ) => {
      try {
        return say(await call);
      } finally {
        refresh();
      }
    };
    return {
      switchStrategy: (strategy) =>
        then(send("PUT", `${path}/strategy`, { strategy }), (r) => `strategy is now ${r.strategy}`),
      setBackend: (backend, action) =>
        then(
          send("POST", `${path}/backends/${encodeURIComponent(backend)}/${action}`),
          (r) => `${backend} is now ${r.state}`,
        ),
    };
  };

  const render = (report: Report) => {
    $("token-field").hidden = !report.token_required;
    const names = new Set(report.services.map((svc) => svc.name));
    for (const [name, s] of sections) {
      if (names.has(name)) continue;
      s.root.remove();
      sections.delete(name);
    }
    const wanted = report.services.map((svc) => {
      let s = sections.get(svc.name);
      if (!s) sections.set(svc.name, s = makeSection(svc.name, handlersFor(svc.name)));
      return s.root;
    });
    // Appending moves nodes: only when the order changed, so an open select stays open.
    const main = $("services");
    const shown = [...main.querySelectorAll("section.service")];
    if (wanted.some((root, i) => shown[i] !== root)) main.append(...wanted);
    for (const svc of report.services) sections.get(svc.name)?.render(svc, report);
    $("window").textContent = `numbers over the last ${report.window_seconds} s` +
      (report.unrouted ? `; ${report.unrouted} request(s) matched no route (404)` : "");
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  let again = false;
  const poll = async () => {
    polling = true;
    try {
      const r = await fetch("/api/stats", { cache: "no-store" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      render(await r.json() as Report);
    } catch (e) {
      $("updated").textContent = `disconnected (${(e as Error).message}), retrying`;
    }
    polling = false;
    if (again) refresh();
    else timer = setTimeout(poll, pollMs);
  };
  /** Poll now (after a change) rather than at the next tick; after the current poll if one runs. */
  const refresh = () => {
    again = polling;
    if (polling) return;
    clearTimeout(timer);
    void poll();
  };

  void poll();
}

/**
 * The script body for the page's `<script>` element: the three functions, each by its own
 * source, composed and called once.
 */
export const STATUS_PAGE_SCRIPT: string = `"use strict";
{
const statusCharts = ${statusCharts.toString()};
const statusSections = ${statusSections.toString()};
(${statusPage.toString()})(window, 1000, statusSections(window, statusCharts(window.document)));
}
`;
