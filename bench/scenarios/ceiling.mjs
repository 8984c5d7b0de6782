// Scenario 3b: the master's single-core ceiling. Workers at the lowest CPU priority offer more
// than the master can take; the master, with 1, 2 or 3 handlers attached, formats and writes as
// fast as its core lets it. LogTape and the other peers have no master, so none appears here.
import { fmtInt, fmtPct, fmtRate, fmtRatio, fmtSeconds } from "../lib/format.mjs";
import { median, rotate } from "../lib/stats.mjs";
import { runOnce } from "./e2e-runner.mjs";

export const name = "ceiling";

const CONFIGS = [
  { key: "1", handlers: ["file"], label: "1: file (default text format)" },
  { key: "2", handlers: ["file", "json"], label: "2: file + JSON-lines file" },
  {
    key: "3",
    handlers: ["file", "json", "console"],
    label: "3: file + JSON file + console (stdout to /dev/null)",
  },
];

export async function run(ctx) {
  if (!ctx.logmux.available) return { skipped: `logmux not available: ${ctx.logmux.reason}` };
  const { rounds, workers, records } = ctx.options.ceiling;
  const settings = {
    chunk: ctx.options.e2e.chunk,
    timeoutMs: ctx.options.quick ? 90_000 : 180_000,
    niceWorkers: true,
  };
  const results = Object.fromEntries(CONFIGS.map((c) => [c.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const config of rotate(CONFIGS, round)) {
      ctx.progress(`master ceiling round ${round + 1}/${rounds}: ${config.handlers.join(" + ")}`);
      try {
        results[config.key].push(
          await runOnce("logmux", workers, records, { ...settings, handlers: config.handlers }),
        );
      } catch (error) {
        ctx.warn(`master ceiling ${config.key} failed: ${error.message}`);
      }
    }
  }
  const summary = {};
  for (const config of CONFIGS) {
    const ok = results[config.key];
    const lines = workers * records;
    const json = config.handlers.includes("json");
    summary[config.key] = {
      rounds: ok.length,
      perCpuSecond: median(ok.map((r) => lines / r.masterCpuSeconds)),
      perWallSecond: median(ok.map((r) => r.linesPerSec)),
      masterShare: median(ok.map((r) => r.masterCpuShare)),
      masterCpu: median(ok.map((r) => r.masterCpuSeconds)),
      complete:
        ok.length > 0 && ok.every((r) => r.delivered === lines && (!json || r.deliveredJson === lines)),
      lines,
    };
  }
  const one = summary["1"];
  const table = {
    title: `3b. Master's single-core ceiling: ${workers} workers at nice 19 x ${fmtInt(records)} records, 1 to 3 handlers`,
    columns: [
      { key: "handlers", label: "handlers", align: "left" },
      { key: "ceiling", label: "lines per master CPU-second" },
      { key: "ratio", label: "vs 1 handler" },
      { key: "wall", label: "lines/s (wall)" },
      { key: "share", label: "master CPU (of one core)" },
      { key: "cpu", label: "master CPU" },
      { key: "lines", label: "lines in each file", align: "left" },
    ],
    rows: CONFIGS.map((c) => {
      const s = summary[c.key];
      return {
        handlers: c.label,
        ceiling: s.rounds ? fmtRate(s.perCpuSecond) : "FAILED",
        ratio: s.rounds ? fmtRatio(s.perCpuSecond / one.perCpuSecond) : "n/a",
        wall: fmtRate(s.perWallSecond),
        share: fmtPct(s.masterShare),
        cpu: fmtSeconds(s.masterCpu),
        lines: s.rounds ? (s.complete ? `${fmtInt(s.lines)} ✓` : "LOST LINES") : "n/a",
      };
    }),
    notes: [
      `${workers} logmux workers at nice 19 (os.setPriority) log ${fmtInt(records)} messages each as fast as they can, built with + as in 2.; the master runs at normal priority, so it has a core whenever it has work, and the workers (which can produce several times what it takes) queue the rest. ${rounds} round(s), configurations in round-robin order, median.`,
      "lines per master CPU-second: lines / the master's CPU time (user + system, all threads) from the workers' fork until it closed its files, i.e. what one core of the master formats and writes per second. lines/s (wall) and master CPU (of one core) show how close to saturated it was; with the master well below 100% of a core the workers did not offer more than it took (a busy machine starves nice-19 workers): the per-CPU-second figure still gives the master's cost per line, the wall figure is then no ceiling.",
      "Handlers: FileLogHandler(file) in the default text format; FileLogHandler(file.json, { format: 'json' }); ConsoleLogHandler() writing to the master's stdout, which is /dev/null. Every line is counted in the text file and in the JSON file.",
    ],
  };
  const two = summary["2"];
  const three = summary["3"];
  const targets = [
    {
      target: "report the master's single-core ceiling and how 2 and 3 handlers change it",
      measured: `${fmtRate(one.perCpuSecond)} per CPU-second with 1 handler; 2 handlers ${fmtRatio(two.perCpuSecond / one.perCpuSecond)}, 3 handlers ${fmtRatio(three.perCpuSecond / one.perCpuSecond)}${[one, two, three].every((s) => s.complete) ? "" : ", LOST LINES"}`,
      pass: null,
    },
  ];
  return { tables: [table], targets, raw: { settings, workers, records, results, summary } };
}
