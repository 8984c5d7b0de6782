// Runs end-to-end rounds: P worker processes x M records into one file, per logger.
// Shared by the end-to-end, master-under-load and sustained (calibration) scenarios.
import { setPriority } from "node:os";
import { join } from "node:path";
import { E2E_HEAD } from "../lib/env.mjs";
import { countOccurrences, freePort, withTempDir } from "../lib/files.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { max, median, rotate, sum } from "../lib/stats.mjs";

/**
 * Slow peers log this fraction of M so the default run fits in a few minutes: log4js' multiprocess
 * appender moves ~15k lines/s here (a full 4 x 250k run would take over a minute per round), winston
 * ~150k lines/s. lines/s stays comparable (process start-up weighs a little more).
 */
export const RECORD_SCALE = { winston: 0.5, log4js: 0.05 };

/**
 * The no-logging run a logger's run is compared with: the same P and M (a scaled peer gets its
 * own, so "the same processes running the same loop" holds for it too). Key in runRounds' results.
 */
export function baselineKey(procs, records, kind) {
  const mine = recordsPerWorker(procs, records, kind);
  return mine === recordsPerWorker(procs, records, "none") ? "none" : `none@${mine}`;
}

/** Records per worker: `records` up to 4 processes, then scaled so the total stays 4 x records. */
export function recordsPerWorker(procs, records, kind) {
  const perWorker = procs <= 4 ? records : Math.ceil((4 * records) / procs);
  return Math.max(1, Math.round(perWorker * (RECORD_SCALE[kind] ?? 1)));
}

const QUEUE_FIRST_RECONNECT_MS = 5;

const MASTERS = { logmux: "logmux-master", log4js: "log4js-master" };

/**
 * One run; resolves with its measurements (never with a partial run: failures throw).
 * `niceWorkers` runs the workers at the lowest CPU priority, so the master is never the process
 * waiting for a core: what its event loop still shows is its own blocking. `handlers`: the logmux
 * master's (children/logmux-master.mjs); with "json", the JSON file's lines are counted as well.
 * `busy`: the master also reports its busy window (first record in to last settled).
 * `queueFirst`: the workers log everything before the logmux master is started.
 */
export async function runOnce(
  kind,
  procs,
  records,
  { chunk, timeoutMs, niceWorkers = false, handlers, busy, queueFirst = false },
) {
  return withTempDir((dir) =>
    runBounded(`${kind} x${procs}`, timeoutMs, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      const port = kind === "log4js" ? await freePort() : undefined;
      let master;
      const startMaster = async () => {
        // Its console handler (if any) writes to stdout: /dev/null here, as `> /dev/null`.
        const stdout = handlers?.includes("console") ? "ignore" : "inherit";
        master = track(forkChild(MASTERS[kind], { socketPath, file, port, handlers, busy }, { stdout }));
        await master.next("ready");
        master.send({ type: "reset" });
        await master.next("reset");
      };
      if (MASTERS[kind] && !queueFirst) await startMaster();
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
          announce: queueFirst,
          // Started before their master, they retry every few ms, not on the default backoff (up
          // to 2 s), so the master is not left idle between their connections.
          reconnectMs: queueFirst ? QUEUE_FIRST_RECONNECT_MS : undefined,
          name: `worker-${String(i).padStart(2, "0")}`,
        };
        const worker = track(forkChild("e2e-worker", params));
        if (niceWorkers) setPriority(worker.pid, 19);
        workers.push(worker);
      }
      if (queueFirst) {
        // Every record is logged (held by its worker) before the master listens: from its first
        // read on, it has more to take than it can.
        await Promise.all(workers.map((w) => w.next("logged")));
        await startMaster();
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
        delivered: kind === "none" ? 0 : await countOccurrences(file, E2E_HEAD),
        deliveredJson: handlers?.includes("json") ? await countOccurrences(`${file}.json`, E2E_HEAD) : null,
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
              busy: masterReport.busy,
            }
          : null,
      };
    }),
  );
}

/**
 * What runRounds runs at one P: every kind at its M, and with "none" among the kinds, one more
 * no-logging run per scaled M of the others (keyed as baselineKey names it).
 */
function runList(procs, records, kinds) {
  const list = kinds.map((kind) => ({ key: kind, kind, perWorker: recordsPerWorker(procs, records, kind) }));
  if (!kinds.includes("none")) return list;
  for (const kind of kinds) {
    const key = baselineKey(procs, records, kind);
    if (!list.some((e) => e.key === key))
      list.push({ key, kind: "none", perWorker: recordsPerWorker(procs, records, kind) });
  }
  return list;
}

/**
 * Rounds over every (P, logger): rounds outermost, loggers in round-robin order inside, so drift
 * on a noisy machine hits all loggers alike. Returns results[P][key] = [round results], key a
 * kind or a scaled no-logging run (baselineKey).
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
  for (const procs of procsList)
    results[procs] = Object.fromEntries(runList(procs, records, kinds).map((e) => [e.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const procs of procsList) {
      for (const { key, kind, perWorker } of rotate(runList(procs, records, kinds), round + procs)) {
        ctx.progress(`end to end round ${round + 1}/${rounds}: ${key}, ${procs} x ${perWorker}`);
        try {
          results[procs][key].push(await runOnce(kind, procs, perWorker, settings));
        } catch (error) {
          results[procs][key].push({ error: error.message, procs, records: perWorker });
          ctx.warn(`end to end ${key} x${procs} failed: ${error.message}`);
        }
      }
    }
  }
  return results;
}
