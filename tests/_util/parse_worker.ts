/**
 * Worker that parses config text off the test's thread, so a test can bound the time each
 * hostile file takes and terminate a parse that hangs.
 *
 * @module
 */

import { parseConfig } from "../../lib/config.ts";

self.onmessage = (e: MessageEvent<{ id: number; text: string }>) => {
  const started = performance.now();
  let result: unknown;
  try {
    result = parseConfig(e.data.text, { env: () => undefined });
  } catch (error) {
    result = { crashed: String(error) };
  }
  self.postMessage({ id: e.data.id, result, ms: performance.now() - started });
};
