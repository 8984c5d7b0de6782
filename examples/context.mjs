// Request context and OpenTelemetry in a node:cluster: each worker serves HTTP, runs every request
// inside withLogContext({ reqId }) and an active span, and its records carry reqId, trace_id,
// span_id and trace_flags without passing a logger around. The primary writes JSON lines.
// Run: node examples/context.mjs [directory]   (default: a new temp directory)
import cluster from "node:cluster";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import {
  FileLogHandler,
  LoggerConfig,
  logContextMixin,
  MasterLogger,
  WorkerLogger,
  withLogContext,
} from "logmux";

const WORKERS = 2;
const REQUESTS = 3;

if (cluster.isPrimary) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
  const file = join(dir, "context.log");
  const master = new MasterLogger(config, [new FileLogHandler(file, { format: "json" })]);
  await master.ready();
  const exits = Array.from({ length: WORKERS }, () => {
    const worker = cluster.fork({ LOGMUX_PATH: config.path });
    return new Promise((resolve) => worker.on("exit", resolve));
  });
  await Promise.all(exits);
  await master.shutdown();
  console.log(`context: ${WORKERS} workers x ${REQUESTS} requests written to ${file}`);
} else {
  // The application's tracing setup (an exporter would be added here); logmux only reads the span.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  const tracer = trace.getTracer("example");

  const log = new WorkerLogger(
    new LoggerConfig({ path: process.env.LOGMUX_PATH }),
    `worker-${cluster.worker.id}`,
    { mixin: logContextMixin, traceContext: true },
  );

  async function loadItems() {
    await delay(2);
    log.info("items loaded", { count: 3 }); // deep in the call tree, no logger or id passed
  }

  const server = createServer((req, res) => {
    const reqId = req.headers["x-request-id"] ?? "none";
    withLogContext({ reqId }, () =>
      tracer.startActiveSpan(`${req.method} ${req.url}`, async (span) => {
        await loadItems();
        res.end("ok");
        log.info("request done", { status: 200 });
        span.end();
      }),
    );
  });
  // exclusive: each cluster worker its own port, not one shared through the primary.
  await new Promise((resolve) => server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, resolve));
  const { port } = server.address();
  for (let i = 0; i < REQUESTS; i++) {
    const headers = { "x-request-id": `w${cluster.worker.id}-r${i}` };
    await (await fetch(`http://127.0.0.1:${port}/items`, { headers })).text();
  }
  server.close();
  await log.shutdown();
  cluster.worker.disconnect();
}
