/**
 * Worker that parses config text off the test's thread, so a test can bound the time each
 * hostile file takes and terminate a parse that hangs.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/config.ts";

/** The worker's global scope, typed without the worker lib (checked together with window code). */
const scope = self as unknown as {
  onmessage: (e: MessageEvent<{ id: number; text: string }>) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const started = performance.now();
  let result: unknown;
  try {
    result = parseConfig(e.data.text, { env: () => undefined });
  } catch (error) {
    result = { crashed: String(error) };
  }
  scope.postMessage({ id: e.data.id, result, ms: performance.now() - started });
};
