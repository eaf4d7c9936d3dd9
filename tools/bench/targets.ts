/**
 * The benchmark's servers: one fast NGINX backend, and the proxies compared in front of it, each
 * configured the way its own documentation recommends for a single-core reverse proxy with
 * upstream keep-alive. Configs are generated into the run's temp dir.
 *
 * @module
 */

import { freePort, type Proc, type ProcSet, run } from "./procs.ts";

/** Size of the body served at `/big` for the streaming test. */
export const BIG_BYTES = 1024 ** 3;

/** A server under test: a name and the URL the load goes to. */
export interface Target {
  readonly name: string;
  readonly url: string;
  readonly proc?: Proc;
  /** This proxy's admin listener (`http://127.0.0.1:PORT`). */
  readonly admin?: string;
}

/** What every target needs: where the temp files go, the processes, the backend's port. */
export interface TargetEnv {
  readonly dir: string;
  readonly procs: ProcSet;
  readonly backendPort: number;
  /** Repository root (for `main.ts`, `deno.json` and `node_modules/http-proxy`). */
  readonly root: string;
}

/**
 * Start the backend: one NGINX worker answering `hello\n` on every path (health checks too) and
 * a sparse file of `bigBytes` at `/big`. NGINX is far faster than any proxy in front of it, so it
 * is never what limits a measurement.
 */
export async function startBackend(
  dir: string,
  procs: ProcSet,
  bigBytes = BIG_BYTES,
  workers = 1,
  name = "backend",
): Promise<number> {
  const port = freePort();
  const big = `${dir}/${name}_big.bin`;
  await Deno.truncate(big, 0).catch(() => Deno.writeFile(big, new Uint8Array()));
  await Deno.truncate(big, bigBytes);
  await startNginx(dir, procs, {
    name,
    workers,
    port,
    server: `
    location = /big { alias ${big}; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "hello\\n"; }`,
  });
  return port;
}

/** Options for {@linkcode startNginx}. */
export interface NginxOptions {
  /** Process and prefix directory name. */
  readonly name: string;
  readonly port: number;
  /** The inside of the one `server` block, after its `listen`. */
  readonly server: string;
  /** Directives of the `http` block (upstreams, maps). @default "" */
  readonly http?: string;
  /** Parameters after the address in `listen` (`ssl http2`). @default "" */
  readonly listen?: string;
  /** `worker_processes`. @default 1 */
  readonly workers?: number;
}

/**
 * NGINX with `workers` worker processes (one by default) and no logging, its config and temp paths under `DIR/NAME/`; waits until
 * the port accepts.
 *
 * @param dir The run's temp dir.
 * @param procs Where the process is registered (stopped when the run ends).
 * @param options Name, port and server block; see {@linkcode NginxOptions}.
 * @returns the master process
 */
export async function startNginx(dir: string, procs: ProcSet, options: NginxOptions): Promise<Proc> {
  const { name, port, server, http = "", listen = "", workers = 1 } = options;
  const prefix = `${dir}/${name}`;
  await Deno.mkdir(prefix, { recursive: true });
  const conf = `${prefix}/nginx.conf`;
  await Deno.writeTextFile(
    conf,
    `worker_processes ${workers};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  ${http}
  server {
    listen 127.0.0.1:${port} ${listen};
    ${server}
  }
}
`,
  );
  return await procs.start(name, "nginx", ["-p", prefix, "-e", `${prefix}/error.log`, "-c", conf], { port });
}

/** The backend itself, no proxy: the ceiling every proxy is compared against. */
export function direct(env: TargetEnv): Target {
  return { name: "direct", url: `http://127.0.0.1:${env.backendPort}/` };
}

/** The name of the byte-forwarder yardstick in the report. */
export const FORWARDER_TARGET = "yardstick: byte forwarder";

/**
 * The yardstick, not a competitor: tools/bench/forwarder.ts copies bytes between each client
 * connection and one backend connection and does nothing else, so its rate is this runtime's
 * floor for a proxy. The report gives this proxy's throughput as a ratio of it.
 */
export function forwarder(env: TargetEnv): Promise<Target> {
  return yardstick(env, "forwarder", FORWARDER_TARGET);
}

/** Start the yardstick `tools/bench/NAME.ts LISTEN_PORT BACKEND_PORT` in front of the backend. */
async function yardstick(env: TargetEnv, name: string, label: string): Promise<Target> {
  const port = freePort();
  const script = `${env.root}/tools/bench/${name}.ts`;
  const args = ["run", "--allow-net=127.0.0.1", script, String(port), String(env.backendPort)];
  const proc = await env.procs.start(name, "deno", args, { port, cwd: env.root });
  return { name: label, url: `http://127.0.0.1:${port}/`, proc };
}

/** The name of the HTTP-floor yardstick in the report. */
export const HTTP_FLOOR_TARGET = "yardstick: HTTP floor";

/**
 * The second yardstick, not a competitor: tools/bench/http_floor.ts does the least an HTTP/1.1
 * proxy does (reads each request and response head into a string, rewrites its fields, frames the
 * body by `content-length`) over one backend connection per client connection, so its rate is this
 * runtime's floor for a proxy that parses HTTP. Between the forwarder and it is what that minimum
 * HTTP work costs here; between it and this proxy, what this proxy's own features cost.
 */
export function httpFloor(env: TargetEnv): Promise<Target> {
  return yardstick(env, "http_floor", HTTP_FLOOR_TARGET);
}

/** This project's proxy, started exactly as `deno task start` does, with `strategy`. */
export async function thisProxy(
  env: TargetEnv,
  strategy: string,
  name = `lb_${strategy}`,
  variant: ProxyVariant = {},
): Promise<Target> {
  const yaml = `strategy: ${strategy}\n${variant.yaml ? `${variant.yaml}\n` : ""}`;
  const { proc, port, admin } = await startLb(env, { name, yaml, allowWrite: variant.allowWrite });
  return { name: variant.label ?? `lb ${strategy}`, url: `http://127.0.0.1:${port}/`, proc, admin };
}

/** A variant of this proxy's default config: more YAML, and a path it may write (a log file). */
export interface ProxyVariant {
  /** More top-level config (`workers: 2`). */
  readonly yaml?: string;
  readonly allowWrite?: string;
  /** The target's name in the report. @default `lb <strategy>` */
  readonly label?: string;
}

/** The name of the access-log variant in the report. */
export const ACCESS_LOG_TARGET = "lb round_robin + access log";

/** This proxy with the access log on, in JSON to a file in the run's dir (as in production). */
export function withAccessLog(env: TargetEnv): Promise<Target> {
  return thisProxy(env, "round_robin", "lb_access_log", {
    yaml: `access_log: {enabled: true, path: "${env.dir}/access.log", format: json}`,
    allowWrite: env.dir,
    label: ACCESS_LOG_TARGET,
  });
}

/** Options for {@linkcode startLb}. */
export interface LbOptions {
  /** Process and config file name. */
  readonly name: string;
  /** More top-level config (YAML lines). @default "" */
  readonly yaml?: string;
  /** The one backend's port on 127.0.0.1. @default env.backendPort */
  readonly backendPort?: number;
  /** The port to wait for (the TLS listener's, say). @default the plain listener's */
  readonly waitPort?: number;
  /** A path the proxy may write (an access log). @default none */
  readonly allowWrite?: string;
}

/**
 * Start this project's proxy as `deno task start` does, in front of one backend, with a config
 * written to `DIR/NAME.yml`; waits until it accepts.
 *
 * @param env The run's temp dir, processes and root.
 * @param options Name, extra config and backend; see {@linkcode LbOptions}.
 * @returns the process, its plain listener's port and its admin listener's URL
 */
export async function startLb(
  env: TargetEnv,
  options: LbOptions,
): Promise<{ proc: Proc; port: number; admin: string }> {
  const { name, yaml = "", backendPort = env.backendPort } = options;
  const port = freePort();
  const adminPort = freePort();
  const config = `${env.dir}/${name}.yml`;
  await Deno.writeTextFile(
    config,
    `listen: "127.0.0.1:${port}"
admin: {listen: "127.0.0.1:${adminPort}"}
${yaml}backends:
  - {name: b1, url: "http://127.0.0.1:${backendPort}"}
`,
  );
  const args = startArgs(env.root);
  // Permissions go before the script name, which ends the task's words.
  if (options.allowWrite) args.splice(args.length - 1, 0, `--allow-write=${options.allowWrite}`);
  const proc = await env.procs.start(name, "deno", [...args, "--config", config], {
    port: options.waitPort ?? port,
    cwd: env.root,
  });
  return { proc, port, admin: `http://127.0.0.1:${adminPort}` };
}

/** `deno run ... main.ts` as the `start` task in deno.json spells it (permissions and flags). */
export function startArgs(root: string): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  const words = String(deno.tasks.start).split(/\s+/).filter(Boolean);
  if (words[0] !== "deno") throw new Error(`Cannot read the start task: ${deno.tasks.start}`);
  return words.slice(1);
}

/** Whether `main.ts --check` accepts `strategy` (it may not be registered in this tree). */
export async function strategyAvailable(env: TargetEnv, strategy: string): Promise<boolean> {
  const config = `${env.dir}/check_${strategy}.yml`;
  await Deno.writeTextFile(
    config,
    `strategy: ${strategy}\nbackends:\n  - {name: b1, url: "http://127.0.0.1:${env.backendPort}"}\n`,
  );
  try {
    await run("deno", [...startArgs(env.root), "--config", config, "--check"], env.root);
    return true;
  } catch {
    return false;
  }
}

/** NGINX's upstream block `be` with keep-alive connections to the backend on `port`. */
export function nginxUpstream(port: number): string {
  return `upstream be { server 127.0.0.1:${port}; keepalive 256; }`;
}

/** NGINX's proxying location: HTTP/1.1 to the upstream `be`, keep-alive (no `Connection: close`). */
export const NGINX_PROXY_LOCATION = `location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`;

/** NGINX as a reverse proxy: `workers` worker processes (one by default), HTTP/1.1 upstream keep-alive. */
export async function nginxProxy(env: TargetEnv, workers = 1, name = "nginx"): Promise<Target> {
  const port = freePort();
  const proc = await startNginx(env.dir, env.procs, {
    name: name === "nginx" ? "nginx_proxy" : name.replaceAll(" ", "_"),
    port,
    server: NGINX_PROXY_LOCATION,
    http: nginxUpstream(env.backendPort),
    workers,
  });
  return { name, url: `http://127.0.0.1:${port}/`, proc };
}

/** HAProxy in HTTP mode with one thread; it reuses idle server connections by default. */
export async function haproxy(env: TargetEnv): Promise<Target> {
  const port = freePort();
  const conf = `${env.dir}/haproxy.cfg`;
  await Deno.writeTextFile(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server s1 127.0.0.1:${env.backendPort}
`,
  );
  const proc = await env.procs.start("haproxy", "haproxy", ["-db", "-f", conf], { port });
  return { name: "haproxy", url: `http://127.0.0.1:${port}/`, proc };
}

/** Caddy's `reverse_proxy` (Go; uses every core, as it does by default). */
export async function caddy(env: TargetEnv): Promise<Target> {
  const port = freePort();
  const home = `${env.dir}/caddy`;
  await Deno.mkdir(home, { recursive: true });
  const conf = `${home}/Caddyfile`;
  await Deno.writeTextFile(
    conf,
    `{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  reverse_proxy 127.0.0.1:${env.backendPort}
}
`,
  );
  const proc = await env.procs.start("caddy", "caddy", ["run", "--config", conf, "--adapter", "caddyfile"], {
    port,
    env: { HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
  });
  return { name: "caddy", url: `http://127.0.0.1:${port}/`, proc };
}

/** The npm `http-proxy` package on node, with a keep-alive agent to the backend. */
export async function nodeHttpProxy(env: TargetEnv): Promise<Target> {
  const port = freePort();
  const script = `${env.dir}/http_proxy.cjs`;
  const pkg = `${env.root}/node_modules/http-proxy`;
  await Deno.writeTextFile(
    script,
    `const http = require("http");
const httpProxy = require(${JSON.stringify(pkg)});
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const proxy = httpProxy.createProxyServer({ target: "http://127.0.0.1:${env.backendPort}", agent });
proxy.on("error", (e, req, res) => { res.writeHead(502); res.end(); });
http.createServer((req, res) => proxy.web(req, res)).listen(${port}, "127.0.0.1");
`,
  );
  const proc = await env.procs.start("node_http_proxy", "node", [script], { port });
  return { name: "node http-proxy", url: `http://127.0.0.1:${port}/`, proc };
}
