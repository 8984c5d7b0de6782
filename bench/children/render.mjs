// The master's side of structured records, on one core: worker-sized batches built with the real
// encoder (CallShape + BatchBuilder, as a WorkerLogger builds them), decoded by decodeBatch as the
// master decodes them, then rendered with `formatter.writeBatch(batch, 0, sink)`, the
// LineFormatter interface the file and console handlers call. The rows are interleaved pass by
// pass, so they share the machine's moments. Internal modules of dist/ are imported directly.
import { params, runChild, send } from "../lib/child.mjs";
import { DIST, MESSAGE } from "../lib/env.mjs";

const FIELDS = { user: "bob", id: 42, px: 101.25, ok: true };
/** What a line must show of FIELDS to count as rendering them, whatever the format's syntax. */
const FIELD_TEXTS = ["user", "bob", "42", "101.25", "ok", "true"];

async function load() {
  const [{ CallShape }, { BatchBuilder }, { decodeBatch }, { JsonLines }, { ByteSink }, index] =
    await Promise.all([
      import(`${DIST}call/shape.js`),
      import(`${DIST}protocol/encoder.js`),
      import(`${DIST}protocol/decoder.js`),
      import(`${DIST}format/json.js`),
      import(`${DIST}format/sink.js`),
      import(`${DIST}index.js`),
    ]);
  return { CallShape, BatchBuilder, decodeBatch, JsonLines, ByteSink, index };
}

/** `count` full batches of `call`'s records, as frames and as the master's RecordBatches. */
function buildBatches(m, config, call, count) {
  const shape = m.CallShape.root(undefined, Math.floor(config.maxFrameBytes / 4));
  const source = { name: "bench", nameBytes: Buffer.from("bench"), pid: process.pid };
  const out = [];
  for (let seq = 1; seq <= count; seq++) {
    const builder = new m.BatchBuilder(config.maxBatchBytes);
    for (;;) {
      const parts = call(shape);
      if (!builder.append(m.index.LogLevel.INFO, parts.message, parts.data, parts.values, parts.valuesLength))
        break;
    }
    const frame = Buffer.from(builder.seal(seq));
    out.push({ frame, source, batch: m.decodeBatch(frame, source).batch });
  }
  return out;
}

runChild(async () => {
  const { passes, warmupPasses, batches: batchCount } = params;
  const m = await load();
  const config = new m.index.LoggerConfig({ path: "ipc:///tmp/unused.sock" });
  const withFields = buildBatches(m, config, (s) => s.shape(["user logged in", FIELDS]), batchCount);
  const plain = buildBatches(
    m,
    config,
    () => ({ message: MESSAGE, data: undefined, values: undefined }),
    batchCount,
  );
  const json = new m.JsonLines();
  const text = new m.index.LinePattern(m.index.DEFAULT_FORMAT);
  const sink = new m.ByteSink();
  const render = (formatter, set) => () => {
    let lines = 0;
    let bytes = 0;
    for (const { batch } of set) {
      sink.reset();
      lines += formatter.writeBatch(batch, 0, sink);
      bytes += sink.length;
    }
    return { lines, bytes };
  };
  const decode = (set) => () => {
    let lines = 0;
    for (const { frame, source } of set) lines += m.decodeBatch(frame, source).batch.count;
    return { lines, bytes: 0 };
  };
  const rows = [
    { key: "json-fields", run: render(json, withFields), sample: [json, withFields] },
    { key: "json-plain", run: render(json, plain), sample: [json, plain] },
    { key: "text-fields", run: render(text, withFields), sample: [text, withFields] },
    { key: "decode-fields", run: decode(withFields) },
  ];
  const perLineNs = rows.map(() => []);
  const bytesPerLine = rows.map(() => Number.NaN);
  for (let pass = 0; pass < warmupPasses + passes; pass++) {
    for (let j = 0; j < rows.length; j++) {
      const r = (pass + j) % rows.length;
      const start = process.hrtime.bigint();
      const { lines, bytes } = rows[r].run();
      const ns = Number(process.hrtime.bigint() - start);
      if (pass >= warmupPasses) perLineNs[r].push(ns / lines);
      if (pass === 0) bytesPerLine[r] = bytes / lines;
    }
  }
  const samples = rows.map((row) => {
    if (!row.sample) return null;
    const [formatter, set] = row.sample;
    sink.reset();
    formatter.writeBatch(set[0].batch, 0, sink);
    const line = sink.view().toString("utf8").split("\n")[0];
    return { line, fieldsInLine: FIELD_TEXTS.every((t) => line.includes(t)) };
  });
  await send({
    type: "result",
    keys: rows.map((r) => r.key),
    perLineNs,
    bytesPerLine,
    samples,
    batchBytes: config.maxBatchBytes,
    recordsPerBatch: withFields.map((b) => b.batch.count),
    plainPerBatch: plain.map((b) => b.batch.count),
  });
});
