// Scenario 5: structured records. The cost of a call with fields, %-arguments and a child's
// bindings in the calling process, against the plain call and against pino and winston making the
// same calls; and the master's rendering of such records to lines, on one core.
import { join } from "node:path";
import { selectKinds } from "../lib/args.mjs";
import { MESSAGE } from "../lib/env.mjs";
import { countEach, withTempDir } from "../lib/files.mjs";
import { fmtInt, fmtNs, fmtRate, fmtRatio } from "../lib/format.mjs";
import { forkChild, runBounded } from "../lib/proc.mjs";
import { median, percentile, rotate } from "../lib/stats.mjs";
import { CONTEXT, expectedMarkers, MIXIN_MESSAGE, ROWS, SPAN_MESSAGE } from "../lib/structured-loggers.mjs";

export const name = "structured";

const LABELS = { logmux: "logmux", pino: "pino", winston: "winston", logtape: "LogTape" };

async function runOnce(kind, settings) {
  return withTempDir((dir) =>
    runBounded(`structured ${kind}`, settings.timeoutMs, async (track) => {
      const file = join(dir, "out.log");
      const socketPath = join(dir, "m.sock");
      let master;
      if (kind === "logmux") {
        master = track(forkChild("logmux-master", { socketPath, file }));
        await master.next("ready");
        master.send({ type: "reset" });
        await master.next("reset");
      }
      const child = track(forkChild("structured", { ...settings, kind, file, socketPath, name: "bench" }));
      const { keys, perCallNs, ownCpuNs, cpuPerCallNs } = await child.next("result");
      await child.exited;
      if (master) {
        master.send({ type: "shutdown" });
        await master.next("closed");
        await master.exited;
      }
      const rowKeys = keys.filter((k) => k !== "floor");
      const expected = expectedMarkers(rowKeys, settings.calls + settings.warmupCalls);
      const markers = [...expected.keys()];
      const counts = markers.map(() => 0);
      for (const path of [file, `${file}.splat`]) {
        (await countEach(path, markers)).forEach((n, k) => {
          counts[k] += n;
        });
      }
      const rows = {};
      keys.forEach((key, r) => {
        rows[key] = {
          medianNs: median(perCallNs[r]),
          p99Ns: percentile(perCallNs[r], 99),
          ownNs: median(ownCpuNs[r]),
        };
      });
      return {
        rows,
        cpuPerCallNs,
        delivered: markers.map((m, k) => ({ marker: m, lines: counts[k], expected: expected.get(m) })),
      };
    }),
  );
}

async function renderOnce(settings) {
  return runBounded("structured render", settings.timeoutMs, async (track) => {
    const child = track(forkChild("render", settings));
    const result = await child.next("result");
    await child.exited;
    return result;
  });
}

const perRound = (ok, f) => median(ok.map(f));

function callTable(kinds, summary, settings, notes) {
  const lm = summary.logmux;
  const cell = (kind, key) => fmtNs(summary[kind]?.rows[key]?.ownNs);
  const over = (kind, key) => {
    const theirs = summary[kind]?.rows[key]?.ownNs;
    const mine = lm?.rows[key]?.ownNs;
    return mine && theirs ? fmtRatio(theirs / mine) : "n/a";
  };
  const peers = kinds.filter((k) => k !== "logmux");
  const columns = [
    { key: "row", label: "call", align: "left" },
    ...kinds.map((k) => ({ key: k, label: `${LABELS[k]} CPU/call` })),
    ...peers.map((k) => ({ key: `${k}Over`, label: `${LABELS[k]}/logmux` })),
    { key: "paired", label: "logmux this/plain (paired)" },
    { key: "wall", label: "logmux call, wall" },
  ];
  const rows = ROWS.map((row) => ({
    row: row.label,
    ...Object.fromEntries(kinds.map((k) => [k, cell(k, row.key)])),
    ...Object.fromEntries(peers.map((k) => [`${k}Over`, over(k, row.key)])),
    paired: lm?.paired[row.key] === undefined ? "n/a" : fmtRatio(lm.paired[row.key]),
    wall: fmtNs(lm?.rows[row.key]?.medianNs),
  }));
  rows.push({
    row: "floor: Buffer#utf8Write, timed beside the rows",
    ...Object.fromEntries(kinds.map((k) => [k, cell(k, "floor")])),
    wall: fmtNs(lm?.rows.floor?.medianNs),
  });
  rows.push({
    row: "CPU per call, all rows, through close()",
    ...Object.fromEntries(kinds.map((k) => [k, fmtNs(summary[k]?.cpuPerCallNs)])),
  });
  rows.push({
    row: "lines written (exact check)",
    ...Object.fromEntries(kinds.map((k) => [k, summary[k]?.linesText ?? "n/a"])),
  });
  return {
    title: "5. Structured records: cost of one log call (one process)",
    columns,
    rows,
    notes: [
      `Each logger in a fresh process per round; ${settings.rounds} rounds in round-robin order; median over rounds. In each process the rows take turns in bursts of ${settings.blocksPerBurst} blocks of ${settings.blockSize} calls, the floor among them (${fmtInt(settings.calls)} measured calls per row after ${fmtInt(settings.warmupCalls)} warm-up calls), and every burst ends with a yield to the event loop.`,
      `"CPU/call": the process's CPU time over one burst and the yield after it / the burst's calls, median over bursts: the call and the work it left for the next tick (logmux copies a plain record into its batch there; pino's and winston's streams write there), charged to the row whose calls left it. "logmux call, wall": the median block's wall time / its calls, what the caller waits for. Before 2026-12-02 the rows took turns block by block and yielded only every ${settings.blocksPerBurst} blocks of all of them, so a logmux structured call also paid for the plain records the rows before it had queued, and the plain row's own copy was never timed.`,
      `"paired": the median over rounds of (this row's CPU/call / the plain row's CPU/call) in the same process; the %-argument target compares that row with the "+" row the same way.`,
      `Work that outlasts one yield (winston's File transport writes on later ticks) is charged to the rows after it, whichever they are: a logger's floor row, which logs nothing, shows how much; "CPU per call, all rows, through close()" below is the complete figure.`,
      `Calls: logmux log.info("user logged in", { user: "bob", id: 42, px: 101.25, ok: true }), log.info("order %s filled at %d", id, px), log.info("order " + id + " filled at " + px), log.child({ reqId: "r-1", user: "bob", region: "eu" }).info(message); pino the same with the fields object first; winston the same, the %-argument row through a second logger with format.combine(format.splat(), format.json()). id and px alternate between two values, so nothing is a constant V8 could fold.`,
      `Context rows: every row is timed inside withLogContext(${JSON.stringify(CONTEXT)}) (pino: AsyncLocalStorage#run) and, for logmux, with a real SDK span active (BasicTracerProvider of @opentelemetry/sdk-trace-base, AsyncLocalStorageContextManager). "mixin": a second WorkerLogger with { mixin: logContextMixin }, info(${JSON.stringify(MIXIN_MESSAGE)}); pino: pino({ mixin: () => storage.getStore() }) on the same destination. "traceContext": a third WorkerLogger with { traceContext: true }, info(${JSON.stringify(SPAN_MESSAGE)}), each record carrying trace_id, span_id and trace_flags.`,
      `Plain and child message: ${JSON.stringify(MESSAGE)}. Setups as in the hot-path scenario (pino destination sync:false, winston File transport, LogTape getStreamFileSink); LogTape runs the plain row only (its default text formatter writes no properties, so the other rows would be less work).`,
      `"CPU per call": process CPU time over the measured calls and until the logger's close() returned (the floor's time taken out) / calls. It includes the work a logger defers off the call (winston formats in its stream pipeline after the call returns; pino's and logmux's work is in the call); logmux's master runs in another process and is not included (see 5b).`,
      ...notes,
    ],
  };
}

function renderTable(render, settings) {
  const label = {
    "json-fields": "JSON lines (new JsonLines()), 4 fields",
    "json-plain": "JSON lines, plain message (reference)",
    "text-fields": "text, DEFAULT_FORMAT (LinePattern), 4 fields",
    "decode-fields": "decodeBatch (validates the values), 4 fields",
  };
  const rows = render.keys.map((key, r) => ({
    row: label[key],
    perLine: fmtNs(render.perLineNs[r]),
    rate: fmtRate(1e9 / render.perLineNs[r]),
    bytes:
      Number.isFinite(render.bytesPerLine[r]) && render.bytesPerLine[r] > 0
        ? fmtInt(render.bytesPerLine[r])
        : "",
    fields:
      render.samples[r] === null
        ? ""
        : key.endsWith("plain")
          ? "n/a"
          : render.samples[r].fieldsInLine
            ? "yes"
            : "NO (fields not rendered)",
  }));
  const sampleNotes = render.keys.flatMap((key, r) =>
    render.samples[r] && key.endsWith("fields")
      ? [`${label[key]}, first line: \`${render.samples[r].line}\``]
      : [],
  );
  return {
    title: "5b. Master: rendering structured records to lines (one core)",
    columns: [
      { key: "row", label: "work", align: "left" },
      { key: "perLine", label: "per line" },
      { key: "rate", label: "lines/s" },
      { key: "bytes", label: "bytes/line" },
      { key: "fields", label: "fields in line", align: "left" },
    ],
    rows,
    notes: [
      `${settings.batches} worker-sized batches (maxBatchBytes ${fmtInt(render.batchBytes)}: ${fmtInt(render.recordsPerBatch)} records of 4 fields, ${fmtInt(render.plainPerBatch)} plain) built with the worker's encoder and decoded with the master's decodeBatch, then formatter.writeBatch(batch, 0, sink) into a ByteSink reset per batch (the LineFormatter interface the file and console handlers call). ${settings.passes} timed passes over all batches after ${settings.warmupPasses} warm-up passes, rows interleaved pass by pass, one process per round, ${settings.rounds} rounds; median of the per-pass figures, then median over rounds.`,
      ...sampleNotes,
    ],
  };
}

export async function run(ctx) {
  if (!ctx.logmux.available) return { skipped: `logmux not available: ${ctx.logmux.reason}` };
  const settings = { ...ctx.options.hotpath, timeoutMs: ctx.options.quick ? 60_000 : 180_000 };
  const kinds = selectKinds(ctx, ["logmux", "pino", "winston", "logtape"]);
  const rounds = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const kind of rotate(kinds, round)) {
      ctx.progress(`structured round ${round + 1}/${settings.rounds}: ${kind}`);
      try {
        rounds[kind].push(await runOnce(kind, settings));
      } catch (error) {
        rounds[kind].push({ error: error.message });
        ctx.warn(`structured ${kind} failed: ${error.message}`);
      }
    }
  }
  const summary = {};
  const notes = [];
  for (const kind of kinds) {
    const ok = rounds[kind].filter((r) => !r.error);
    const failed = rounds[kind].length - ok.length;
    if (failed)
      notes.push(`${LABELS[kind]}: ${failed} round(s) failed: ${rounds[kind].find((r) => r.error).error}`);
    if (ok.length === 0) continue;
    const keys = Object.keys(ok[0].rows);
    const rows = Object.fromEntries(
      keys.map((key) => [
        key,
        {
          medianNs: perRound(ok, (r) => r.rows[key].medianNs),
          p99Ns: perRound(ok, (r) => r.rows[key].p99Ns),
          ownNs: perRound(ok, (r) => r.rows[key].ownNs),
        },
      ]),
    );
    const paired = Object.fromEntries(
      keys.map((key) => [key, perRound(ok, (r) => r.rows[key].ownNs / r.rows.plain.ownNs)]),
    );
    if (rows.args && rows.concat)
      paired.argsOverConcat = perRound(ok, (r) => r.rows.args.ownNs / r.rows.concat.ownNs);
    const lost = ok.flatMap((r) => r.delivered.filter((d) => d.lines !== d.expected));
    const linesText = lost.length
      ? `LOST: ${lost.map((d) => `${JSON.stringify(d.marker)} ${fmtInt(d.lines)} of ${fmtInt(d.expected)}`).join(", ")}`
      : `${fmtInt(ok[0].delivered.reduce((n, d) => n + d.expected, 0))} ✓`;
    summary[kind] = {
      rows,
      paired,
      cpuPerCallNs: perRound(ok, (r) => r.cpuPerCallNs),
      linesText,
      okRounds: ok.length,
    };
  }
  const tables = [callTable(kinds, summary, settings, notes)];

  const renderSettings = {
    rounds: settings.rounds,
    passes: ctx.options.quick ? 10 : 30,
    warmupPasses: ctx.options.quick ? 5 : 10,
    batches: 8,
    timeoutMs: settings.timeoutMs,
  };
  const renders = [];
  for (let round = 0; round < renderSettings.rounds; round++) {
    ctx.progress(`structured render round ${round + 1}/${renderSettings.rounds}`);
    try {
      renders.push(await renderOnce(renderSettings));
    } catch (error) {
      ctx.warn(`structured render failed: ${error.message}`);
    }
  }
  let render;
  if (renders.length) {
    const first = renders[0];
    render = {
      keys: first.keys,
      perLineNs: first.keys.map((_k, r) => median(renders.map((x) => median(x.perLineNs[r])))),
      bytesPerLine: first.bytesPerLine,
      samples: first.samples,
      batchBytes: first.batchBytes,
      recordsPerBatch: median(first.recordsPerBatch),
      plainPerBatch: median(first.plainPerBatch),
    };
    tables.push(renderTable(render, renderSettings));
  }
  return {
    tables,
    targets: targets(summary, render),
    raw: { settings, rounds, summary, renderSettings, renders },
  };
}

function targets(summary, render) {
  const out = [];
  const lm = summary.logmux;
  if (lm) {
    const f = lm.rows.fields.ownNs;
    out.push({
      target: "4-field call <= 2.0x the plain call (paired, CPU/call)",
      measured: `${fmtRatio(lm.paired.fields)} (${fmtNs(f)} vs ${fmtNs(lm.rows.plain.ownNs)})`,
      pass: lm.paired.fields <= 2,
    });
    for (const [peer, factor] of [
      ["pino", 10],
      ["winston", 1],
    ]) {
      const theirs = summary[peer]?.rows.fields.ownNs;
      if (theirs === undefined) continue;
      const cheaper = theirs / f;
      out.push({
        target:
          factor === 1
            ? `4-field call cheaper than ${peer}'s 4-field call (CPU/call)`
            : `4-field call >= ${factor}x cheaper than ${peer}'s 4-field call (CPU/call)`,
        measured: `${fmtRatio(cheaper)} cheaper (${fmtNs(f)} vs ${fmtNs(theirs)})`,
        pass: factor === 1 ? cheaper > 1 : cheaper >= factor,
      });
    }
    out.push({
      target: "child (3 bindings) call <= 1.2x the plain call (paired, CPU/call)",
      measured: `${fmtRatio(lm.paired.child)} (${fmtNs(lm.rows.child.ownNs)} vs ${fmtNs(lm.rows.plain.ownNs)})`,
      pass: lm.paired.child <= 1.2,
    });
    out.push({
      target: "2 %-argument call cheaper than the +-built plain call (paired, CPU/call)",
      measured: `${fmtRatio(lm.paired.argsOverConcat)} (${fmtNs(lm.rows.args.ownNs)} vs ${fmtNs(lm.rows.concat.ownNs)})`,
      pass: lm.paired.argsOverConcat < 1,
    });
  }
  if (render) {
    const r = render.keys.indexOf("json-fields");
    const rate = 1e9 / render.perLineNs[r];
    const rendered = render.samples[r]?.fieldsInLine;
    out.push({
      target: "master renders 4-field records to JSON lines at >= 1M lines/s (one core)",
      measured: `${fmtRate(rate)} (${fmtNs(render.perLineNs[r])} a line)${rendered ? "" : "; the fields are NOT in the line"}`,
      pass: rate >= 1e6 && rendered === true,
    });
  }
  return out;
}
