#!/usr/bin/env node
import { parseOptions, USAGE } from "./lib/args.mjs";
// logmux benchmarks: orchestrates the scenarios, prints tables, saves raw JSON, optionally
// regenerates docs/benchmarks.md. See `node bench/run.mjs --help`.
import { loadAverage, logmuxStatus, machineInfo } from "./lib/env.mjs";
import { killAll } from "./lib/proc.mjs";
import { printTable, saveRaw, targetsTable, writeDocs } from "./lib/report.mjs";
import * as ceiling from "./scenarios/ceiling.mjs";
import * as e2e from "./scenarios/e2e.mjs";
import * as hotpath from "./scenarios/hotpath.mjs";
import * as master from "./scenarios/master.mjs";
import * as structured from "./scenarios/structured.mjs";
import * as sustained from "./scenarios/sustained.mjs";
import * as worker from "./scenarios/worker.mjs";

const SCENARIOS = { hotpath, e2e, master, ceiling, sustained, structured, worker };

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (options.rounds) {
    options.hotpath.rounds = options.rounds;
    options.e2e.rounds = options.rounds;
    options.ceiling.rounds = options.rounds;
    options.worker.rounds = options.rounds;
  }
  const started = performance.now();
  const machine = machineInfo();
  const logmux = await logmuxStatus();
  console.log(`logmux benchmarks (${options.quick ? "quick" : "full"} run): ${options.scenarios.join(", ")}`);
  console.log(
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage.join(" / ")}`,
  );
  console.log(
    Object.entries(machine.versions)
      .map(([n, v]) => `${n} ${v}`)
      .join(", "),
  );
  if (!logmux.available) console.log(`NOTE: logmux not measured: ${logmux.reason}. Peers only.`);

  const ctx = {
    options,
    machine,
    logmux,
    shared: {},
    progress: (text) =>
      process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${text}\n`),
    warn: (text) => process.stderr.write(`  WARNING: ${text}\n`),
  };
  const scenarios = [];
  for (const name of Object.keys(SCENARIOS).filter((n) => options.scenarios.includes(n))) {
    let result;
    try {
      result = await SCENARIOS[name].run(ctx);
    } catch (error) {
      ctx.warn(`scenario ${name} failed: ${error.stack ?? error}`);
      result = { skipped: `failed: ${error.message}` };
    }
    scenarios.push({ name, ...result });
    if (result.skipped) console.log(`\n== ${name}: skipped (${result.skipped}) ==`);
    for (const table of result.tables ?? []) printTable(table);
  }
  const targets = scenarios.flatMap((s) => s.targets ?? []);
  printTable(targetsTable(targets));

  const run = {
    loadAverageAtEnd: loadAverage(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(" ")}`.trim(),
    options,
    machine,
    logmux,
    durationMs: performance.now() - started,
    scenarios,
    targets,
  };
  console.log(`\nraw results: ${saveRaw(run)}`);
  if (options.writeDocs) console.log(`docs: ${writeDocs(run)}`);
  console.log(
    `done in ${(run.durationMs / 60000).toFixed(1)} min; load average ${run.loadAverageAtEnd.join(" / ")} (1 / 5 / 15 min)`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    killAll();
    process.exit(1);
  },
);
