// End to end, one worker process: log `records` messages in chunks of `chunk` calls, yielding to
// the event loop between chunks, then close the logger (everything handed off) and report.
import { cpuMicros, params, RssTracker, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

runChild(async () => {
  const { kind, records, chunk } = params;
  const rss = new RssTracker().start(100);
  const logger = await createLogger(kind, params);
  const log = logger.log;
  let busyNs = 0n;
  let i = 0;
  while (i < records) {
    const end = Math.min(records, i + chunk);
    const start = process.hrtime.bigint();
    if (log) for (; i < end; i++) log(MESSAGE);
    else for (; i < end; i++);
    busyNs += process.hrtime.bigint() - start;
    await yieldToEventLoop();
  }
  await logger.close();
  await send({ type: "done", busyNs: Number(busyNs), cpuMicros: cpuMicros(), rssPeak: rss.stop() });
});
