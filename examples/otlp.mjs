// OpenTelemetry export: a master whose OtlpLogHandler is configured the way the OpenTelemetry
// SDKs are, from the standard OTEL_EXPORTER_OTLP_* variables (docs/otlp.md), and a forked worker
// that logs a structured record and an error. Point it at a Collector's OTLP/HTTP receiver:
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node examples/otlp.mjs [directory]
import { fork } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LoggerConfig, MasterLogger, OtlpLogHandler, WorkerLogger } from "logmux";

if (process.argv[2] !== "--worker") {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "logmux-"));
  const config = new LoggerConfig({ path: `ipc://${join(dir, "log.sock")}` });
  // Endpoint, headers, protocol and timeout come from the environment; the service name from here.
  const otlp = new OtlpLogHandler({ serviceName: "billing" });
  const master = new MasterLogger(config, [otlp]);
  await master.ready();
  const child = fork(new URL(import.meta.url).pathname, ["--worker", dir]);
  await new Promise((resolve) => child.once("exit", resolve));
  await master.shutdown();
  console.log(`${otlp.stats.sent} records exported to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
} else {
  const config = new LoggerConfig({ path: `ipc://${join(process.argv[3], "log.sock")}` });
  const log = new WorkerLogger(config, "billing-worker");
  log.info("invoice sent", { invoiceId: "inv-42", amountCents: 1250 });
  log.error("payment failed", Object.assign(new Error("card declined"), { code: "card_declined" }));
  await log.shutdown();
}
