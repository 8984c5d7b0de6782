// Scenario 2: end to end, P worker processes x M records into one file.
import { selectKinds } from "../lib/args.mjs";
import { E2E_HEAD, E2E_TAIL } from "../lib/env.mjs";
import { fmtInt, fmtMs, fmtNs, fmtPct, fmtRate, fmtRatio, fmtSeconds } from "../lib/format.mjs";
import { median } from "../lib/stats.mjs";
import { costTable } from "./e2e-cost.mjs";
import { RECORD_SCALE, recordsPerWorker, runRounds } from "./e2e-runner.mjs";

export const name = "e2e";

const LABELS = {
  none: "no logging (floor)",
  logmux: "logmux (workers -> master -> file)",
  pino: "pino, every process appends (sync: false)",
  winston: "winston, File transport in every process",
  log4js: "log4js multiprocess (TCP master -> file)",
  logtape: "LogTape, getStreamFileSink() in every process",
};

/** Short names for the columns of 2c. */
const SHORT = { logmux: "logmux", pino: "pino", winston: "winston", log4js: "log4js", logtape: "LogTape" };

/** End-to-end lines/s against pino's, by P (issue 15). */
const PINO_TARGETS = { 4: 5, 16: 4 };
/** The worker's call while 4 workers and the master share the cores: this many times cheaper than pino's. */
const CALL_UNDER_LOAD_TARGET = 10;

export function e2eSettings(ctx) {
  const o = ctx.options.e2e;
  return { ...o, timeoutMs: ctx.options.quick ? 90_000 : 180_000 };
}

/** Median figures of the successful rounds of one (P, logger), and whether every line arrived. */
export function summarize(list) {
  const ok = list.filter((r) => !r.error);
  const lost = ok.filter((r) => r.delivered !== r.expected);
  const wallMs = median(ok.map((r) => r.wallMs));
  const first = ok[0];
  return {
    okRounds: ok.length,
    failed: list.filter((r) => r.error).map((r) => r.error),
    expected: first?.expected ?? Number.NaN,
    allDelivered: ok.length > 0 && lost.length === 0,
    lost: lost.map((r) => ({ delivered: r.delivered, expected: r.expected })),
    wallMs,
    linesPerSec: first ? (first.procs * first.records) / (wallMs / 1000) : Number.NaN,
    perCallNs: median(ok.map((r) => r.perCallNs)),
    cpuSeconds: median(ok.map((r) => r.cpuSeconds)),
    masterCpuShare: median(ok.filter((r) => r.masterCpuShare !== null).map((r) => r.masterCpuShare)),
  };
}

function linesCell(kind, s) {
  if (kind === "none") return "n/a";
  if (s.okRounds === 0) return `FAILED: ${s.failed[0] ?? "no round"}`;
  let text = s.allDelivered
    ? `${fmtInt(s.expected)} ✓`
    : `LOST LINES: ${s.lost.map((l) => `${fmtInt(l.delivered)} of ${fmtInt(l.expected)}`).join("; ")}`;
  if (s.failed.length) text += ` (${s.failed.length} round(s) failed)`;
  return text;
}

/** The smallest per-round ratio of a's lines/s to b's, rounds paired in order (they ran side by side). */
function worstRoundRatio(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (!a[i].error && !b[i].error) ratios.push(a[i].linesPerSec / b[i].linesPerSec);
  }
  return ratios.length ? Math.min(...ratios) : Number.NaN;
}

/** Where logmux stops scaling: the first P whose throughput is under 1.1x the previous P's. */
export function scalingStop(procsList, byProcs) {
  let previous;
  for (const procs of procsList) {
    const s = byProcs[procs];
    if (previous && s.linesPerSec < previous.s.linesPerSec * 1.1) return previous.procs;
    previous = { procs, s };
  }
  return null;
}

export async function run(ctx) {
  const settings = e2eSettings(ctx);
  const kinds = selectKinds(ctx, ["none", "logmux", "pino", "winston", "log4js", "logtape"]);
  const results = await runRounds(ctx, { ...settings, procsList: settings.procs, kinds });
  ctx.shared.e2e = { settings, results };

  const rows = [];
  const summaries = {};
  for (const procs of settings.procs) {
    summaries[procs] = {};
    for (const kind of kinds) summaries[procs][kind] = summarize(results[procs][kind]);
    const lm = summaries[procs].logmux;
    for (const kind of kinds) {
      const s = summaries[procs][kind];
      rows.push({
        procs: `${procs} x ${fmtInt(recordsPerWorker(procs, settings.records, kind))}`,
        logger: LABELS[kind],
        wall: fmtMs(s.wallMs),
        rate: kind === "none" ? "n/a" : fmtRate(s.linesPerSec),
        ratio: kind === "none" || !lm ? "n/a" : fmtRatio(lm.linesPerSec / s.linesPerSec),
        perCall: fmtNs(s.perCallNs),
        cpu: fmtSeconds(s.cpuSeconds),
        cpuPerLine: kind === "none" ? "n/a" : fmtNs((s.cpuSeconds * 1e9) / (s.expected || Number.NaN)),
        lines: linesCell(kind, s),
      });
    }
  }
  const table = {
    title: "2. End to end: P worker processes x M records into one file",
    columns: [
      { key: "procs", label: "P x M", align: "left" },
      { key: "logger", label: "logger", align: "left" },
      { key: "wall", label: "wall" },
      { key: "rate", label: "lines/s" },
      { key: "ratio", label: "logmux/this (lines/s)" },
      { key: "perCall", label: "call in worker" },
      { key: "cpu", label: "CPU all procs" },
      { key: "cpuPerLine", label: "CPU /line" },
      { key: "lines", label: "lines in file (exact check)", align: "left" },
    ],
    rows,
    notes: [
      `Median of ${settings.rounds} round(s) after a warm-up run per logger; loggers in round-robin order within each round.`,
      "wall: from forking the first worker until the last line is on disk (every worker closed its logger; for logmux and log4js, the master has also closed its file after receiving everything). Masters are started before the clock.",
      `Every loop builds its message with +: ${JSON.stringify(E2E_HEAD)} + i + ${JSON.stringify(E2E_TAIL)}; logmux writes it in its default text format, the peers in theirs. The no-logging run builds the same messages and stores them instead.`,
      `Workers log in chunks of ${settings.chunk} calls and yield to the event loop between chunks; "call in worker" is the wall time inside those loops / M (median over workers), message building included, so at P > cores it includes waiting for a core.`,
      "CPU all procs: user + system time (process.cpuUsage) of every worker plus the master, including process start-up.",
      ...Object.entries(RECORD_SCALE).map(
        ([kind, scale]) =>
          `${kind} logs ${scale} x M per worker to keep the run short; its lines/s remain comparable (process start-up weighs a little more).`,
      ),
      `lines in file: occurrences of ${JSON.stringify(E2E_HEAD)} (once in every line) in the output file, compared with P x M exactly; anything else is flagged LOST LINES.`,
    ],
  };

  const tables = [table];
  const targets = [];
  if (ctx.logmux.available) {
    const byProcs = Object.fromEntries(settings.procs.map((p) => [p, summaries[p].logmux]));
    const base = byProcs[settings.procs[0]];
    const stop = scalingStop(settings.procs, byProcs);
    const machineShare = (s) => s.cpuSeconds / (s.wallMs / 1000) / ctx.machine.cores;
    tables.push({
      title: "2b. logmux scaling with worker processes",
      columns: [
        { key: "procs", label: "P", align: "left" },
        { key: "rate", label: "lines/s" },
        { key: "speedup", label: `vs P=${settings.procs[0]}` },
        { key: "master", label: "master CPU (of one core)" },
        { key: "machine", label: `all CPU (of ${ctx.machine.cores} cores)` },
        { key: "perCall", label: "call in worker" },
      ],
      rows: settings.procs.map((p) => ({
        procs: String(p),
        rate: fmtRate(byProcs[p].linesPerSec),
        speedup: fmtRatio(byProcs[p].linesPerSec / base.linesPerSec),
        master: fmtPct(byProcs[p].masterCpuShare),
        machine: fmtPct(machineShare(byProcs[p])),
        perCall: fmtNs(byProcs[p].perCallNs),
      })),
      notes: [
        stop === null
          ? "Throughput still grows at the largest P measured."
          : `Scaling stops at P=${stop}: the next P adds less than 10% throughput.`,
        "master CPU: the master's CPU time / wall time; near 100% means its core is saturated. all CPU: CPU time of " +
          `every process / (wall time x ${ctx.machine.cores} cores); near 100% means the machine, not the master, is the limit.`,
      ],
    });
    for (const [procs, goal] of Object.entries(PINO_TARGETS)) {
      const at = summaries[procs];
      if (!at?.logmux || !at.pino) continue;
      const ratio = at.logmux.linesPerSec / at.pino.linesPerSec;
      const worst = worstRoundRatio(results[procs].logmux, results[procs].pino);
      targets.push({
        target: `end to end ${procs} x M (M=${fmtInt(recordsPerWorker(Number(procs), settings.records, "logmux"))}): >= ${goal}x pino's lines/s, every line present`,
        measured: `${fmtRatio(ratio)} pino (${fmtRate(at.logmux.linesPerSec)} vs ${fmtRate(at.pino.linesPerSec)}; worst round ${fmtRatio(worst)}), lines ${at.logmux.allDelivered ? `all ${fmtInt(at.logmux.expected)} present` : "LOST"}`,
        pass: ratio >= goal && at.logmux.allDelivered,
      });
    }
    const four = summaries[4];
    if (four?.logmux && four.pino && four.none) {
      // The loop's own time (building the message) is taken out, leaving the call.
      const call = (kind) => four[kind].perCallNs - four.none.perCallNs;
      const cheaper = call("pino") / call("logmux");
      targets.push({
        target: `log call while 4 workers and the master share the cores >= ${CALL_UNDER_LOAD_TARGET}x cheaper than pino's`,
        measured: `${fmtRatio(cheaper)} cheaper (${fmtNs(call("logmux"))} vs ${fmtNs(call("pino"))}: "call in worker" at P=4 minus the no-logging loop's ${fmtNs(four.none.perCallNs)})`,
        pass: cheaper >= CALL_UNDER_LOAD_TARGET,
      });
    }
    targets.push({
      target: "find where scaling stops (master core saturates)",
      measured:
        stop === null
          ? `still scaling at P=${settings.procs.at(-1)}`
          : `stops at P=${stop} (master ${fmtPct(byProcs[stop].masterCpuShare)} of a core, all processes ${fmtPct(machineShare(byProcs[stop]))} of ${ctx.machine.cores} cores)`,
      pass: null,
    });
  }
  const cost = costTable(ctx, settings, results, kinds, SHORT);
  tables.push(cost.table);
  targets.push(...cost.targets);
  return { tables, targets, raw: { settings, results, summaries, addedCost: cost.cost } };
}
