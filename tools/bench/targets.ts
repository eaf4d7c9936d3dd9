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
  await nginx(
    dir,
    procs,
    name,
    port,
    `
    location = /big { alias ${big}; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "hello\\n"; }`,
    "",
    workers,
  );
  return port;
}

/** NGINX with `workers` worker processes and no logging; `server` is the inside of the server block. */
async function nginx(
  dir: string,
  procs: ProcSet,
  name: string,
  port: number,
  server: string,
  http: string,
  workers = 1,
): Promise<Proc> {
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
    listen 127.0.0.1:${port};
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

/**
 * This project's proxy, started exactly as `deno task start` does, with `strategy`; `extra` is
 * more top-level YAML (`workers: 2`).
 */
export async function thisProxy(
  env: TargetEnv,
  strategy: string,
  name = `lb_${strategy}`,
  extra = "",
): Promise<Target> {
  const port = freePort();
  const adminPort = freePort();
  const config = `${env.dir}/${name}.yml`;
  await Deno.writeTextFile(
    config,
    `listen: "127.0.0.1:${port}"
admin: {listen: "127.0.0.1:${adminPort}"}
strategy: ${strategy}
${extra}
backends:
  - {name: b1, url: "http://127.0.0.1:${env.backendPort}"}
`,
  );
  const proc = await env.procs.start(name, "deno", [...startArgs(env.root), "--config", config], {
    port,
    cwd: env.root,
  });
  return {
    name: `lb ${strategy}`,
    url: `http://127.0.0.1:${port}/`,
    proc,
    admin: `http://127.0.0.1:${adminPort}`,
  };
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

/** NGINX as a reverse proxy: one worker, HTTP/1.1 upstream keep-alive. */
export async function nginxProxy(env: TargetEnv, workers = 1, name = "nginx"): Promise<Target> {
  const port = freePort();
  const proc = await nginx(
    env.dir,
    env.procs,
    name === "nginx" ? "nginx_proxy" : name.replaceAll(" ", "_"),
    port,
    `location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`,
    `upstream be { server 127.0.0.1:${env.backendPort}; keepalive 256; }`,
    workers,
  );
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
