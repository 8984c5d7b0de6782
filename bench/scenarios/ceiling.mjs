// Scenario 3b: the master's single-core ceiling. Workers at the lowest CPU priority offer more
// than the master can take; the master, with 1, 2 or 3 handlers attached, formats and writes as
// fast as its core lets it. LogTape and the other peers have no master, so none appears here.
import { fmtInt, fmtPct, fmtRate, fmtRatio } from "../lib/format.mjs";
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
    busy: true,
    queueFirst: true,
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
      perWallSecond: median(ok.map((r) => r.master.busy.lines / (r.master.busy.ms / 1000))),
      masterShare: median(ok.map((r) => r.master.busy.cpuMs / r.master.busy.ms)),
      busyMs: median(ok.map((r) => r.master.busy.ms)),
      complete:
        ok.length > 0 && ok.every((r) => r.delivered === lines && (!json || r.deliveredJson === lines)),
      lines,
    };
  }
  const one = summary["1"];
  const cell = (s, f) => (s.rounds ? f(s) : "FAILED");
  const table = {
    title: `3b. Master's single-core ceiling: ${workers} workers x ${fmtInt(records)} records queued, 1 to 3 handlers`,
    columns: [
      { key: "handlers", label: "handlers", align: "left" },
      { key: "wall", label: "lines/s while busy" },
      { key: "wallRatio", label: "vs 1 handler" },
      { key: "share", label: "master CPU while busy (of one core)" },
      { key: "perCpu", label: "lines per master CPU-second" },
      { key: "cpuRatio", label: "vs 1 handler " },
      { key: "lines", label: "lines in each file", align: "left" },
    ],
    rows: CONFIGS.map((c) => {
      const s = summary[c.key];
      return {
        handlers: c.label,
        wall: cell(s, (x) => fmtRate(x.perWallSecond)),
        wallRatio: cell(s, (x) => fmtRatio(x.perWallSecond / one.perWallSecond)),
        share: cell(s, (x) => fmtPct(x.masterShare)),
        perCpu: cell(s, (x) => fmtRate(x.perCpuSecond)),
        cpuRatio: cell(s, (x) => fmtRatio(x.perCpuSecond / one.perCpuSecond)),
        lines: cell(s, (x) => (x.complete ? `${fmtInt(x.lines)} ✓` : "LOST LINES")),
      };
    }),
    notes: [
      `${workers} logmux workers at nice 19 (os.setPriority) log ${fmtInt(records)} messages each as fast as they can, built with + as in 2., before the master is started: they hold them (in memory, retrying the socket every 5 ms) and send them once it listens, so from its first read on it has more to take than it can, however busy the machine. The master runs at normal priority. ${rounds} round(s), configurations in round-robin order, median.`,
      '"while busy": the master samples its status() every 5 ms; the window runs from the first record received to the last one every handler settled. lines/s while busy is the ceiling; the master\'s CPU share in that window (user + system, all threads) near 100% shows it had its core to itself (above 100%: the garbage collector and libuv threads beside its main thread); well below, other work on the machine took it, and the per-CPU-second figure is the one to compare.',
      "lines per master CPU-second: lines / the master's CPU time from just before the workers connect until it closed its files (connections, shutdown and closing included).",
      "Handlers: FileLogHandler(file) in the default text format; FileLogHandler(file.json, { format: 'json' }); ConsoleLogHandler() writing to the master's stdout, which is /dev/null. Every line is counted in the text file and in the JSON file.",
    ],
  };
  const two = summary["2"];
  const three = summary["3"];
  const ratio = (s, f) => fmtRatio(f(s) / f(one));
  const wall = (s) => s.perWallSecond;
  const cpu = (s) => s.perCpuSecond;
  const targets = [
    {
      target: "report the master's single-core ceiling and how 2 and 3 handlers change it",
      measured: `${fmtRate(one.perWallSecond)} while busy with 1 handler (master ${fmtPct(one.masterShare)} of a core); 2 handlers ${ratio(two, wall)}, 3 handlers ${ratio(three, wall)} (per CPU-second: ${fmtRate(one.perCpuSecond)}, ${ratio(two, cpu)}, ${ratio(three, cpu)})${[one, two, three].every((s) => s.complete) ? "" : ", LOST LINES"}`,
      pass: null,
    },
  ];
  return { tables: [table], targets, raw: { settings, workers, records, results, summary } };
}
