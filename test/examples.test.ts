// Every example in examples/ runs as documented (`node examples/<name>.mjs <dir>`, `.cjs` for the
// CommonJS one), importing the
// built package by its own name, and leaves exactly the records it promises in its log file.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decodedRecordsOf, type Json } from "./handlers/otlp/proto.js";
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

describe("OpenTelemetry example", () => {
  it("otlp.mjs exports over OTLP/HTTP configured only by OTEL_EXPORTER_OTLP_*; the official schema decodes it", async (t) => {
    const dir = tempDir(t);
    const bodies: { type: string | undefined; path: string | undefined; auth: unknown; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        bodies.push({
          type: req.headers["content-type"],
          path: req.url,
          auth: req.headers.authorization,
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { stdout } = await run(process.execPath, [join(ROOT, "examples", "otlp.mjs"), dir], {
      cwd: ROOT,
      timeout: 20_000,
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20example-token",
      },
    });
    assert.ok(stdout.includes(`2 records exported to ${endpoint}`), stdout);
    assert.ok(bodies.length >= 1);
    for (const request of bodies) {
      assert.equal(request.path, "/v1/logs", "the generic endpoint gets /v1/logs");
      assert.equal(request.type, "application/x-protobuf", "protobuf is the default");
      assert.equal(request.auth, "Bearer example-token", "headers from the environment, percent-decoded");
    }
    const records = bodies.flatMap((request) => decodedRecordsOf(request.type, request.body));
    const attributes = (record: Json) =>
      Object.fromEntries((record.attributes as Json[]).map((a) => [a.key, a.value]));
    const sent = records.find((r) => JSON.stringify(r.body).includes("invoice sent"))!;
    assert.deepEqual(attributes(sent).invoiceId, { stringValue: "inv-42" });
    assert.deepEqual(attributes(sent).amountCents, { intValue: "1250" });
    const failed = records.find((r) => JSON.stringify(r.body).includes("payment failed"))!;
    assert.deepEqual(attributes(failed)["exception.message"], { stringValue: "card declined" });
    assert.deepEqual(attributes(failed)["exception.type"], { stringValue: "Error" });
  });
});
