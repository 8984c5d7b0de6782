// express with logmux/http's httpLogger: the parent runs the MasterLogger (JSON lines to a file),
// a forked child serves an express 5 app. One "request completed" record per request, with
// reqId, req, res and responseTime; `req.log` is a child carrying the request's id.
// Run: node examples/express.mjs [directory]   (default: a new temp directory)
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import { FileLogHandler, LoggerConfig, LogLevel, MasterLogger, WorkerLogger } from "logmux";
import { httpLogger } from "logmux/http";

if (process.argv[2] === "--child") {
  const log = new WorkerLogger(new LoggerConfig({ path: process.argv[3] }), "api");
  const app = express();
  // The id comes from the x-request-id header when the caller sends one, else a new UUID.
  app.use(httpLogger({ logger: log, responseIdHeader: "x-request-id" }));
  app.get("/orders/:id", (req, res) => {
    req.log.info("loading order", { orderId: req.params.id }); // carries reqId
    res.json({ id: req.params.id });
  });
  const server = app.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
  await once(process, "message"); // the parent is done with its requests
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await log.shutdown();
  process.disconnect();
} else {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}`, baseLevel: LogLevel.INFO });
  const file = join(dir, "express.log");
  const master = new MasterLogger(config, [new FileLogHandler(file, { format: "json" })]);
  await master.ready();

  const child = fork(fileURLToPath(import.meta.url), ["--child", config.path]);
  const [{ port }] = await once(child, "message");
  const ids = ["A-1", "A-2", "A-3"];
  for (const id of ids) {
    const res = await fetch(`http://127.0.0.1:${port}/orders/${id}`, {
      headers: { "x-request-id": `edge-${id}` },
    });
    await res.json();
  }
  child.send("stop");
  await once(child, "exit");
  await master.shutdown();
  console.log(`express: ${ids.length} requests logged to ${file}`);
}
