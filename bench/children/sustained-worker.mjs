// Sustained load, one worker: offer `rate` records/s for `seconds`, paced by a timer (every tick
// logs what the schedule says is due, capped so a stall cannot turn into one huge burst).
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros, params, RssTracker, runChild, send } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

runChild(async () => {
  const { rate, seconds, tickMs = 5 } = params;
  const rss = new RssTracker();
  const rssStart = rss.sample();
  const logger = await createLogger("logmux", params);
  await logger.ready?.();
  const maxBurst = Math.max(1, Math.ceil((rate * tickMs * 4) / 1000));
  const durationMs = seconds * 1000;
  const start = performance.now();
  let sent = 0;
  let nextRssSample = 1000;
  for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - start) {
    const due = Math.min(maxBurst, Math.floor((rate * elapsed) / 1000) - sent);
    for (let i = 0; i < due; i++) logger.log(MESSAGE);
    sent += Math.max(0, due);
    if (elapsed >= nextRssSample) {
      rss.sample();
      nextRssSample += 1000;
    }
    await sleep(tickMs);
  }
  const rssEnd = rss.sample();
  await logger.close();
  await send({
    type: "done",
    sent,
    offered: Math.round(rate * seconds),
    cpuMicros: cpuMicros(),
    rssStart,
    rssEnd,
    rssPeak: rss.peak,
  });
});
