// A worker's fixed costs: CPU time (process.cpuUsage: every thread, V8's compiler threads
// included) from before the logger's modules are imported until its first record is handed over.
// logmux: import, new WorkerLogger, one info(), flush() resolved (connected to the running master
// and the record written to its socket). Peers: import, set-up, one call, close() resolved (the
// record is in the file). The node process's own start-up comes before and is not counted.
import { cpuMicros, params, runChild, send } from "../lib/child.mjs";
import { DIST_WORKER, MESSAGE } from "../lib/env.mjs";
import { createLogger } from "../lib/loggers.mjs";

const MODULES = {
  logmux: [DIST_WORKER],
  pino: ["pino"],
  winston: ["winston"],
  "log4js-file": ["log4js"],
  logtape: ["@logtape/logtape", "@logtape/file"],
};

runChild(async () => {
  const { kind } = params;
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  for (const specifier of MODULES[kind]) await import(specifier);
  const cpu1 = cpuMicros();
  const t1 = performance.now();
  // createLogger imports the same modules again: from the module cache, at no cost.
  const logger = await createLogger(kind, params);
  logger.log(MESSAGE);
  if (kind === "logmux") await logger.ready();
  else await logger.close();
  const cpu2 = cpuMicros();
  const t2 = performance.now();
  if (kind === "logmux") await logger.close();
  await send({
    type: "result",
    importCpuMs: (cpu1 - cpu0) / 1000,
    firstCpuMs: (cpu2 - cpu1) / 1000,
    importWallMs: t1 - t0,
    firstWallMs: t2 - t1,
  });
});
