// Runs end-to-end rounds: P worker processes x M records into one file, per logger.
// Shared by the end-to-end, master-under-load and sustained (calibration) scenarios.
import { setPriority } from "node:os";
import { join } from "node:path";
import { MESSAGE } from "../lib/env.mjs";
import { countOccurrences, freePort, withTempDir } from "../lib/files.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { max, median, rotate, sum } from "../lib/stats.mjs";

/**
 * Slow peers log this fraction of M so the default run fits in a few minutes: log4js' multiprocess
 * appender moves ~15k lines/s here (a full 4 x 250k run would take over a minute per round), winston
 * ~150k lines/s. lines/s stays comparable (process start-up weighs a little more).
 */
export const RECORD_SCALE = { winston: 0.5, log4js: 0.05 };

/** Records per worker: `records` up to 4 processes, then scaled so the total stays 4 x records. */
export function recordsPerWorker(procs, records, kind) {
  const perWorker = procs <= 4 ? records : Math.ceil((4 * records) / procs);
  return Math.max(1, Math.round(perWorker * (RECORD_SCALE[kind] ?? 1)));
}

const MASTERS = { logmux: "logmux-master", log4js: "log4js-master" };

/**
 * One run; resolves with its measurements (never with a partial run: failures throw).
 * `niceWorkers` runs the workers at the lowest CPU priority, so the master is never the process
 * waiting for a core: what its event loop still shows is its own blocking.
 */
export async function runOnce(kind, procs, records, { chunk, timeoutMs, niceWorkers = false }) {
  return withTempDir((dir) =>
    runBounded(`${kind} x${procs}`, timeoutMs, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      const port = kind === "log4js" ? await freePort() : undefined;
      let master;
      if (MASTERS[kind]) {
        master = track(forkChild(MASTERS[kind], { socketPath, file, port }));
        await master.next("ready");
        master.send({ type: "reset" });
        await master.next("reset");
      }
      const expected = procs * records;
      const started = performance.now();
      const workers = [];
      for (let i = 0; i < procs; i++) {
        const params = {
          kind,
          records,
          chunk,
          file,
          socketPath,
          port,
          name: `worker-${String(i).padStart(2, "0")}`,
        };
        const worker = track(forkChild("e2e-worker", params));
        if (niceWorkers) setPriority(worker.pid, 19);
        workers.push(worker);
      }
      const reports = await Promise.all(workers.map((w) => w.next("done")));
      let finished = performance.now();
      let masterReport;
      if (master) {
        master.send({ type: "shutdown", expected });
        masterReport = await master.next("closed");
        finished = performance.now();
      }
      await Promise.all(workers.map((w) => w.exited));
      if (master) await master.exited;
      const wallMs = finished - started;
      const workerCpu = sum(reports.map((r) => r.cpuMicros)) / 1e6;
      const masterCpu = masterReport ? masterReport.cpuMicros / 1e6 : 0;
      return {
        procs,
        records,
        expected: kind === "none" ? 0 : expected,
        delivered: kind === "none" ? 0 : await countOccurrences(file, MESSAGE),
        wallMs,
        linesPerSec: expected / (wallMs / 1000),
        perCallNs: median(reports.map((r) => r.busyNs / records)),
        cpuSeconds: workerCpu + masterCpu,
        workerCpuSeconds: workerCpu,
        masterCpuSeconds: masterCpu,
        masterCpuShare: masterReport ? masterCpu / (wallMs / 1000) : null,
        workerRssPeak: max(reports.map((r) => r.rssPeak)),
        master: masterReport
          ? {
              delay: masterReport.delay,
              rssPeak: masterReport.rssPeak,
              rssSamples: masterReport.rssSamples.length,
              workers: masterReport.workers,
            }
          : null,
      };
    }),
  );
}

/**
 * Rounds over every (P, logger): rounds outermost, loggers in round-robin order inside, so drift
 * on a noisy machine hits all loggers alike. Returns results[P][kind] = [round results].
 */
export async function runRounds(ctx, { procsList, kinds, rounds, records, chunk, timeoutMs, warmup = true }) {
  const settings = { chunk, timeoutMs };
  if (warmup) {
    for (const kind of kinds) {
      ctx.progress(`end to end warm-up: ${kind}`);
      await runOnce(kind, 1, recordsPerWorker(1, Math.min(records, 20_000), kind), settings).catch((error) =>
        ctx.warn(`warm-up ${kind} failed: ${error.message}`),
      );
    }
  }
  const results = {};
  for (const procs of procsList) results[procs] = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const procs of procsList) {
      for (const kind of rotate(kinds, round + procs)) {
        const perWorker = recordsPerWorker(procs, records, kind);
        ctx.progress(`end to end round ${round + 1}/${rounds}: ${kind}, ${procs} x ${perWorker}`);
        try {
          results[procs][kind].push(await runOnce(kind, procs, perWorker, settings));
        } catch (error) {
          results[procs][kind].push({ error: error.message, procs, records: perWorker });
          ctx.warn(`end to end ${kind} x${procs} failed: ${error.message}`);
        }
      }
    }
  }
  return results;
}
