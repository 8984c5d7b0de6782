// Sustained load, one worker: offer `rate` records/s for `seconds`, paced by a timer (every tick
// logs what the schedule says is due, capped so a stall cannot turn into one huge burst).
// `kind` (default logmux) picks the logger; "none" runs the same schedule without a log call.
// The worker's own event-loop delay is recorded from the first paced tick on (after the logger
// is ready), with monitorEventLoopDelay at 1 ms resolution.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros, params, RssTracker, runChild, send } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

runChild(async () => {
  const { kind = "logmux", rate, seconds, tickMs = 5 } = params;
  const rss = new RssTracker();
  const rssStart = rss.sample();
  const logger = await createLogger(kind, params);
  await logger.ready?.();
  const log = logger.log ?? (() => {});
  const maxBurst = Math.max(1, Math.ceil((rate * tickMs * 4) / 1000));
  const durationMs = seconds * 1000;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuStart = cpuMicros();
  const start = performance.now();
  let sent = 0;
  let nextRssSample = 1000;
  for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - start) {
    const due = Math.min(maxBurst, Math.floor((rate * elapsed) / 1000) - sent);
    for (let i = 0; i < due; i++) log(MESSAGE);
    sent += Math.max(0, due);
    if (elapsed >= nextRssSample) {
      rss.sample();
      nextRssSample += 1000;
    }
    await sleep(tickMs);
  }
  delay.disable();
  const pacedCpuMicros = cpuMicros() - cpuStart;
  const rssEnd = rss.sample();
  await logger.close();
  const ms = (ns) => ns / 1e6;
  await send({
    type: "done",
    sent,
    offered: Math.round(rate * seconds),
    cpuMicros: cpuMicros(),
    pacedCpuMicros,
    delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    rssStart,
    rssEnd,
    rssPeak: rss.peak,
  });
});
