import { deepStrictEqual, ok } from "node:assert/strict";
import { BufferedConn } from "../../../lib/http1/mod.ts";
import { representations } from "../../_util/strings.ts";

/** A loopback pair: the far end to write with, and our end wrapped in a BufferedConn. */
async function pair(): Promise<{ far: Deno.Conn; near: BufferedConn; close: () => void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const far = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
  const near = new BufferedConn(await accepted, 64 * 1024, 1024);
  listener.close();
  return { far, near, close: () => (far.close(), near.close()) };
}

/** Read until at least `n` bytes are buffered. */
async function fill(c: BufferedConn, n: number): Promise<void> {
  while (c.buffered < n) ok(await c.readAhead(), "the peer closed early");
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("take: copies stay intact when the read buffer is reused and when later takes follow", async () => {
  const { far, near, close } = await pair();
  try {
    await far.write(bytes("abcdefgh"));
    await fill(near, 8);
    const a = near.take(3);
    const b = near.take(5);
    // The buffer is empty again: the next read lands where "abc" was.
    await far.write(bytes("XYZ"));
    await fill(near, 3);
    const c = near.take(3);
    deepStrictEqual([text(a), text(b), text(c)], ["abc", "defgh", "XYZ"]);
    a[0] = 0x21;
    deepStrictEqual([text(a), text(b), text(c)], ["!bc", "defgh", "XYZ"]);
  } finally {
    close();
  }
});

Deno.test("take: hundreds of small copies across several slabs, and a large one, each keep their bytes", async () => {
  const { far, near, close } = await pair();
  try {
    const parts: string[] = [];
    for (let i = 0; i < 300; i++) parts.push(String(i).padStart(3, "0").repeat(33) + "\n"); // 100 bytes each
    const large = "L".repeat(5000);
    const taken: Uint8Array[] = [];
    for (let round = 0; round < 3; round++) {
      await far.write(bytes(parts.slice(round * 100, round * 100 + 100).join("")));
      await fill(near, 100 * 100);
      for (let i = 0; i < 100; i++) taken.push(near.take(100));
    }
    await far.write(bytes(large));
    await fill(near, large.length);
    const big = near.take(large.length);
    deepStrictEqual(taken.map(text), parts);
    deepStrictEqual(text(big), large);
  } finally {
    close();
  }
});

Deno.test("release: hands a tunnel the bytes buffered after the head, and drops its buffer", async () => {
  const { far, near, close } = await pair();
  try {
    await far.write(bytes("GET / HTTP/1.1\r\n\r\nhello"));
    await fill(near, 23);
    near.take(18); // the head, consumed by the request's parser
    deepStrictEqual(text((await near.release())!), "hello");
    deepStrictEqual(near.buffered, 0);
    // From here the connection is read directly.
    await far.write(bytes("more"));
    const buf = new Uint8Array(8);
    const n = await near.conn.read(buf);
    deepStrictEqual(text(buf.subarray(0, n!)), "more");
  } finally {
    close();
  }
});

Deno.test("release: waits for a read already pending (the listener keeps one) and hands over its bytes", async () => {
  const { far, near, close } = await pair();
  try {
    void near.readAhead();
    await far.write(bytes("late"));
    deepStrictEqual(text((await near.release())!), "late");
  } finally {
    close();
  }
});

Deno.test("release: null when nothing is buffered and the peer has closed", async () => {
  const { far, near } = await pair();
  try {
    void near.readAhead();
    far.close();
    deepStrictEqual(await near.release(), null);
  } finally {
    near.close();
  }
});

Deno.test("putHead: a head from strings of every representation arrives byte for byte, grown past its first buffer", async () => {
  const { far, near, close } = await pair();
  try {
    const parts = Object.values(representations());
    let want = "";
    near.beginHead();
    for (let round = 0; round < 20; round++) {
      for (const s of parts) near.putHead(s), want += s;
    }
    near.putHead("\r\n\r\n");
    want += "\r\n\r\n";
    await near.sendHead();
    const got: number[] = [];
    const buf = new Uint8Array(4096);
    while (got.length < want.length) {
      const n = await far.read(buf);
      ok(n !== null, "closed early");
      got.push(...buf.subarray(0, n));
    }
    // One byte per char: the latin-1 char arrives as its own byte, not as UTF-8.
    deepStrictEqual(got, [...want].map((c) => c.charCodeAt(0)));
  } finally {
    close();
  }
});
