// Structured records, one logger: every row's call timed in blocks of `blockSize`, the rows
// interleaved block by block with the buffer-copy floor, so the ratios between rows (4 fields /
// plain, child / plain, %-arguments / `+`) are taken side by side in one process, at the same
// moments, and do not depend on how busy the machine was when the process ran.
import { cpuMicros, params, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";
import { createCases } from "../lib/structured-loggers.mjs";

async function measure(rows, calls, blockSize, blocksPerBurst) {
  const blocks = Math.floor(calls / blockSize);
  const perCallNs = rows.map(() => new Float64Array(blocks));
  const n = rows.length;
  let b = 0;
  while (b < blocks) {
    const burstEnd = Math.min(blocks, b + blocksPerBurst);
    for (; b < burstEnd; b++) {
      // A different row goes first in each block, so none always follows the same neighbour.
      for (let j = 0; j < n; j++) {
        const r = (b + j) % n;
        const call = rows[r];
        const start = process.hrtime.bigint();
        for (let i = 0; i < blockSize; i++) call();
        perCallNs[r][b] = Number(process.hrtime.bigint() - start) / blockSize;
      }
    }
    await yieldToEventLoop();
  }
  return perCallNs;
}

runChild(async () => {
  const { kind, calls, warmupCalls, blockSize, blocksPerBurst } = params;
  const logger = await createCases(kind, params);
  const floor = await createLogger("floor", params);
  const keys = [...Object.keys(logger.cases), "floor"];
  const rows = [...Object.values(logger.cases), () => floor.log(MESSAGE)];
  // The mixin and trace rows read the async context: every row is timed inside it.
  const around = logger.around ?? ((fn) => fn());
  await around(() => measure(rows, warmupCalls, blockSize, blocksPerBurst));
  // Connected, and what the warm-up left queued is written, so the CPU below is the measured calls'.
  await logger.ready?.();
  const cpuStart = cpuMicros();
  const perCallNs = await around(() => measure(rows, calls, blockSize, blocksPerBurst));
  // Through close(): work a logger defers (streams, buffered sinks) is done by then.
  await logger.close();
  const cpuNs = (cpuMicros() - cpuStart) * 1000;
  const floorIndex = keys.length - 1;
  let floorNs = 0;
  for (const ns of perCallNs[floorIndex]) floorNs += ns * blockSize;
  const loggedCalls = Math.floor(calls / blockSize) * blockSize * floorIndex;
  await send({
    type: "result",
    keys,
    perCallNs,
    /** CPU of the measured calls and the work they left behind, per call, the floor's time taken out. */
    cpuPerCallNs: (cpuNs - floorNs) / loggedCalls,
  });
});
