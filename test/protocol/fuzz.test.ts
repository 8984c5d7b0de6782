// Property-based fuzzing of the decoder: whatever bytes arrive, decoding either succeeds with every
// index inside the frame, or throws ProtocolError. Any other exception (RangeError from a read past
// the end, a huge allocation, a TypeError) is a bug.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import type { EndKind } from "../../src/protocol/constants.js";
import {
  decodeBatch,
  decodeHeartbeat,
  decodeHello,
  decodeShutdown,
  decodeU64Message,
  decodeWelcome,
  FrameReader,
  frameText,
  frameType,
} from "../../src/protocol/decoder.js";
import { BatchBuilder, encodeHello, encodeShutdown, encodeWelcome } from "../../src/protocol/encoder.js";
import type { RecordBatch, RecordSource } from "../../src/protocol/record-batch.js";
import { batchFrame, heartbeatFrame, helloFrame, rawFrame, T, u64Frame } from "../helpers/frames.js";

const source: RecordSource = { name: "fuzz", nameBytes: Buffer.from("fuzz"), pid: 1 };
const MAX_FRAME = 64 * 1024;

/** Every accessor of every record stays inside the frame and agrees with the layout. */
function checkBatchBounds(frame: Buffer, batch: RecordBatch): void {
  let pos = 17;
  for (let i = 0; i < batch.count; i++) {
    const offset = batch.offsets[i]!;
    assert.equal(offset, pos);
    assert.ok(batch.level(i) >= 0 && batch.level(i) <= 5);
    const start = batch.messageStart(i);
    const end = batch.messageEnd(i);
    assert.ok(start === offset + 13 && start <= end && end <= frame.length);
    batch.message(i);
    batch.timestampNs(i);
    const data = batch.data(i);
    pos = end;
    if (data !== undefined) {
      assert.equal(data.buffer, frame.buffer, "attachment is a view of the frame");
      assert.equal(data.byteOffset, frame.byteOffset + end + 4);
      assert.ok(end + 4 + data.length <= frame.length);
      pos = end + 4 + data.length;
    }
    const record = batch.record(i);
    assert.equal(record.level, batch.level(i));
  }
  assert.equal(pos, frame.length, "records cover the frame exactly");
  assert.ok(batch.count === 0 || (batch.minLevel <= batch.maxLevel && batch.maxLevel <= 5));
}

/** Decodes `frame` as the master and the worker would, by its type byte. */
function decodeAny(frame: Buffer): void {
  switch (frameType(frame)) {
    case T.HELLO: {
      const hello = decodeHello(frame);
      assert.ok(hello.nameBytes.length <= 256 && hello.heartbeatIntervalMs > 0);
      assert.equal(frame.length, 31 + hello.nameBytes.length);
      return;
    }
    case T.BATCH: {
      const { batch } = decodeBatch(frame, source);
      checkBatchBounds(frame, batch);
      return;
    }
    case T.HEARTBEAT:
      decodeHeartbeat(frame);
      return;
    case T.SHUTDOWN:
      decodeShutdown(frame);
      return;
    case T.DROPS:
    case T.ACK:
      decodeU64Message(frame, "U64");
      return;
    case T.WELCOME:
      decodeWelcome(frame);
      return;
    default:
      frameText(frame);
  }
}

/** Runs `fn`; passes if it returns or throws a ProtocolError, fails on any other exception. */
function onlyProtocolErrors(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof ProtocolError && error.code === "LOGMUX_PROTOCOL_ERROR") return false;
    throw error;
  }
}

/** Feeds `stream` in the given chunking through a FrameReader that decodes every frame. */
function feed(stream: Buffer, cuts: readonly number[]): void {
  const reader = new FrameReader(MAX_FRAME, decodeAny);
  const points = [0, ...cuts.map((c) => c % (stream.length + 1)).sort((a, b) => a - b), stream.length];
  for (let i = 1; i < points.length; i++) reader.push(stream.subarray(points[i - 1]!, points[i]!));
}

const recordArb = fc.record({
  level: fc.integer({ min: 0, max: 5 }),
  message: fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })),
  data: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
});

/** Valid frames of every worker->master and master->worker type that carries fields. */
const validFrameArb = fc.oneof(
  fc.tuple(fc.array(recordArb, { maxLength: 8 }), fc.maxSafeNat()).map(([records, seq]) => {
    const builder = new BatchBuilder(4096);
    for (const r of records) builder.append(r.level, r.message, r.data);
    return Buffer.from(builder.seal(seq));
  }),
  fc
    .tuple(fc.string({ maxLength: 40 }), fc.nat(), fc.integer({ min: 1, max: 1e6 }))
    .map(([name, pid, heartbeatIntervalMs]) =>
      encodeHello({ name, pid, heartbeatIntervalMs, instanceId: Buffer.alloc(8, 3) }),
    ),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((ns) => heartbeatFrame(ns, 1000)),
  fc.maxSafeNat().map((n) => u64Frame(T.ACK, n)),
  fc
    .tuple(fc.maxSafeNat(), fc.nat(3), fc.integer(), fc.string({ maxLength: 60 }))
    .map(([seq, kind, detail, text]) => encodeShutdown(seq, { kind: kind as EndKind, detail, text })),
  fc.maxSafeNat().map((n) => encodeWelcome(n)),
);

/** A mutation of a valid frame: byte flips, u32 fields overwritten, truncation, extension. */
const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.oneof(fc.nat(64), fc.constantFrom(0, 1, 12, 13, 0x7fffffff, 0xffffffff), fc.nat(0xffffffff)),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), value: fc.nat(0) }),
  fc.record({ kind: fc.constant("extend" as const), at: fc.nat(40), value: fc.nat(255) }),
);

type Mutation = { kind: "set" | "u32" | "truncate" | "extend"; at: number; value: number };

function mutate(frame: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(frame);
  for (const m of mutations) {
    // Skip the 4-byte frame length so the frame still reaches the decoders (checked separately).
    const at = 4 + (m.at % Math.max(1, out.length - 4));
    switch (m.kind) {
      case "set":
        if (at < out.length) out[at] = m.value;
        break;
      case "u32":
        if (at + 4 <= out.length) out.writeUInt32LE(m.value, at);
        break;
      case "truncate":
        out = out.subarray(0, Math.max(5, at));
        break;
      case "extend":
        out = Buffer.concat([out, Buffer.alloc(m.at + 1, m.value)]);
        break;
    }
  }
  out.writeUInt32LE(out.length - 4, 0);
  return out;
}

describe("decoder fuzzing (fast-check)", () => {
  it("arbitrary bytes through FrameReader + decoders: success in bounds or ProtocolError only", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Plausible headers (small lengths, known types) so the decoders see many frames.
      fc
        .array(fc.tuple(fc.nat(80), fc.constantFrom(1, 2, 3, 4, 5, 6, 0x81, 0x82, 0x83, 0x84, 0x85, 0)), {
          maxLength: 10,
        })
        .chain((heads) =>
          fc.tuple(
            ...heads.map(([length, type]) =>
              fc.uint8Array({ minLength: length, maxLength: length }).map((body) => rawFrame(type, body)),
            ),
          ),
        )
        .map((frames) => new Uint8Array(Buffer.concat(frames))),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 6 }), (input, cuts) => {
        onlyProtocolErrors(() => feed(Buffer.from(input), cuts));
      }),
      { numRuns: 3000 },
    );
  });

  it("arbitrary bytes straight into each decoder: success in bounds or ProtocolError only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 400 }), (input) => {
        const frame = Buffer.from(input);
        for (const type of [T.HELLO, T.BATCH, T.HEARTBEAT, T.SHUTDOWN, T.WELCOME, 0x7f]) {
          frame[4] = type;
          onlyProtocolErrors(() => decodeAny(frame));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated valid frames: success in bounds or ProtocolError only", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        validFrameArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (frame, mutations, cuts) => {
          const mutated = mutate(frame, mutations);
          if (onlyProtocolErrors(() => feed(mutated, cuts))) accepted++;
          else refused++;
        },
      ),
      { numRuns: 5000 },
    );
    // Both outcomes must be exercised, or the generator is not testing anything.
    assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`);
  });

  it("mutated frame lengths: a stream that lies about lengths is refused or re-framed, never crashes", () => {
    fc.assert(
      fc.property(
        fc.array(validFrameArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.oneof(fc.nat(300), fc.constantFrom(0, 0xffffffff, MAX_FRAME, MAX_FRAME + 1)),
        (frames, which, length) => {
          const stream = Buffer.concat(frames);
          const at = frames.slice(0, which % frames.length).reduce((n, f) => n + f.length, 0);
          stream.writeUInt32LE(length, at);
          onlyProtocolErrors(() => feed(stream, []));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("the hand-written reference frames decode (sanity check of the generators' base)", () => {
    decodeAny(batchFrame(1, [{ level: 1, message: "m", data: new Uint8Array(2) }]));
    decodeAny(helloFrame());
    decodeAny(encodeHello({ name: "x", pid: 1, heartbeatIntervalMs: 1, instanceId: Buffer.alloc(8) }));
  });
});
