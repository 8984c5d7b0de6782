// Hot path: the cost of one log call, timed per block of `blockSize` calls (single calls are below
// the timer's resolution). Yields to the event loop every `blocksPerBurst` blocks so the logger's
// asynchronous I/O runs as it would in an application; that time is not measured.
import { cpuMicros, params, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { E2E_HEAD, E2E_TAIL, MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

/**
 * Numbers for the built messages: from here on, so none of them is MESSAGE itself (which is
 * E2E_HEAD + 42 + E2E_TAIL), and the constant row's lines can still be counted on their own.
 */
const FIRST_BUILT = 100_000;

/**
 * Times `log` in blocks: MESSAGE, then the same call with a message built with + (as the
 * end-to-end loops build it), then as many copies into a preallocated buffer (the floor), so
 * every logger has both rows and a floor measured in its own process at the same moments: on a
 * noisy machine a floor from another process, minutes apart, can differ by 1.5x by itself.
 */
async function measure(log, floor, calls, blockSize, blocksPerBurst) {
  const blocks = Math.floor(calls / blockSize);
  const perCallNs = new Float64Array(blocks);
  const builtPerCallNs = new Float64Array(blocks);
  const floorPerCallNs = new Float64Array(blocks);
  let n = FIRST_BUILT;
  let b = 0;
  while (b < blocks) {
    const burstEnd = Math.min(blocks, b + blocksPerBurst);
    for (; b < burstEnd; b++) {
      let start = process.hrtime.bigint();
      for (let i = 0; i < blockSize; i++) log(MESSAGE);
      perCallNs[b] = Number(process.hrtime.bigint() - start) / blockSize;
      start = process.hrtime.bigint();
      for (let i = 0; i < blockSize; i++) log(E2E_HEAD + n++ + E2E_TAIL);
      builtPerCallNs[b] = Number(process.hrtime.bigint() - start) / blockSize;
      start = process.hrtime.bigint();
      for (let i = 0; i < blockSize; i++) floor(MESSAGE);
      floorPerCallNs[b] = Number(process.hrtime.bigint() - start) / blockSize;
    }
    await yieldToEventLoop();
  }
  return { perCallNs, builtPerCallNs, floorPerCallNs };
}

runChild(async () => {
  const { kind, calls, warmupCalls, blockSize, blocksPerBurst } = params;
  const logger = await createLogger(kind, params);
  const floor = await createLogger("floor", params);
  await measure(logger.log, floor.log, warmupCalls, blockSize, blocksPerBurst);
  await logger.ready?.();
  const measured = await measure(logger.log, floor.log, calls, blockSize, blocksPerBurst);
  await logger.close();
  await send({ type: "result", ...measured, cpuMicros: cpuMicros() });
});
