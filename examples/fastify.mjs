// fastify with logmux as its logger: the parent runs the MasterLogger (JSON lines to a file), a
// forked child serves a fastify app with a WorkerLogger as `loggerInstance`. fastify's own
// "incoming request" / "request completed" records arrive with reqId, req, res and responseTime.
// Run: node examples/fastify.mjs [directory]   (default: a new temp directory)
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fastify } from "fastify";
import { FileLogHandler, LoggerConfig, LogLevel, MasterLogger, WorkerLogger } from "logmux";

if (process.argv[2] === "--child") {
  const log = new WorkerLogger(new LoggerConfig({ path: process.argv[3] }), "api");
  const app = fastify({ loggerInstance: log });
  app.get("/orders/:id", async (request) => {
    request.log.info({ orderId: request.params.id }, "loading order"); // carries reqId
    return { id: request.params.id };
  });
  app.get("/health", { logLevel: "silent" }, async () => "ok"); // no records for health checks
  await app.listen({ port: 0, host: "127.0.0.1" });
  process.send({ port: app.server.address().port });
  await once(process, "message"); // the parent is done with its requests
  await app.close();
  await log.shutdown();
  process.disconnect();
} else {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}`, baseLevel: LogLevel.INFO });
  const file = join(dir, "fastify.log");
  const master = new MasterLogger(config, [new FileLogHandler(file, { format: "json" })]);
  await master.ready();

  const child = fork(fileURLToPath(import.meta.url), ["--child", config.path]);
  const [{ port }] = await once(child, "message");
  const ids = ["A-1", "A-2", "A-3"];
  for (const id of ids) await (await fetch(`http://127.0.0.1:${port}/orders/${id}`)).json();
  await (await fetch(`http://127.0.0.1:${port}/health`)).text();
  child.send("stop");
  await once(child, "exit");
  await master.shutdown();
  console.log(`fastify: ${ids.length} requests logged to ${file}`);
}
