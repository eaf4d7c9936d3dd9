/**
 * The edge-protocol targets: HTTPS (HTTP/1.1 and, by ALPN, HTTP/2) on this proxy, NGINX and
 * Caddy in front of the same NGINX backend, all with one throwaway certificate; and WebSocket
 * tunnels on this proxy and NGINX in front of one WebSocket echo backend.
 *
 * @module
 */

import type { CertFiles } from "./cert.ts";
import { freePort } from "./procs.ts";
import {
  NGINX_PROXY_LOCATION,
  nginxUpstream,
  startLb,
  startNginx,
  type Target,
  type TargetEnv,
} from "./targets.ts";

/** A target's TLS port, where both `wrk` (HTTP/1.1) and `h2load` (h2) connect. */
export interface HttpsTarget extends Target {
  readonly port: number;
  /** Measured with HTTP/1.1 only (a byte forwarder cannot carry h2 to an HTTP/1.1 backend). */
  readonly h1Only?: boolean;
}

/** The HTTPS yardsticks' names in the report. */
export const TLS_FORWARDER_TARGET = "yardstick: TLS byte forwarder";
export const TLS_RELAY_TARGET = "yardstick: TLS byte forwarder behind a relay";

/**
 * The HTTPS yardsticks, not competitors: tools/bench/forwarder.ts terminating TLS and copying
 * bytes to the backend, with the public port its TLS listener (`relay` false, the runtime's
 * floor) or a plain TCP relay in front of it on loopback (`relay` true, the shape this proxy's
 * TLS listener must have). HTTP/1.1 only.
 */
export async function tlsForwarder(env: TargetEnv, cert: CertFiles, relay: boolean): Promise<HttpsTarget> {
  const port = freePort();
  const args = [
    "run",
    "--allow-net=127.0.0.1",
    `--allow-read=${env.dir}`,
    `${env.root}/tools/bench/forwarder.ts`,
  ];
  args.push(String(port), String(env.backendPort), "--tls", cert.certFile, cert.keyFile);
  if (relay) args.push("--relay");
  const proc = await env.procs.start(relay ? "tls_relay_forwarder" : "tls_forwarder", "deno", args, {
    port,
    cwd: env.root,
  });
  const name = relay ? TLS_RELAY_TARGET : TLS_FORWARDER_TARGET;
  return { name, url: `https://127.0.0.1:${port}/`, port, proc, h1Only: true };
}

/** This proxy with `tls: {cert, key, http2: true}`; its plain listener stays unused. */
export async function lbHttps(env: TargetEnv, cert: CertFiles): Promise<HttpsTarget> {
  const port = freePort();
  const { proc } = await startLb(env, {
    name: "lb_https",
    yaml:
      `tls: {listen: "127.0.0.1:${port}", cert: "${cert.certFile}", key: "${cert.keyFile}", http2: true}\n`,
    waitPort: port,
  });
  return { name: "lb round_robin", url: `https://127.0.0.1:${port}/`, port, proc };
}

/**
 * NGINX 1.22 (one worker) terminating TLS, HTTP/2 by ALPN, upstream keep-alive. NGINX 1.22
 * predates the `http2 on` directive (1.25.1), so `http2` is a `listen` parameter: the same thing.
 * Its defaults would stop at TLS 1.2 and let the client pick AES-256; TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 is what this proxy (rustls) and Caddy negotiate with the same clients, so
 * NGINX is set to that too: every row pays for the same cipher.
 */
export async function nginxHttps(env: TargetEnv, cert: CertFiles): Promise<HttpsTarget> {
  const port = freePort();
  const proc = await startNginx(env.dir, env.procs, {
    name: "nginx_https",
    port,
    listen: "ssl http2",
    server: `ssl_certificate ${cert.certFile};
    ssl_certificate_key ${cert.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ${NGINX_PROXY_LOCATION}`,
    http: nginxUpstream(env.backendPort),
  });
  return { name: "nginx", url: `https://127.0.0.1:${port}/`, port, proc };
}

/**
 * Caddy's `reverse_proxy` behind its own TLS with the given pair (`auto_https off`, so it never
 * tries to obtain one), HTTP/1.1 and h2 (no HTTP/3 listener); every core, as Caddy runs by default.
 */
export async function caddyHttps(env: TargetEnv, cert: CertFiles): Promise<HttpsTarget> {
  const port = freePort();
  const home = `${env.dir}/caddy_https`;
  await Deno.mkdir(home, { recursive: true });
  const conf = `${home}/Caddyfile`;
  await Deno.writeTextFile(
    conf,
    `{
  admin off
  auto_https off
  servers {
    protocols h1 h2
  }
}
https://:${port} {
  bind 127.0.0.1
  tls ${cert.certFile} ${cert.keyFile}
  reverse_proxy 127.0.0.1:${env.backendPort}
}
`,
  );
  const proc = await env.procs.start("caddy_https", "caddy", [
    "run",
    "--config",
    conf,
    "--adapter",
    "caddyfile",
  ], {
    port,
    env: { HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
  });
  return { name: "caddy", url: `https://127.0.0.1:${port}/`, port, proc };
}

/** A WebSocket target: the port a client upgrades on. */
export interface WsTarget extends Target {
  readonly port: number;
}

/**
 * Start the WebSocket echo backend (tools/bench/ws_echo_backend.ts) as its own process.
 *
 * @returns the backend as the `direct` target (its `proc` is the backend)
 */
export async function startWsBackend(env: TargetEnv): Promise<WsTarget> {
  const port = freePort();
  const script = new URL("./ws_echo_backend.ts", import.meta.url).pathname;
  const proc = await env.procs.start("ws_backend", "deno", [
    "run",
    "--allow-net=127.0.0.1",
    script,
    String(port),
  ], {
    port,
    cwd: env.root,
  });
  return { name: "direct", url: `ws://127.0.0.1:${port}/`, port, proc };
}

/** This proxy in front of the WebSocket backend on `backendPort` (any HTTP/1.1 upgrade tunnels). */
export async function lbWs(env: TargetEnv, backendPort: number, name = "lb_ws"): Promise<WsTarget> {
  const { proc, port } = await startLb(env, { name, backendPort });
  return { name: "lb round_robin", url: `ws://127.0.0.1:${port}/`, port, proc };
}

/** NGINX (one worker) passing WebSocket upgrades to the backend on `backendPort`. */
export async function nginxWs(env: TargetEnv, backendPort: number, name = "nginx_ws"): Promise<WsTarget> {
  const port = freePort();
  const proc = await startNginx(env.dir, env.procs, {
    name,
    port,
    server: `location / {
      proxy_pass http://127.0.0.1:${backendPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }`,
  });
  return { name: "nginx", url: `ws://127.0.0.1:${port}/`, port, proc };
}
