import { deepEqual } from "node:assert/strict";

const read = (path: string) => Deno.readTextFileSync(new URL(`../../${path}`, import.meta.url));

Deno.test("the proxy image runs main.ts exactly as `deno task start` does (permissions and V8 flags)", () => {
  const task = String(JSON.parse(read("deno.json")).tasks.start).split(/\s+/).filter(Boolean);
  const cmd = read("docker/lb.Dockerfile").split("\n").find((line) => line.startsWith("CMD "));
  deepEqual(
    JSON.parse(cmd!.slice(4)),
    task.slice(1),
    "docker/lb.Dockerfile CMD against deno.json's start task",
  );
});
