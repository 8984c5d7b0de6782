// Every example in examples/ runs as documented (`node examples/<name>.mjs <dir>`, `.cjs` for the
// CommonJS one), importing the
// built package by its own name, and leaves exactly the records it promises in its log file.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readLines, tempDir } from "./helpers/processes.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const run = promisify(execFile);

const EXAMPLES = [
  { script: "cluster.mjs", log: "cluster.log", names: ["worker-1", "worker-2", "worker-3"] },
  { script: "child-process.mjs", log: "child-process.log", names: ["child-1", "child-2", "child-3"] },
  { script: "worker-threads.mjs", log: "worker-threads.log", names: ["thread-1", "thread-2", "thread-3"] },
  { script: "commonjs.cjs", log: "commonjs.log", names: ["child-1", "child-2", "child-3"] },
];

describe("examples", () => {
  for (const { script, log, names } of EXAMPLES) {
    it(`${script} runs and every record lands in ${log}`, async (t) => {
      assert.ok(
        existsSync(join(ROOT, "dist", "logmux.cjs")),
        "the examples import the built package: npm run build",
      );
      const dir = tempDir(t);
      const { stdout } = await run(process.execPath, [join(ROOT, "examples", script), dir], {
        cwd: ROOT,
        timeout: 20_000,
      });
      const file = join(dir, log);
      assert.match(
        stdout,
        new RegExp(`3 \\w+ x 100 records written to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
      );
      const lines = readLines(file);
      assert.equal(lines.length, 300, lines.slice(0, 5).join("\n"));
      for (const name of names) {
        const own = lines.filter((line) => line.includes(`] ${name} - `));
        assert.equal(own.length, 100, name);
        // In order, each numbered 0..99.
        assert.deepEqual(
          own.map((line) => Number(/(\d+)(?: above threshold)?$/.exec(line)![1])),
          Array.from({ length: 100 }, (_, i) => i),
          name,
        );
      }
      if (script === "child-process.mjs" || script === "commonjs.cjs") {
        assert.equal(lines.filter((line) => line.includes("[WARNING]")).length, 30);
      }
    });
  }
});

describe("framework examples", () => {
  const FRAMEWORKS = [
    { script: "fastify.mjs", log: "fastify.log", ids: /^req-\d+$/ },
    { script: "express.mjs", log: "express.log", ids: /^edge-A-\d$/ },
  ];
  for (const { script, log, ids } of FRAMEWORKS) {
    it(`${script} runs and logs each request with its id, status and response time`, async (t) => {
      const dir = tempDir(t);
      const { stdout } = await run(process.execPath, [join(ROOT, "examples", script), dir], {
        cwd: ROOT,
        timeout: 20_000,
      });
      const file = join(dir, log);
      assert.ok(stdout.includes(`3 requests logged to ${file}`), stdout);
      const lines = readLines(file).map((line) => JSON.parse(line) as Record<string, unknown>);
      const completed = lines.filter((line) => line.msg === "request completed");
      assert.equal(completed.length, 3, readLines(file).join("\n"));
      for (const line of completed) {
        assert.match(String(line.reqId), ids);
        assert.deepEqual(line.res, { statusCode: 200 });
        assert.equal(typeof line.responseTime, "number");
        const handled = lines.find((other) => other.msg === "loading order" && other.reqId === line.reqId);
        assert.ok(handled, `req.log's record for ${String(line.reqId)}`);
      }
      const urls = lines
        .map((line) => (line.req as { url?: string } | undefined)?.url)
        .filter((url) => url !== undefined);
      assert.deepEqual(urls, ["/orders/A-1", "/orders/A-2", "/orders/A-3"], "no record of /health");
    });
  }
});
