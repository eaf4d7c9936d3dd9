import { equal } from "node:assert/strict";
import { classifyError } from "../../../demo/load/errors.ts";

/** Fetch's real error for `url`. */
async function fetchError(url: string): Promise<unknown> {
  try {
    await (await fetch(url)).body?.cancel();
  } catch (error) {
    return error;
  }
  throw new Error(`fetch ${url} did not fail`);
}

Deno.test("classifyError() sorts Deno fetch failures into connect, reset and timeout", async () => {
  const probe = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = probe.addr.port;
  probe.close();
  equal(classifyError(await fetchError(`http://127.0.0.1:${port}/`)), "connect");

  const closing = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const serving = (async () => {
    for await (const conn of closing) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      conn.close();
    }
  })();
  equal(classifyError(await fetchError(`http://127.0.0.1:${closing.addr.port}/`)), "reset");
  closing.close();
  await serving.catch(() => {});

  equal(classifyError(new DOMException("slow", "TimeoutError")), "timeout");
  equal(classifyError(new Error("something else")), "other");
  equal(classifyError("a string"), "other");
});
