// Structured records, one logger: every row's call timed in blocks of `blockSize`, a burst of
// `blocksPerBurst` blocks of one row at a time, the rows taking turns burst by burst with the
// buffer-copy floor, so the ratios between rows (4 fields / plain, child / plain, %-arguments /
// `+`) are taken side by side in one process, at the same moments, and do not depend on how busy
// the machine was when the process ran.
//
// Each burst ends with a yield to the event loop, inside the row's measurement: what a logger
// defers to the next tick (logmux copies a plain record into its batch there; pino's and winston's
// streams write there) is charged to the row whose calls left it, not to whichever row runs next.
import { cpuMicros, params, runChild, send, yieldToEventLoop } from "../lib/child.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";
import { createCases } from "../lib/structured-loggers.mjs";

/**
 * Per row: `perCallNs`, the wall time of each block / its calls (the call as its caller waits for
 * it), and `ownCpuNs`, the process CPU of each burst and the yield after it / its calls (the call
 * and the work it left for the next tick).
 */
async function measure(rows, calls, blockSize, blocksPerBurst) {
  const blocks = Math.floor(calls / blockSize);
  const bursts = Math.ceil(blocks / blocksPerBurst);
  const perCallNs = rows.map(() => new Float64Array(blocks));
  const ownCpuNs = rows.map(() => new Float64Array(bursts));
  const n = rows.length;
  for (let burst = 0; burst < bursts; burst++) {
    const first = burst * blocksPerBurst;
    const end = Math.min(blocks, first + blocksPerBurst);
    // A different row goes first in each round of bursts, so none always follows the same neighbour.
    for (let j = 0; j < n; j++) {
      const r = (burst + j) % n;
      const call = rows[r];
      const cpuStart = cpuMicros();
      for (let b = first; b < end; b++) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < blockSize; i++) call();
        perCallNs[r][b] = Number(process.hrtime.bigint() - start) / blockSize;
      }
      await yieldToEventLoop();
      ownCpuNs[r][burst] = ((cpuMicros() - cpuStart) * 1000) / ((end - first) * blockSize);
    }
  }
  return { perCallNs, ownCpuNs };
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
  const { perCallNs, ownCpuNs } = await around(() => measure(rows, calls, blockSize, blocksPerBurst));
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
    ownCpuNs,
    /** CPU of the measured calls and the work they left behind, per call, the floor's time taken out. */
    cpuPerCallNs: (cpuNs - floorNs) / loggedCalls,
  });
});
