// Added cost per line: each logger's end-to-end run against the no-logging run of the same
// processes (same P, same M, same loop building the same messages, no log call), from the
// end-to-end scenario's rounds. Table 2c and its targets.
import { fmtMs, fmtNs, fmtRatio } from "../lib/format.mjs";
import { median } from "../lib/stats.mjs";
import { summarize } from "./e2e.mjs";
import { baselineKey } from "./e2e-runner.mjs";

/** logmux's added cost per line at P=4 when issue 15 was filed (0.72 µs); the target is half. */
export const TODAY_ADDED_NS = 720;
const ADDED_TARGET_NS = TODAY_ADDED_NS / 2;
/** Flat as P grows: P=16's added cost at most this multiple of P=4's. */
const FLAT_TARGET = 1.2;

export const COST_DEFINITION =
  "added CPU /line = (CPU of every process of the logging run - CPU of every process of the no-logging run) / lines logged. " +
  "CPU is user + system time (process.cpuUsage, all threads) of each worker from its start to its exit, plus the master's " +
  "(logmux, log4js) from the moment the workers are forked until it closed its file; the no-logging run has the same " +
  "P processes, each running the same loop that builds every message with + and stores it instead of logging it. " +
  "Medians over rounds are subtracted.";

/**
 * Added cost of `kind` at `procs`: CPU per line (the target's figure) and wall per line times the
 * cores the run could use (min(cores, processes)), the alternative definition, for comparison.
 */
export function addedCost(results, procs, records, kind, cores) {
  const s = summarize(results[procs]?.[kind] ?? []);
  const base = summarize(results[procs]?.[baselineKey(procs, records, kind)] ?? []);
  const run = results[procs]?.[kind]?.find((r) => !r.error);
  if (!run || s.okRounds === 0 || base.okRounds === 0) return null;
  const lines = run.procs * run.records;
  const processes = procs + (run.masterCpuSeconds > 0 ? 1 : 0);
  const cpuOf = (list, field) => median(list.filter((r) => !r.error).map((r) => r[field]));
  const mine = results[procs][kind];
  const theirs = results[procs][baselineKey(procs, records, kind)];
  return {
    lines,
    cpuNs: ((s.cpuSeconds - base.cpuSeconds) * 1e9) / lines,
    workersNs: ((cpuOf(mine, "workerCpuSeconds") - cpuOf(theirs, "workerCpuSeconds")) * 1e9) / lines,
    masterNs: (cpuOf(mine, "masterCpuSeconds") * 1e9) / lines,
    wallXCoresNs: ((s.wallMs - base.wallMs) * 1e6 * Math.min(cores, processes)) / lines,
    wallMs: s.wallMs,
    baseWallMs: base.wallMs,
  };
}

export function costTable(ctx, settings, results, kinds, labels) {
  const cores = ctx.machine.cores;
  const logging = kinds.filter((k) => k !== "none");
  const cost = {};
  for (const procs of settings.procs) {
    cost[procs] = {};
    for (const kind of logging) cost[procs][kind] = addedCost(results, procs, settings.records, kind, cores);
  }
  const table = {
    title: "2c. Added cost per line over the no-logging run of the same processes",
    columns: [
      { key: "procs", label: "P", align: "left" },
      ...logging.map((k) => ({ key: k, label: `${labels[k]} CPU /line` })),
      ...(logging.includes("logmux")
        ? [
            { key: "lmSplit", label: "logmux workers + master" },
            { key: "lmWall", label: "logmux wall (no-logging wall)" },
            { key: "lmWallCores", label: "logmux Δwall x cores /line" },
          ]
        : []),
    ],
    rows: settings.procs.map((procs) => {
      const lm = cost[procs].logmux;
      return {
        procs: String(procs),
        ...Object.fromEntries(logging.map((k) => [k, fmtNs(cost[procs][k]?.cpuNs)])),
        lmSplit: lm ? `${fmtNs(lm.workersNs)} + ${fmtNs(lm.masterNs)}` : "n/a",
        lmWall: lm ? `${fmtMs(lm.wallMs)} (${fmtMs(lm.baseWallMs)})` : "n/a",
        lmWallCores: fmtNs(lm?.wallXCoresNs),
      };
    }),
    notes: [
      COST_DEFINITION,
      "logmux workers + master: the same difference for the workers' CPU alone (import, connection and V8 tiering of every worker included: a fixed cost of F per worker weighs F/M per line, 4x more at 16 x 62.5k than at 4 x 250k), and the master's CPU / lines.",
      `Δwall x cores /line: (wall of the logging run - wall of the no-logging run) x min(${cores} cores, processes incl. the master) / lines; an upper bound when the processes do not keep every core busy, shown for comparison only.`,
      "Peers that log a fraction of M (see 2.) are compared with a no-logging run of that same M.",
    ],
  };
  const targets = [];
  const four = cost[4]?.logmux;
  const sixteen = cost[16]?.logmux;
  if (four) {
    targets.push({
      target: `logmux added CPU per line at P=4 <= ${fmtNs(ADDED_TARGET_NS)} (half of issue 15's ${fmtNs(TODAY_ADDED_NS)})`,
      measured: `${fmtNs(four.cpuNs)} (${fmtRatio(four.cpuNs / TODAY_ADDED_NS)} of ${fmtNs(TODAY_ADDED_NS)}); pino ${fmtNs(cost[4].pino?.cpuNs)}`,
      pass: four.cpuNs <= ADDED_TARGET_NS,
    });
  }
  if (four && sixteen) {
    const ratio = sixteen.cpuNs / four.cpuNs;
    targets.push({
      target: `logmux added CPU per line flat as P grows: P=16 <= ${FLAT_TARGET}x P=4`,
      measured: `${fmtRatio(ratio)} (${fmtNs(sixteen.cpuNs)} at P=16 vs ${fmtNs(four.cpuNs)} at P=4)`,
      pass: ratio <= FLAT_TARGET,
    });
  }
  return { table, targets, cost };
}
