// Scenario 1: the cost of one log call in the calling process.
import { join } from "node:path";
import { selectKinds } from "../lib/args.mjs";
import { E2E_HEAD, E2E_TAIL, MESSAGE } from "../lib/env.mjs";
import { countEach, withTempDir } from "../lib/files.mjs";
import { fmtInt, fmtNs, fmtRatio } from "../lib/format.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { median, percentile, rotate } from "../lib/stats.mjs";

export const name = "hotpath";

/** p99 of the 100-call blocks at most this multiple of their median (issue 15). */
const TAIL_TARGET = 2;

const LABELS = {
  logmux: "logmux WorkerLogger (master in another process)",
  pino: "pino, destination({ sync: false })",
  "pino-transport": "pino, transport({ target: 'pino/file' })",
  winston: "winston, File transport",
  "log4js-file": "log4js, file appender",
  logtape: "LogTape, getStreamFileSink() (@logtape/file)",
  floor: "floor: Buffer#utf8Write into a preallocated buffer",
};

async function runOnce(kind, settings) {
  return withTempDir((dir) =>
    runBounded(`hot path ${kind}`, settings.timeoutMs, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      let master;
      if (kind === "logmux") {
        master = track(forkChild("logmux-master", { socketPath, file }));
        await master.next("ready");
        master.send({ type: "reset" });
        await master.next("reset");
      }
      const child = track(forkChild("hotpath", { ...settings, kind, file, socketPath, name: "bench" }));
      const { perCallNs, builtPerCallNs, floorPerCallNs } = await child.next("result");
      await child.exited;
      if (master) {
        master.send({ type: "shutdown" });
        await master.next("closed");
        await master.exited;
      }
      const expected = settings.calls + settings.warmupCalls;
      // MESSAGE once in each constant row's line; E2E_HEAD in those and in every built one.
      const [constant, all] = kind === "floor" ? [] : await countEach(file, [MESSAGE, E2E_HEAD]);
      return {
        builtMedianNs: median(builtPerCallNs),
        builtTail: percentile(builtPerCallNs, 99) / median(builtPerCallNs),
        medianNs: median(perCallNs),
        floorMedianNs: median(floorPerCallNs),
        floorTail: percentile(floorPerCallNs, 99) / median(floorPerCallNs),
        p99Ns: percentile(perCallNs, 99),
        p999Ns: percentile(perCallNs, 99.9),
        blocks: perCallNs.length,
        delivered: kind === "floor" ? null : constant === expected && all === 2 * expected ? all : constant,
        expected: 2 * expected,
      };
    }),
  );
}

export async function run(ctx) {
  const settings = { ...ctx.options.hotpath, timeoutMs: ctx.options.quick ? 60_000 : 120_000 };
  const kinds = selectKinds(ctx, [
    "floor",
    "logmux",
    "pino",
    "pino-transport",
    "winston",
    "log4js-file",
    "logtape",
  ]);
  const rounds = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const kind of rotate(kinds, round)) {
      ctx.progress(`hot path round ${round + 1}/${settings.rounds}: ${kind}`);
      try {
        rounds[kind].push(await runOnce(kind, settings));
      } catch (error) {
        rounds[kind].push({ error: error.message });
        ctx.warn(`hot path ${kind} failed: ${error.message}`);
      }
    }
  }

  const summary = {};
  for (const kind of kinds) {
    const ok = rounds[kind].filter((r) => !r.error);
    const lost = ok.filter((r) => r.delivered !== null && r.delivered !== r.expected);
    summary[kind] = {
      medianNs: median(ok.map((r) => r.medianNs)),
      p99Ns: median(ok.map((r) => r.p99Ns)),
      floorMedianNs: median(ok.map((r) => r.floorMedianNs)),
      /** Median over rounds of (this logger / the floor timed beside it in the same process). */
      overOwnFloor: median(ok.map((r) => r.medianNs / r.floorMedianNs)),
      /** Median over rounds of (p99 of the 100-call blocks / their median) in the same process. */
      tail: median(ok.map((r) => r.p99Ns / r.medianNs)),
      /** The same ratio of the floor timed beside it: what the machine (preemption, GC) adds. */
      floorTail: median(ok.map((r) => r.floorTail)),
      builtMedianNs: median(ok.map((r) => r.builtMedianNs)),
      builtTail: median(ok.map((r) => r.builtTail)),
      okRounds: ok.length,
      failedRounds: rounds[kind].length - ok.length,
      linesOk: lost.length === 0,
      lost,
    };
  }
  const logmux = summary.logmux;
  const ratio = (kind) => (logmux ? logmux.medianNs / summary[kind].medianNs : Number.NaN);
  const table = {
    title: "1. Hot path: cost of one log call (one process)",
    columns: [
      { key: "logger", label: "logger", align: "left" },
      { key: "median", label: "median /call" },
      { key: "p99", label: "p99 /call" },
      { key: "tail", label: "p99/median" },
      { key: "built", label: "message built with +: median" },
      { key: "builtTail", label: "its p99/median" },
      { key: "ratio", label: "logmux/this (median)" },
      { key: "ownFloor", label: "floor in its process" },
      { key: "overFloor", label: "this/floor" },
      { key: "lines", label: "lines written", align: "left" },
    ],
    rows: kinds.map((kind) => {
      const s = summary[kind];
      const r = rounds[kind].find((x) => !x.error);
      let lines = "n/a";
      if (kind !== "floor" && r) {
        lines = s.linesOk
          ? `${fmtInt(r.expected)} ✓`
          : `LOST: ${s.lost.map((x) => `${fmtInt(x.delivered)} of ${fmtInt(x.expected)}`).join(", ")}`;
      }
      if (s.failedRounds) lines += ` (${s.failedRounds} round(s) failed)`;
      return {
        logger: LABELS[kind],
        median: fmtNs(s.medianNs),
        p99: fmtNs(s.p99Ns),
        tail: fmtRatio(s.tail),
        built: fmtNs(s.builtMedianNs),
        builtTail: fmtRatio(s.builtTail),
        ratio: fmtRatio(ratio(kind)),
        ownFloor: fmtNs(s.floorMedianNs),
        overFloor: fmtRatio(s.overOwnFloor),
        lines,
      };
    }),
    notes: [
      `${settings.calls.toLocaleString("en-US")} measured calls per round after ${settings.warmupCalls.toLocaleString("en-US")} warm-up calls, each logger in a fresh process; ${settings.rounds} rounds in round-robin order; the table shows the median over rounds.`,
      `Per-call figures are block means: calls are timed in blocks of ${settings.blockSize} with process.hrtime.bigint() and divided by ${settings.blockSize} (one call is below the timer's resolution); "median" and "p99" are the median and 99th percentile of those block means; "p99/median" is their ratio in each process, median over rounds.`,
      `The loop yields to the event loop every ${settings.blockSize * settings.blocksPerBurst} calls (not timed), so each logger's asynchronous I/O runs as in an application; work a logger defers off the calling code path (winston's streams, pino's transport thread) does not show here but does in the end-to-end CPU column.`,
      `"floor in its process": after every timed block, the same number of copies into a preallocated buffer (Buffer#utf8Write, as the floor row) is timed in the same process; "this/floor" is the median over rounds of the logger's median / that floor's median. Measured side by side like this, the ratio does not depend on how busy the machine was when each process ran.`,
      `Message: ${JSON.stringify(MESSAGE)} (${Buffer.byteLength(MESSAGE)} bytes), level info, each logger's default line format. "message built with +": the same call with ${JSON.stringify(E2E_HEAD)} + n + ${JSON.stringify(E2E_TAIL)} (n counting up), as the end-to-end loops build it, timed in its own block right after each constant block (building included); "lines written" counts both rows. The built row's p99 includes the young-generation collections of the built strings (the floor's built row has them too), so the p99 target is judged on the constant row.`,
      ...(ctx.logmux.available ? [] : [`logmux not measured: ${ctx.logmux.reason}.`]),
    ],
  };

  const targets = [];
  if (logmux && summary.pino && summary.floor) {
    const cheaper = summary.pino.medianNs / logmux.medianNs;
    targets.push({
      target: "worker log call >= 10x cheaper than pino's (destination, sync:false), one process",
      measured: `${fmtRatio(cheaper)} cheaper (${fmtNs(logmux.medianNs)} vs ${fmtNs(summary.pino.medianNs)})`,
      pass: cheaper >= 10,
    });
    const overFloor = logmux.overOwnFloor;
    targets.push({
      target: "worker log call within 2x of the buffer-copy floor",
      measured: `${fmtRatio(overFloor)} the floor timed beside it (${fmtNs(logmux.medianNs)} vs ${fmtNs(logmux.floorMedianNs)}); ${fmtRatio(logmux.medianNs / summary.floor.medianNs)} the floor process's ${fmtNs(summary.floor.medianNs)}`,
      pass: overFloor <= 2,
    });
  }
  if (logmux) {
    targets.push({
      target: `worker log call: p99 of the ${settings.blockSize}-call blocks <= ${TAIL_TARGET}x their median`,
      measured: `${fmtRatio(logmux.tail)} (p99 ${fmtNs(logmux.p99Ns)}, median ${fmtNs(logmux.medianNs)}); the floor timed beside it: ${fmtRatio(logmux.floorTail)}; built with +: ${fmtRatio(logmux.builtTail)}, the floor process's built row ${fmtRatio(summary.floor?.builtTail)}`,
      // Judged on the constant message: the young-generation collections of the strings built
      // with + land in those blocks whatever the logger (the floor's built row shows them too).
      pass: logmux.tail <= TAIL_TARGET,
    });
  }
  if (logmux && summary.winston) {
    const cheapest = kinds
      .filter((k) => k !== "floor" && k !== "logmux")
      .reduce((a, b) => (summary[a].medianNs <= summary[b].medianNs ? a : b));
    targets.push({
      target: "worker log call median <= winston's (the cheapest call of every logger measured)",
      measured: `${fmtRatio(logmux.medianNs / summary.winston.medianNs)} winston's (${fmtNs(logmux.medianNs)} vs ${fmtNs(summary.winston.medianNs)}); built with +: ${fmtRatio(logmux.builtMedianNs / summary.winston.builtMedianNs)} (${fmtNs(logmux.builtMedianNs)} vs ${fmtNs(summary.winston.builtMedianNs)}); cheapest peer: ${LABELS[cheapest]}, ${fmtNs(summary[cheapest].medianNs)}`,
      pass:
        logmux.medianNs <= summary.winston.medianNs &&
        logmux.builtMedianNs <= summary.winston.builtMedianNs &&
        logmux.medianNs <= summary[cheapest].medianNs,
    });
  }
  return { tables: [table], targets, raw: { settings, rounds, summary } };
}
