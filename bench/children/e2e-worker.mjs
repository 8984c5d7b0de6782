// End to end, one worker process: log `records` messages in chunks of `chunk` calls, yielding to
// the event loop between chunks, then close the logger (everything handed off) and report.
// Every loop builds its message with `+` (E2E_HEAD + i + E2E_TAIL); the no-logging loop stores
// it instead of logging it, so that building is not optimised away and is the same in both.
import { cpuMicros, params, RssTracker, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { E2E_HEAD, E2E_TAIL } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

const kept = new Array(8);

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
    if (log) for (; i < end; i++) log(E2E_HEAD + i + E2E_TAIL);
    else for (; i < end; i++) kept[i & 7] = E2E_HEAD + i + E2E_TAIL;
    busyNs += process.hrtime.bigint() - start;
    await yieldToEventLoop();
  }
  // The orchestrator may start the master only now (master-ceiling runs): everything is queued.
  if (params.announce) await send({ type: "logged" });
  await logger.close();
  await send({ type: "done", busyNs: Number(busyNs), cpuMicros: cpuMicros(), rssPeak: rss.stop() });
});
