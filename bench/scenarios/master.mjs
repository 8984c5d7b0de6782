// Scenario 3: the master under load, during the 4 x M end-to-end burst.
import { selectKinds } from "../lib/args.mjs";
import { fmtInt, fmtMB, fmtMs, fmtPct } from "../lib/format.mjs";
import { max, median } from "../lib/stats.mjs";
import { e2eSettings } from "./e2e.mjs";
import { recordsPerWorker, runOnce, runRounds } from "./e2e-runner.mjs";

export const name = "master";

const PROCS = 4;

export async function run(ctx) {
  if (!ctx.logmux.available) return { skipped: `logmux not available: ${ctx.logmux.reason}` };
  const settings = e2eSettings(ctx);
  let results = ctx.shared.e2e?.results[PROCS];
  let source = "the end-to-end scenario's rounds";
  if (!results?.logmux?.length) {
    source = "its own rounds";
    const kinds = selectKinds(ctx, ["logmux", "log4js"]);
    results = (await runRounds(ctx, { ...settings, procsList: [PROCS], kinds }))[PROCS];
  }
  const column = (list) => {
    const ok = (list ?? []).filter((r) => !r.error && r.master);
    if (ok.length === 0) return null;
    return {
      rounds: ok.length,
      records: ok[0].records,
      p50: median(ok.map((r) => r.master.delay.p50)),
      p99: median(ok.map((r) => r.master.delay.p99)),
      maxDelay: max(ok.map((r) => r.master.delay.max)),
      rss: median(ok.map((r) => r.master.rssPeak)),
      rssMax: max(ok.map((r) => r.master.rssPeak)),
      workerRss: median(ok.map((r) => r.workerRssPeak)),
      cpu: median(ok.map((r) => r.masterCpuShare)),
      delivered: ok.every((r) => r.delivered === r.expected),
    };
  };
  const lm = column(results.logmux);
  const l4 = column(results.log4js);
  if (!lm) return { skipped: "no successful logmux 4-worker round" };
  // The same burst with the workers at nice 19. On a machine with fewer cores than busy processes
  // the master's event loop also waits whenever the scheduler runs a worker instead; these rounds
  // take that away, leaving the delay the master's own work causes (how well draining is chunked).
  const niced = [];
  for (let round = 0; round < settings.rounds; round++) {
    ctx.progress(`master under load, workers at nice 19: round ${round + 1}/${settings.rounds}`);
    const perWorker = recordsPerWorker(PROCS, settings.records, "logmux");
    niced.push(
      await runOnce("logmux", PROCS, perWorker, { ...settings, niceWorkers: true }).catch((error) => ({
        error: error.message,
      })),
    );
  }
  const own = column(niced);
  const both = (f) => ({ logmux: f(lm), log4js: l4 ? f(l4) : "n/a" });
  const table = {
    title: `3. Master under load: ${PROCS} workers x ${fmtInt(lm.records)} records`,
    columns: [
      { key: "metric", label: "metric", align: "left" },
      { key: "logmux", label: "logmux master" },
      { key: "log4js", label: "log4js multiprocess master (reference)" },
    ],
    rows: [
      { metric: "event-loop delay p50", ...both((c) => fmtMs(c.p50)) },
      { metric: "event-loop delay p99", ...both((c) => fmtMs(c.p99)) },
      { metric: "event-loop delay max (worst round)", ...both((c) => fmtMs(c.maxDelay)) },
      {
        metric: "event-loop delay p99 / max, workers at nice 19",
        logmux: own ? `${fmtMs(own.p99)} / ${fmtMs(own.maxDelay)}` : "failed",
        log4js: "n/a",
      },
      {
        metric: "master RSS peak (median / worst round)",
        ...both((c) => `${fmtMB(c.rss)} / ${fmtMB(c.rssMax)}`),
      },
      { metric: "worker RSS peak (largest worker)", ...both((c) => fmtMB(c.workerRss)) },
      { metric: "master CPU (of one core)", ...both((c) => fmtPct(c.cpu)) },
      { metric: "every line delivered", ...both((c) => (c.delivered ? "yes" : "NO")) },
    ],
    notes: [
      `From ${source}: median over ${lm.rounds} round(s) unless noted.`,
      "Event-loop delay: perf_hooks.monitorEventLoopDelay({ resolution: 1 }) in the master, reset when the workers are forked, read after the master closed its file.",
      `"workers at nice 19": ${settings.rounds} more logmux round(s) with the workers at the lowest CPU priority. With ${PROCS} busy workers and a master on this machine's cores, the master's event loop also waits whenever the scheduler runs a worker instead; at nice 19 that wait mostly goes, and what remains is the delay the master's own work causes.`,
      "RSS: process.memoryUsage.rss() sampled every 100 ms in the master and in each worker.",
      ...(l4 ? [`log4js logs ${fmtInt(l4.records)} records per worker (see the end-to-end notes).`] : []),
    ],
  };
  const targets = [
    {
      target: "master event-loop delay p99 < 20 ms during the 4-worker burst",
      measured: `p99 ${fmtMs(lm.p99)}, max ${fmtMs(lm.maxDelay)}${own ? ` (workers at nice 19: p99 ${fmtMs(own.p99)})` : ""}`,
      pass: lm.p99 < 20,
    },
  ];
  return { tables: [table], targets, raw: { source, logmux: lm, log4js: l4, nicedWorkers: own } };
}
