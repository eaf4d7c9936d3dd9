/**
 * A worker isolate that is the real one (lib/server/worker.ts) except that it crashes, with an
 * uncaught error, on the first `report` question after the file `LB_TEST_CRASH_FLAG` names
 * appears (and removes it, so the worker started again after the crash does not crash too).
 *
 * @module
 */

import { runWorker } from "../../lib/server/worker.ts";
import type { ToWorker, WorkerScope } from "../../lib/cluster/mod.ts";

const scope = globalThis as unknown as WorkerScope;
runWorker(scope);
const serve = scope.onmessage!;
scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const flag = Deno.env.get("LB_TEST_CRASH_FLAG");
  if (event.data.type === "report" && flag) {
    try {
      Deno.removeSync(flag);
      setTimeout(() => {
        throw new Error("crashing on purpose");
      });
      return;
    } catch { /* no flag: serve as usual */ }
  }
  serve(event);
};
