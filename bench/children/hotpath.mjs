// Hot path: the cost of one log call, timed per block of `blockSize` calls (single calls are below
// the timer's resolution). Yields to the event loop every `blocksPerBurst` blocks so the logger's
// asynchronous I/O runs as it would in an application; that time is not measured.
import { cpuMicros, params, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

async function measure(log, calls, blockSize, blocksPerBurst) {
  const blocks = Math.floor(calls / blockSize);
  const perCallNs = new Float64Array(blocks);
  let b = 0;
  while (b < blocks) {
    const burstEnd = Math.min(blocks, b + blocksPerBurst);
    for (; b < burstEnd; b++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < blockSize; i++) log(MESSAGE);
      perCallNs[b] = Number(process.hrtime.bigint() - start) / blockSize;
    }
    await yieldToEventLoop();
  }
  return perCallNs;
}

runChild(async () => {
  const { kind, calls, warmupCalls, blockSize, blocksPerBurst } = params;
  const logger = await createLogger(kind, params);
  await measure(logger.log, warmupCalls, blockSize, blocksPerBurst);
  await logger.ready?.();
  const perCallNs = await measure(logger.log, calls, blockSize, blocksPerBurst);
  await logger.close();
  await send({ type: "result", perCallNs, cpuMicros: cpuMicros() });
});
