// examples/context.mjs (docs/context.md) runs as documented and its records carry the request's
// context and its span's trace context.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readLines, tempDir } from "./helpers/processes.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

it("context.mjs: every record has its request's reqId and its span's trace context", async (t) => {
  const dir = tempDir(t);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, "examples", "context.mjs"), dir],
    {
      cwd: ROOT,
      timeout: 20_000,
    },
  );
  assert.match(stdout, /context: 2 workers x 3 requests written to /);
  const lines = readLines(join(dir, "context.log")).map(
    (line) => JSON.parse(line) as Record<string, unknown>,
  );
  assert.equal(lines.length, 12, JSON.stringify(lines.slice(0, 2)));
  const byRequest = new Map<unknown, Record<string, unknown>[]>();
  for (const line of lines) {
    assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
    assert.equal(line.trace_flags, "01");
    byRequest.set(line.reqId, [...(byRequest.get(line.reqId) ?? []), line]);
  }
  assert.deepEqual([...byRequest.keys()].sort(), ["w1-r0", "w1-r1", "w1-r2", "w2-r0", "w2-r1", "w2-r2"]);
  const traces = new Set<unknown>();
  for (const [reqId, records] of byRequest) {
    assert.deepEqual(
      records.map((r) => [r.msg, r.count ?? r.status]),
      [
        ["items loaded", 3],
        ["request done", 200],
      ],
      String(reqId),
    );
    assert.equal(records[0]!.trace_id, records[1]!.trace_id, "one span per request");
    assert.equal(String(records[0]!.name), `worker-${String(reqId)[1]}`);
    traces.add(records[0]!.trace_id);
  }
  assert.equal(traces.size, 6, "each request its own trace");
});
