import assert from "node:assert/strict";
import { helloRecordLength, parseClientHello } from "../../../lib/listener/client_hello.ts";

/** The first record a real TLS client (Deno's rustls) sends, captured on a plain socket. */
async function capture(options: { hostname: string; alpnProtocols?: string[] }): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.connectTls({ ...options, port: listener.addr.port }).catch(() => undefined);
  const conn = await listener.accept();
  let bytes = new Uint8Array(0);
  while (bytes.length < 5 || bytes.length < (helloRecordLength(bytes) as number)) {
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    if (n === null) break;
    bytes = new Uint8Array([...bytes, ...buf.subarray(0, n)]);
  }
  conn.close();
  listener.close();
  (await client)?.close();
  return bytes;
}

Deno.test("parseClientHello() reads the server name and the ALPN list of a real ClientHello", async () => {
  const record = await capture({ hostname: "localhost", alpnProtocols: ["h2", "http/1.1"] });
  const length = helloRecordLength(record);
  assert.equal(typeof length, "number");
  assert.deepEqual(parseClientHello(record.subarray(0, length as number)), {
    serverName: "localhost",
    alpn: ["h2", "http/1.1"],
  });
  const plain = await capture({ hostname: "localhost" });
  assert.deepEqual(parseClientHello(plain)?.alpn, [], "no ALPN extension: an empty list");
});

Deno.test("helloRecordLength() and parseClientHello() refuse what is not a ClientHello", () => {
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\n");
  assert.equal(helloRecordLength(http), "not tls");
  assert.equal(helloRecordLength(new Uint8Array([22, 3, 1, 0, 0])), "not tls", "an empty record");
  assert.equal(
    helloRecordLength(new Uint8Array([22, 3, 1, 0xff, 0xff])),
    "not tls",
    "longer than a record may be",
  );
  assert.equal(helloRecordLength(new Uint8Array([22, 3, 1, 1, 0])), 5 + 256);
  assert.equal(parseClientHello(new Uint8Array([22, 3, 1, 0, 4, 2, 0, 0, 0])), undefined, "a ServerHello");
  assert.equal(parseClientHello(new Uint8Array([22, 3, 1, 0, 4, 1, 0, 0, 0])), undefined, "truncated");
});
