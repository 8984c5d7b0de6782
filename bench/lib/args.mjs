// Command-line options of bench/run.mjs.
import { parseArgs } from "node:util";

export const SCENARIOS = ["hotpath", "e2e", "master", "sustained", "structured"];

export const USAGE = `Usage: node bench/run.mjs [options]   (or: npm run bench -- [options])

  --quick              ~1 minute smoke run (fewer rounds, records and processes; 10 s sustained)
  --scenario NAME      run only NAME (repeatable or comma separated): ${SCENARIOS.join(", ")}
  --rounds N           rounds per measurement (median is reported)
  --procs LIST         end-to-end worker process counts, e.g. 1,2,4,8,16
  --records N          records per worker in the end-to-end run for P <= 4
  --calls N            measured log calls per hot-path round (per row in the structured scenario)
  --seconds N          duration of the sustained run
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
      records: { type: "string" },
      calls: { type: "string" },
      seconds: { type: "string" },
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
  const load = values.load === undefined ? 0.8 : Number(values.load);
  if (!(load > 0 && load <= 2)) throw new Error(`--load expects a fraction like 0.8, got ${values.load}`);
  return {
    help: values.help,
    quick,
    writeDocs: values["write-docs"],
    scenarios,
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
    sustained: {
      seconds: values.seconds ? positiveInt("seconds", values.seconds) : quick ? 10 : 60,
      workers: 4,
      load,
    },
  };
}
