// Scenario 6: a worker's fixed costs (import and first connection, memory at full speed) and its
// event loop while it logs at a steady 100k records/s, logmux against the peers.
import { join } from "node:path";
import { selectKinds } from "../lib/args.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { countOccurrences, withTempDir } from "../lib/files.mjs";
import { fmtInt, fmtMB, fmtMs, fmtNs, fmtRate } from "../lib/format.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { median, rotate } from "../lib/stats.mjs";
import { e2eSettings } from "./e2e.mjs";
import { baselineKey, runRounds } from "./e2e-runner.mjs";

export const name = "worker";

const LABELS = {
  none: "no logging (same process, same loop)",
  logmux: "logmux WorkerLogger",
  pino: "pino, destination({ sync: false })",
  winston: "winston, File transport",
  "log4js-file": "log4js, file appender",
  log4js: "log4js multiprocess (worker side)",
  logtape: "LogTape, getStreamFileSink()",
};

/** Issue 15's budgets for a worker: CPU of import + first connection, RSS over no logging, blocking. */
const START_CPU_TARGET_MS = 10;
const RSS_TARGET_BYTES = 16 * 1048576;
const BLOCK_TARGET_MS = 1;
/** monitorEventLoopDelay records whole timer intervals: a sample is at least this, blocking is the rest. */
const DELAY_RESOLUTION_MS = 1;

const START_KINDS = ["logmux", "pino", "winston", "log4js-file", "logtape"];
const RSS_KINDS = ["none", "logmux", "pino", "winston", "log4js", "logtape"];
/** log4js is left out: its multiprocess appender moves ~10k lines/s here, a tenth of the rate. */
const PACED_KINDS = ["none", "logmux", "pino", "winston", "logtape"];

/** Runs `child` (a children/ script) with a logmux master beside it when kind is logmux. */
function withMaster(kind, label, timeoutMs, script, params, resultType) {
  return withTempDir((dir) =>
    runBounded(label, timeoutMs, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      let master;
      if (kind === "logmux") {
        master = track(forkChild("logmux-master", { socketPath, file }));
        await master.next("ready");
        master.send({ type: "reset" });
        await master.next("reset");
      }
      const child = track(forkChild(script, { ...params, kind, file, socketPath, name: "bench" }));
      const result = await child.next(resultType);
      await child.exited;
      if (master) {
        master.send({ type: "shutdown" });
        await master.next("closed");
        await master.exited;
      }
      return { ...result, delivered: await countOccurrences(file, MESSAGE) };
    }),
  );
}

async function roundRobin(ctx, kinds, rounds, label, once) {
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const kind of rotate(kinds, round)) {
      ctx.progress(`${label} round ${round + 1}/${rounds}: ${kind}`);
      try {
        out[kind].push(await once(kind));
      } catch (error) {
        ctx.warn(`${label} ${kind} failed: ${error.message}`);
      }
    }
  }
  return out;
}

/** Peak worker RSS at full speed per kind, from the end-to-end P=1 rounds (or rounds of its own). */
async function fullSpeedRss(ctx, settings) {
  let results = ctx.shared.e2e?.results[1];
  let source = "the end-to-end scenario's P=1 rounds";
  if (!results?.none?.length) {
    source = "its own P=1 end-to-end rounds";
    const kinds = selectKinds(ctx, RSS_KINDS);
    results = (await runRounds(ctx, { ...settings, procsList: [1], kinds, warmup: false }))[1];
  }
  const peak = (key) => median((results[key] ?? []).filter((r) => !r.error).map((r) => r.workerRssPeak));
  const rss = {};
  for (const kind of selectKinds(ctx, RSS_KINDS)) {
    rss[kind] = { peak: peak(kind), base: peak(baselineKey(1, settings.records, kind)) };
  }
  return { rss, source };
}

export async function run(ctx) {
  const { rounds, paced } = ctx.options.worker;
  const settings = e2eSettings(ctx);
  const startKinds = selectKinds(ctx, START_KINDS);
  const starts = await roundRobin(ctx, startKinds, rounds, "worker start-up", (kind) =>
    withMaster(kind, `start ${kind}`, 30_000, "worker-start", {}, "result"),
  );
  const { rss, source } = await fullSpeedRss(ctx, settings);
  const pacedKinds = selectKinds(ctx, PACED_KINDS);
  const runs = await roundRobin(ctx, pacedKinds, paced.rounds, "worker at 100k records/s", (kind) =>
    withMaster(
      kind,
      `paced ${kind}`,
      (paced.seconds + 60) * 1000,
      "sustained-worker",
      { rate: paced.rate, seconds: paced.seconds, tickMs: paced.tickMs },
      "done",
    ),
  );

  const med = (list, f) => median(list.map(f));
  const rssKinds = ["none", ...startKinds.map((k) => (k === "log4js-file" ? "log4js" : k))];
  const startTable = {
    title: "6. A worker's fixed costs: import + first record handed over, and memory at full speed",
    columns: [
      { key: "logger", label: "logger", align: "left" },
      { key: "importCpu", label: "import CPU" },
      { key: "firstCpu", label: "set-up + first record CPU" },
      { key: "totalCpu", label: "total CPU" },
      { key: "totalWall", label: "total wall" },
      { key: "rss", label: "RSS peak at full speed" },
      { key: "rssOver", label: "RSS above no logging" },
    ],
    rows: rssKinds.map((kind) => {
      const s = starts[kind === "log4js" ? "log4js-file" : kind] ?? [];
      const r = rss[kind];
      return {
        logger: kind === "log4js" ? `${LABELS["log4js-file"]} / RSS: ${LABELS.log4js}` : LABELS[kind],
        importCpu: s.length ? fmtMs(med(s, (x) => x.importCpuMs)) : "n/a",
        firstCpu: s.length ? fmtMs(med(s, (x) => x.firstCpuMs)) : "n/a",
        totalCpu: s.length ? fmtMs(med(s, (x) => x.importCpuMs + x.firstCpuMs)) : "n/a",
        totalWall: s.length ? fmtMs(med(s, (x) => x.importWallMs + x.firstWallMs)) : "n/a",
        rss: fmtMB(r?.peak),
        rssOver: kind === "none" || !r ? "n/a" : fmtMB(r.peak - r.base),
      };
    }),
    notes: [
      `CPU: process.cpuUsage() (user + system, every thread of the process) from just before the logger's modules are imported until its first record is handed over; each logger in a fresh process, ${rounds} round(s) in round-robin order, median. The node process's own start-up comes before and is not counted.`,
      "logmux: import of the package entry, new WorkerLogger, one info() and flush() resolved: connected to a master that was already listening, hello/welcome exchanged, the record written to its socket. Peers: import, set-up, one call and close() resolved (the record is in the file).",
      `RSS peak at full speed: process.memoryUsage.rss() sampled every 100 ms in the worker of ${source} (1 x M as fast as the loop goes, messages built with +); "above no logging": minus the same worker's peak with the loop and no logger (same M).`,
    ],
  };

  const base = runs.none?.length ? med(runs.none, (x) => x.pacedCpuMicros) : Number.NaN;
  const pacedTable = {
    title: `6b. A worker's event loop while it logs ${fmtInt(paced.rate)} records/s`,
    columns: [
      { key: "logger", label: "logger", align: "left" },
      { key: "rate", label: "logged /s" },
      { key: "p50", label: "delay p50" },
      { key: "p99", label: "delay p99" },
      { key: "max", label: "delay max" },
      { key: "blocked", label: "longest block (max - 1 ms)" },
      { key: "cpu", label: "CPU /record over no logging" },
      { key: "lines", label: "lines in file", align: "left" },
    ],
    rows: pacedKinds.map((kind) => {
      const list = runs[kind] ?? [];
      if (!list.length) return { logger: LABELS[kind], p50: "FAILED" };
      const worst = Math.max(...list.map((x) => x.delay.max));
      const lost = list.filter((x) => x.delivered !== x.sent);
      return {
        logger: LABELS[kind],
        rate: fmtRate(med(list, (x) => x.sent / paced.seconds)),
        p50: fmtMs(med(list, (x) => x.delay.p50)),
        p99: fmtMs(med(list, (x) => x.delay.p99)),
        max: fmtMs(worst),
        blocked: fmtMs(Math.max(0, worst - DELAY_RESOLUTION_MS)),
        cpu: kind === "none" ? "n/a" : fmtNs(med(list, (x) => ((x.pacedCpuMicros - base) * 1000) / x.sent)),
        lines:
          kind === "none"
            ? "n/a"
            : lost.length
              ? `LOST: ${lost.map((x) => `${fmtInt(x.delivered)} of ${fmtInt(x.sent)}`).join(", ")}`
              : `${fmtInt(list[0].sent)} ✓`,
      };
    }),
    notes: [
      `One worker offers ${fmtInt(paced.rate)} records/s for ${paced.seconds} s (${paced.rounds} round(s), each logger in a fresh process; logmux with its master in another process), logging on a ${paced.tickMs} ms timer whatever its schedule says is due; log4js is left out (its multiprocess appender moves ~10k lines/s here).`,
      `Delay: perf_hooks.monitorEventLoopDelay({ resolution: ${DELAY_RESOLUTION_MS} }) in the worker over the paced period; it records whole timer intervals, so a sample is at least ${DELAY_RESOLUTION_MS} ms and "longest block" is the worst round's max minus that. The no-logging row shows what the machine's scheduler adds by itself (other processes share the cores); a logger's figure includes its calls in a tick and every flush.`,
      "logged /s: what the schedule got logged (a logger whose calls take longer than the schedule allows falls behind). CPU /record: the worker's CPU over the paced period minus the no-logging worker's (median), / records.",
    ],
  };

  const targets = [];
  const lmStart = starts.logmux ?? [];
  if (lmStart.length) {
    const total = med(lmStart, (x) => x.importCpuMs + x.firstCpuMs);
    targets.push({
      target: `worker import + first connection <= ${START_CPU_TARGET_MS} ms of CPU`,
      measured: `${fmtMs(total)} (import ${fmtMs(med(lmStart, (x) => x.importCpuMs))}, connect + first record ${fmtMs(med(lmStart, (x) => x.firstCpuMs))})`,
      pass: total <= START_CPU_TARGET_MS,
    });
  }
  if (rss.logmux && Number.isFinite(rss.logmux.peak - rss.logmux.base)) {
    const over = rss.logmux.peak - rss.logmux.base;
    targets.push({
      target: `worker RSS at full speed <= ${fmtMB(RSS_TARGET_BYTES)} above the same process without logging`,
      measured: `${fmtMB(over)} above (${fmtMB(rss.logmux.peak)} vs ${fmtMB(rss.logmux.base)})`,
      pass: over <= RSS_TARGET_BYTES,
    });
  }
  if (runs.logmux?.length) {
    const worst = Math.max(...runs.logmux.map((x) => x.delay.max));
    const blocked = Math.max(0, worst - DELAY_RESOLUTION_MS);
    const none = runs.none?.length ? Math.max(...runs.none.map((x) => x.delay.max)) : Number.NaN;
    targets.push({
      target: `worker event loop never blocked > ${BLOCK_TARGET_MS} ms at ${fmtInt(paced.rate)} records/s`,
      measured: `longest ${fmtMs(blocked)} (delay max ${fmtMs(worst)}, p99 ${fmtMs(med(runs.logmux, (x) => x.delay.p99))}; no-logging worker's max ${fmtMs(none)})`,
      pass: blocked <= BLOCK_TARGET_MS,
    });
  }
  return { tables: [startTable, pacedTable], targets, raw: { starts, rss, rssSource: source, paced: runs } };
}
