/**
 * Types the status page's browser code shares: the `/api/stats` document as the page reads it,
 * and the small part of the DOM the page uses.
 *
 * The browser's DOM types cannot join the server's type check (they redefine globals Deno
 * declares differently), so the page's functions take the DOM as a parameter typed by these
 * interfaces. Types only: nothing here exists at run time, so the functions that use them stay
 * self-contained.
 *
 * @module
 */

/** One backend of one service in `GET /api/stats`, as the page reads it. */
export interface BackendRow {
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

/** One service in `GET /api/stats`, as the page reads it. */
export interface ServiceRow {
  readonly name: string;
  readonly strategy: string;
  readonly strategy_changes: readonly { from: string; to: string; seconds_ago: number }[];
  readonly backends: readonly BackendRow[];
  readonly unavailable: number;
}

/** The `GET /api/stats` document, as the page reads it. */
export interface Report {
  readonly window_seconds: number;
  readonly available: readonly string[];
  readonly token_required: boolean;
  readonly services: readonly ServiceRow[];
  readonly unrouted: number;
}

/** The event the page's listeners receive. */
export interface PageEvent {
  preventDefault(): void;
}

/** The part of a DOM element the page uses. */
export interface PageNode {
  textContent: string | null;
  className: string;
  title: string;
  hidden: boolean;
  value: string;
  readonly clientWidth: number;
  readonly dataset: Record<string, string | undefined>;
  readonly style: { background: string };
  readonly options: { readonly length: number };
  appendChild(child: PageNode): void;
  append(...children: (PageNode | string)[]): void;
  replaceChildren(...children: PageNode[]): void;
  remove(): void;
  focus(): void;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
  addEventListener(type: string, listener: (event: PageEvent) => void): void;
}

/** The part of `document` the page uses. */
export interface PageDocument {
  getElementById(id: string): PageNode | null;
  createElement(tag: string): PageNode;
  createElementNS(ns: string, tag: string): PageNode;
}

/** The part of the browser the page uses: `document`, `CSS` and `Option`. */
export interface PageHost {
  readonly document: PageDocument;
  readonly CSS: { escape(text: string): string };
  readonly Option: new (text: string, value: string) => PageNode;
}

/** One line of a chart: a backend's values per second, oldest first; null is a gap. */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

/** What {@linkcode ChartDrawer} draws into one `<svg>`. */
export interface ChartSpec {
  readonly series: readonly ChartSeries[];
  /** `log`: powers of ten in ms (latency); `linear`: from zero (rates). */
  readonly scale: "linear" | "log";
  readonly windowSeconds: number;
  /** Strategy switches to mark, by age. */
  readonly changes: readonly { readonly to: string; readonly secondsAgo: number }[];
}

/** Draws one chart; made by the self-contained `statusCharts` function. */
export type ChartDrawer = (svg: PageNode, spec: ChartSpec) => void;

/** What a section asks of the page when the operator acts; each resolves to the message to show. */
export interface SectionHandlers {
  /** Switch the section's service to `strategy`. */
  switchStrategy(strategy: string): Promise<string>;
  /** Drain or enable one of its backends. */
  setBackend(backend: string, action: "drain" | "enable"): Promise<string>;
}

/** One service's section: its element, and how a poll updates it. */
export interface ServiceSection {
  readonly root: PageNode;
  render(service: ServiceRow, report: Report): void;
}

/** Builds a service's section; made by the self-contained `statusSections` function. */
export type SectionMaker = (service: string, handlers: SectionHandlers) => ServiceSection;
