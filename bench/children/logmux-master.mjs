// A logmux MasterLogger writing to one file, instrumented (see MasterProbe).
// Messages: "reset" (start of a measured run) -> "reset"; "shutdown" -> "closed" with the stats.
// `handlers` lists what it writes to: "file" (text lines to `file`), "json" (JSON lines to
// `${file}.json`), "console" (text lines to stdout, which the orchestrator points at /dev/null).
// `busy`: also sample status() every BUSY_SAMPLE_MS and report the window from the first
// record received until every handler had settled its last one, with the CPU spent in it.
import { cpuMicros, MasterProbe, nextMessage, params, runChild, send } from "../lib/child.mjs";
import { DIST_INDEX } from "../lib/env.mjs";

/** Fine enough for a window of a few hundred ms; status() is cheap next to what happens between. */
const BUSY_SAMPLE_MS = 5;

/** Samples { t, cpu, received, settled } from the master's status(); `window()` sums them up. */
function busyWindow(master) {
  const samples = [];
  const sample = () => {
    const status = master.status();
    const settled = Math.min(...status.handlers.map((h) => h.delivered));
    samples.push({ t: performance.now(), cpu: cpuMicros(), received: status.recordsReceived, settled });
  };
  const timer = setInterval(sample, BUSY_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    sample();
    const final = samples.at(-1).settled;
    // The sample before the first record arrived, and the first one with everything settled.
    const from = samples[Math.max(0, samples.findIndex((s) => s.received > 0) - 1)];
    const to = samples.find((s) => s.settled === final);
    return { ms: to.t - from.t, cpuMs: (to.cpu - from.cpu) / 1000, lines: final };
  };
}

runChild(async () => {
  const {
    socketPath,
    file,
    rssIntervalMs = 100,
    flushIntervalMs = 1000,
    handlers = ["file"],
    busy = false,
  } = params;
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
  const endWindow = busy ? busyWindow(master) : undefined;
  await send({ type: "reset" });

  await nextMessage("shutdown");
  const workers = master.workers();
  const window = endWindow?.();
  await master.shutdown();
  await send({ type: "closed", ...probe.stop(), workers, busy: window });
});
