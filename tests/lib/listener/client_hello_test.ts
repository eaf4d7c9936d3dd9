import assert from "node:assert/strict";
import {
  clientHandshakeWatch,
  helloRecordLength,
  parseClientHello,
} from "../../../lib/listener/client_hello.ts";
import { captureClientHello as capture } from "../../_util/tls.ts";

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

Deno.test("clientHandshakeWatch() is done at the client's first application-data record, wherever the chunks split", async () => {
  const hello = await capture({ hostname: "localhost", alpnProtocols: ["h2"] });
  const ccs = [20, 3, 3, 0, 1, 1];
  const finished = [23, 3, 3, 0, 3, 0xaa, 0xbb, 0xcc];
  // A handshake record whose body holds a byte 23 where a header could start: only headers count.
  const tricky = [22, 3, 3, 0, 6, 23, 3, 3, 0, 1, 0];
  const stream = new Uint8Array([...hello, ...tricky, ...ccs, ...finished]);
  const doneAt = hello.length + tricky.length + ccs.length + 5; // the end of the Finished record's header
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    const watch = clientHandshakeWatch();
    let seen = 0;
    let done = false;
    for (let at = 0; at < stream.length && !done; at += size) {
      const chunk = stream.subarray(at, at + size);
      done = watch(chunk);
      seen = at + chunk.length;
    }
    assert.ok(done, `chunks of ${size}: done`);
    assert.ok(
      seen >= doneAt && seen - size < doneAt,
      `chunks of ${size}: done in the chunk holding the header`,
    );
  }
  const handshakeOnly = clientHandshakeWatch();
  assert.equal(
    handshakeOnly(new Uint8Array([...hello, ...tricky, ...ccs])),
    false,
    "no application data yet",
  );
});
