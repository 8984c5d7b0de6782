// Scenario 4: sustained load at a fixed offered rate near the master's capacity; does the master grow?
import { join } from "node:path";
import { MESSAGE } from "../lib/env.mjs";
import { countOccurrences, withTempDir } from "../lib/files.mjs";
import { fmtInt, fmtMB, fmtMs, fmtRate } from "../lib/format.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { median, slope, sum } from "../lib/stats.mjs";
import { summarize } from "./e2e.mjs";
import { runRounds } from "./e2e-runner.mjs";

export const name = "sustained";

/** Growth above this (MB/min) after warm-up counts as "not steady". */
const STEADY_MB_PER_MIN = 1;

async function capacity(ctx) {
  const measured = ctx.shared.e2e?.results[4]?.logmux;
  if (measured?.some((r) => !r.error))
    return { linesPerSec: summarize(measured).linesPerSec, from: "end-to-end 4-worker run" };
  const { chunk } = ctx.options.e2e;
  ctx.progress("sustained: calibrating logmux capacity (4 x 100k)");
  const results = await runRounds(ctx, {
    procsList: [4],
    kinds: ["logmux"],
    rounds: 1,
    records: 100_000,
    chunk,
    timeoutMs: 90_000,
    warmup: false,
  });
  return { linesPerSec: summarize(results[4].logmux).linesPerSec, from: "a 4 x 100k calibration run" };
}

export async function run(ctx) {
  if (!ctx.logmux.available) return { skipped: `logmux not available: ${ctx.logmux.reason}` };
  const { seconds, workers, load } = ctx.options.sustained;
  const cap = await capacity(ctx);
  const rate = Math.round((cap.linesPerSec * load) / workers);
  ctx.progress(`sustained: ${workers} workers x ${fmtRate(rate)} for ${seconds} s`);
  const outcome = await withTempDir((dir) =>
    runBounded("sustained", (seconds + 60) * 1000, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      const master = track(forkChild("logmux-master", { socketPath, file, rssIntervalMs: 1000 }));
      await master.next("ready");
      master.send({ type: "reset" });
      await master.next("reset");
      const children = [];
      for (let i = 0; i < workers; i++) {
        children.push(
          track(forkChild("sustained-worker", { socketPath, name: `steady-${i}`, rate, seconds })),
        );
      }
      const reports = await Promise.all(children.map((c) => c.next("done")));
      master.send({ type: "shutdown" });
      const closed = await master.next("closed");
      await Promise.all([...children.map((c) => c.exited), master.exited]);
      const sent = sum(reports.map((r) => r.sent));
      return { reports, closed, sent, delivered: await countOccurrences(file, MESSAGE) };
    }),
  );

  // Samples taken while the workers were running; the first 20% (at least 2 s) is warm-up.
  const samples = outcome.closed.rssSamples.filter((s) => s.t <= seconds * 1000);
  const warmupMs = Math.max(2000, seconds * 200);
  const steady = samples.filter((s) => s.t >= warmupMs);
  const mb = (bytes) => bytes / 1048576;
  const slopeMBPerMin = slope(
    steady.map((s) => s.t / 60_000),
    steady.map((s) => mb(s.rss)),
  );
  // The same fit over the second half only: a one-off rise early in the run (allocator and queues
  // sizing themselves) and then a plateau reads as growth over the whole run but not here.
  const secondHalf = samples.filter((s) => s.t >= (seconds * 1000) / 2);
  const lateSlopeMBPerMin = slope(
    secondHalf.map((s) => s.t / 60_000),
    secondHalf.map((s) => mb(s.rss)),
  );
  const sampleAt = (fraction) =>
    samples[Math.min(samples.length - 1, Math.floor(fraction * (samples.length - 1)))];
  const startMidEnd = (field) => [0, 0.5, 1].map((f) => fmtMB(sampleAt(f)?.[field])).join(" / ");
  const heapSlope = slope(
    steady.map((s) => s.t / 60_000),
    steady.map((s) => mb(s.heapUsed)),
  );
  const offered = rate * workers;
  const achieved = outcome.sent / seconds;
  const table = {
    title: `4. Sustained: ${workers} workers at a fixed offered rate for ${seconds} s`,
    columns: [
      { key: "metric", label: "metric", align: "left" },
      { key: "value", label: "value", align: "left" },
    ],
    rows: [
      {
        metric: "offered rate (total)",
        value: `${fmtRate(offered)} (${load} x ${fmtRate(cap.linesPerSec)} measured by ${cap.from})`,
      },
      { metric: "logged rate (total)", value: fmtRate(achieved) },
      {
        metric: "lines in file (exact check)",
        value:
          outcome.delivered === outcome.sent
            ? `${fmtInt(outcome.sent)} ✓`
            : `LOST LINES: ${fmtInt(outcome.delivered)} of ${fmtInt(outcome.sent)}`,
      },
      { metric: "master RSS start / mid / end", value: startMidEnd("rss") },
      { metric: "master RSS slope after warm-up", value: `${slopeMBPerMin.toFixed(2)} MB/min` },
      { metric: "master RSS slope, second half only", value: `${lateSlopeMBPerMin.toFixed(2)} MB/min` },
      { metric: "master JS heap used start / mid / end", value: startMidEnd("heapUsed") },
      { metric: "master JS heap slope after warm-up", value: `${heapSlope.toFixed(2)} MB/min` },
      { metric: "master Buffers (arrayBuffers) start / mid / end", value: startMidEnd("arrayBuffers") },
      {
        metric: "master event-loop delay p99 / max",
        value: `${fmtMs(outcome.closed.delay.p99)} / ${fmtMs(outcome.closed.delay.max)}`,
      },
      {
        metric: "worker RSS start / end (median worker)",
        value: `${fmtMB(median(outcome.reports.map((r) => r.rssStart)))} / ${fmtMB(median(outcome.reports.map((r) => r.rssEnd)))}`,
      },
    ],
    notes: [
      "Each worker logs on a 5 ms timer whatever its schedule says is due (capped per tick), so the offered rate is fixed, not as-fast-as-possible.",
      `Master RSS sampled every second; the slope is a least-squares fit over the samples after the first ${Math.round(warmupMs / 1000)} s; steady means under ${STEADY_MB_PER_MIN} MB/min.`,
    ],
  };
  const targets = [
    {
      target: `no master RSS growth in the sustained run (slope < ${STEADY_MB_PER_MIN} MB/min)`,
      measured: `${slopeMBPerMin.toFixed(2)} MB/min over ${seconds} s at ${fmtRate(achieved)} (second half: ${lateSlopeMBPerMin.toFixed(2)} MB/min)${outcome.delivered === outcome.sent ? "" : ", LOST LINES"}`,
      pass: slopeMBPerMin < STEADY_MB_PER_MIN && outcome.delivered === outcome.sent,
    },
  ];
  return {
    tables: [table],
    targets,
    raw: {
      rate,
      offered,
      capacity: cap,
      sent: outcome.sent,
      delivered: outcome.delivered,
      samples,
      reports: outcome.reports,
      delay: outcome.closed.delay,
    },
  };
}
