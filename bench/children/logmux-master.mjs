// A logmux MasterLogger writing to one file, instrumented (see MasterProbe).
// Messages: "reset" (start of a measured run) -> "reset"; "shutdown" -> "closed" with the stats.
import { MasterProbe, nextMessage, params, runChild, send } from "../lib/child.mjs";
import { DIST_INDEX } from "../lib/env.mjs";

runChild(async () => {
  const { socketPath, file, rssIntervalMs = 100, flushIntervalMs = 1000 } = params;
  const { LoggerConfig, LogLevel, MasterLogger, FileLogHandler } = await import(DIST_INDEX);
  const config = new LoggerConfig({ path: `ipc://${socketPath}`, flushIntervalMs, baseLevel: LogLevel.INFO });
  const master = new MasterLogger(config, [new FileLogHandler(file, { create: true })]);
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
