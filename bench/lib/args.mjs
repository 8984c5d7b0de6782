// Command-line options of bench/run.mjs.
import { parseArgs } from "node:util";

export const SCENARIOS = ["hotpath", "e2e", "master", "ceiling", "sustained", "structured", "worker"];

/** Loggers --loggers can name; a variant (pino-transport, log4js-file) goes with its logger. */
export const LOGGERS = ["logmux", "pino", "winston", "log4js", "logtape"];
const BASELINES = ["none", "floor"];

/**
 * The kinds of `kinds` this run measures: logmux only when it is built, the others as --loggers
 * says (baselines always).
 */
export function selectKinds(ctx, kinds) {
  const wanted = ctx.options.loggers;
  return kinds.filter((kind) => {
    if (BASELINES.includes(kind)) return true;
    const logger = kind.split("-")[0];
    if (logger === "logmux" && !ctx.logmux.available) return false;
    return wanted === undefined || wanted.includes(logger);
  });
}

export const USAGE = `Usage: node bench/run.mjs [options]   (or: npm run bench -- [options])

  --quick              ~1 minute smoke run (fewer rounds, records and processes; 10 s sustained)
  --scenario NAME      run only NAME (repeatable or comma separated): ${SCENARIOS.join(", ")}
  --rounds N           rounds per measurement (median is reported)
  --loggers LIST       measure only these loggers, e.g. logmux,pino (of ${LOGGERS.join(", ")});
                       the no-logging and buffer-copy baselines always run
  --procs LIST         end-to-end worker process counts (default 1,2,4,8,16; the added-cost table
                       and the P=4 / P=16 targets come from these runs)
  --records N          records per worker in the end-to-end run for P <= 4 (P > 4: 4 x N / P);
                       also per worker in the master-ceiling run
  --calls N            measured log calls per hot-path round (per row in the structured scenario)
  --seconds N          duration of the sustained run
  --paced-seconds N    duration of each worker's run at 100k records/s (event-loop delay)
  --load F             sustained offered rate as a fraction of logmux's measured 4-worker capacity
  --write-docs         regenerate docs/benchmarks.md from this run
  --help               this text

Environment: LOGMUX_DIST=DIR benchmarks the build in DIR instead of ./dist.
Results (raw JSON) are saved to bench/results/. Benchmarks never gate tests.`;

function positiveInt(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} expects a positive integer, got ${text}`);
  return value;
}

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      scenario: { type: "string", multiple: true },
      rounds: { type: "string" },
      procs: { type: "string" },
      loggers: { type: "string" },
      records: { type: "string" },
      calls: { type: "string" },
      seconds: { type: "string" },
      "paced-seconds": { type: "string" },
      load: { type: "string" },
      "write-docs": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  const scenarios = values.scenario
    ? values.scenario.flatMap((s) => s.split(",")).map((s) => s.trim())
    : SCENARIOS;
  for (const name of scenarios) {
    if (!SCENARIOS.includes(name))
      throw new Error(`unknown scenario "${name}"; expected one of ${SCENARIOS.join(", ")}`);
  }
  const loggers = values.loggers?.split(",").map((s) => s.trim());
  for (const logger of loggers ?? []) {
    if (!LOGGERS.includes(logger))
      throw new Error(`unknown logger "${logger}"; expected one of ${LOGGERS.join(", ")}`);
  }
  const load = values.load === undefined ? 0.8 : Number(values.load);
  if (!(load > 0 && load <= 2)) throw new Error(`--load expects a fraction like 0.8, got ${values.load}`);
  return {
    help: values.help,
    quick,
    writeDocs: values["write-docs"],
    scenarios,
    loggers,
    rounds: values.rounds ? positiveInt("rounds", values.rounds) : undefined,
    hotpath: {
      rounds: quick ? 2 : 3,
      calls: values.calls ? positiveInt("calls", values.calls) : quick ? 50_000 : 100_000,
      warmupCalls: quick ? 10_000 : 20_000,
      blockSize: 100,
      blocksPerBurst: 20,
    },
    e2e: {
      rounds: quick ? 1 : 3,
      procs: values.procs
        ? values.procs.split(",").map((p) => positiveInt("procs", p))
        : quick
          ? [1, 4]
          : [1, 2, 4, 8, 16],
      records: values.records ? positiveInt("records", values.records) : quick ? 50_000 : 250_000,
      chunk: 1000,
    },
    ceiling: {
      rounds: quick ? 1 : 3,
      workers: 4,
      records: values.records ? positiveInt("records", values.records) : quick ? 50_000 : 250_000,
    },
    worker: {
      rounds: quick ? 2 : 5,
      paced: {
        // issue 15: the event loop of a worker logging 100k records/s
        rate: 100_000,
        seconds: values["paced-seconds"]
          ? positiveInt("paced-seconds", values["paced-seconds"])
          : quick
            ? 2
            : 5,
        rounds: 1,
        // 100 records a tick: a tick's calls stay far below the 1 ms the flushes are judged by.
        tickMs: 1,
      },
    },
    sustained: {
      seconds: values.seconds ? positiveInt("seconds", values.seconds) : quick ? 10 : 60,
      workers: 4,
      load,
    },
  };
}
