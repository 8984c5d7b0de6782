// A logmux MasterLogger writing to one file, instrumented (see MasterProbe).
// Messages: "reset" (start of a measured run) -> "reset"; "shutdown" -> "closed" with the stats.
// `handlers` lists what it writes to: "file" (text lines to `file`), "json" (JSON lines to
// `${file}.json`), "console" (text lines to stdout, which the orchestrator points at /dev/null).
import { MasterProbe, nextMessage, params, runChild, send } from "../lib/child.mjs";
import { DIST_INDEX } from "../lib/env.mjs";

runChild(async () => {
  const { socketPath, file, rssIntervalMs = 100, flushIntervalMs = 1000, handlers = ["file"] } = params;
  const { LoggerConfig, LogLevel, MasterLogger, FileLogHandler, ConsoleLogHandler } = await import(
    DIST_INDEX
  );
  const config = new LoggerConfig({ path: `ipc://${socketPath}`, flushIntervalMs, baseLevel: LogLevel.INFO });
  const make = {
    file: () => new FileLogHandler(file, { create: true }),
    json: () => new FileLogHandler(`${file}.json`, { create: true, format: "json" }),
    console: () => new ConsoleLogHandler(),
  };
  const master = new MasterLogger(
    config,
    handlers.map((h) => make[h]()),
  );
  await master.ready();
  const probe = new MasterProbe(rssIntervalMs);

  await send({ type: "ready" });
  await nextMessage("reset");
  probe.reset();
  await send({ type: "reset" });

  await nextMessage("shutdown");
  const workers = master.workers();
  await master.shutdown();
  await send({ type: "closed", ...probe.stop(), workers });
});
