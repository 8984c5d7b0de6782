// Micro-benchmark of JsonLines.writeBatch, the master's JSON lines path: one core, one batch of
// records with four fields (string, int, float, bool) and a short message, formatted again and
// again into one sink. Reports lines per second of CPU time (steadier than wall time on a shared
// machine) and of wall time. Needs the compiled sources: `npm run build:test` first.
//   node bench/json-lines.mjs [rounds]
import { CallShape } from "../.build/src/call/shape.js";
import { JsonLines } from "../.build/src/format/json.js";
import { ByteSink } from "../.build/src/format/sink.js";
import { decodeBatch } from "../.build/src/protocol/decoder.js";
import { BatchBuilder } from "../.build/src/protocol/encoder.js";

const rounds = Number(process.argv[2] ?? 7);
const shape = CallShape.root(undefined, 1 << 20);
const builder = new BatchBuilder(1 << 20);
for (let n = 0; ; n++) {
  const fields = { user: "alice", status: 200 + (n % 5), ms: 12.5 + n / 8, cached: n % 2 === 0 };
  const parts = shape.shape(["request handled", fields]);
  if (!builder.append(2, parts.message, parts.data, parts.values, parts.valuesLength)) break;
}
const { batch } = decodeBatch(builder.seal(1), { name: "api", nameBytes: Buffer.from("api"), pid: 42 });
const json = new JsonLines("web-1");
const sink = new ByteSink(64 << 20);
for (let warm = 0; warm < 30; warm++) {
  sink.reset();
  json.writeBatch(batch, 0, sink);
}
console.log(`${batch.count} records per batch, e.g. ${sink.view().toString().split("\n")[0]}`);
const cpuRates = [];
for (let round = 0; round < rounds; round++) {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let lines = 0;
  for (let r = 0; r < 50; r++) {
    sink.reset();
    lines += json.writeBatch(batch, 0, sink);
  }
  const wallS = Number(process.hrtime.bigint() - wall) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  cpuRates.push(lines / cpuS);
  console.log(
    `${(lines / cpuS / 1e6).toFixed(2)} M lines/s of CPU (${((cpuS * 1e9) / lines).toFixed(0)} ns/line), ` +
      `${(lines / wallS / 1e6).toFixed(2)} M lines/s of wall time`,
  );
}
cpuRates.sort((a, b) => a - b);
console.log(`median: ${(cpuRates[Math.floor(rounds / 2)] / 1e6).toFixed(2)} M lines/s of CPU`);
