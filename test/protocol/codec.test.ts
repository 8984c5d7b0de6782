import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { nowMs, nsToMs, readNsAsMs, readNsBigInt, writeMsAsNs } from "../../src/protocol/clock.js";
import {
  BATCH_HEADER_BYTES,
  EndKind,
  FRAME_HEADER_BYTES,
  MAGIC,
  MAX_END_TEXT_BYTES,
  MAX_NAME_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  RECORD_HEADER_BYTES,
} from "../../src/protocol/constants.js";
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
import {
  BatchBuilder,
  encodeAck,
  encodeDrops,
  encodeError,
  encodeGoodbye,
  encodeHeartbeat,
  encodeHello,
  encodeName,
  encodeShutdown,
  encodeStatus,
  encodeStatusQuery,
  encodeWelcome,
  recordBytes,
} from "../../src/protocol/encoder.js";
import type { RecordSource } from "../../src/protocol/record-batch.js";
import { readU64, writeU64 } from "../../src/protocol/u64.js";
import { batchFrame, helloFrame, rawFrame, shutdownFrame } from "../helpers/frames.js";

const source: RecordSource = { name: "codec", nameBytes: Buffer.from("codec"), pid: 7 };
const MAX_U32 = 0xffffffff;

/** Messages as the log call takes them: strings (any code point, even lone surrogates) or bytes. */
const messageArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 100 }),
);
const recordArb = fc.record({
  level: fc.integer({ min: 0, max: 5 }),
  message: messageArb,
  data: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
});
type Rec = { level: number; message: string | Uint8Array; data: Uint8Array | undefined };

/** What a message reads back as: strings go through UTF-8 (a lone surrogate becomes U+FFFD). */
function expectedBytes(message: string | Uint8Array): Buffer {
  return typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
}

function checkBatch(frame: Buffer, seq: number, records: readonly Rec[], fromMs: number, toMs: number): void {
  assert.equal(frame.readUInt32LE(0), frame.length - 4, "length field = body incl. type byte");
  assert.equal(frameType(frame), MessageType.BATCH);
  const decoded = decodeBatch(frame, source);
  assert.equal(decoded.seq, seq);
  const batch = decoded.batch;
  assert.equal(batch.count, records.length);
  assert.equal(batch.byteLength, frame.length);
  assert.equal(batch.source, source);
  let pos = BATCH_HEADER_BYTES;
  records.forEach((rec, i) => {
    assert.equal(batch.offsets[i], pos, `record ${i} offset`);
    pos += recordBytes(rec.message, rec.data);
    assert.equal(batch.level(i), rec.level);
    const bytes = expectedBytes(rec.message);
    assert.deepEqual(frame.subarray(batch.messageStart(i), batch.messageEnd(i)), bytes);
    assert.equal(batch.message(i), bytes.toString("utf8"));
    if (typeof rec.message === "string" && !/[\ud800-\udfff]/u.test(rec.message)) {
      assert.equal(batch.message(i), rec.message);
    }
    assert.deepEqual(
      batch.data(i) === undefined ? undefined : [...batch.data(i)!],
      rec.data && [...rec.data],
    );
    const ms = batch.timestampMs(i);
    assert.ok(ms >= fromMs - 0.001 && ms <= toMs + 0.001, `timestamp ${ms} outside [${fromMs}, ${toMs}]`);
    assert.equal(Number(batch.timestampNs(i) / 1_000_000n), Math.floor(ms));
    const record = batch.record(i);
    assert.equal(record.name, "codec");
    assert.equal(record.pid, 7);
    assert.equal(record.level, rec.level);
  });
  assert.equal(pos, frame.length, "records fill the frame exactly");
  if (records.length > 0) {
    assert.equal(batch.minLevel, Math.min(...records.map((r) => r.level)));
    assert.equal(batch.maxLevel, Math.max(...records.map((r) => r.level)));
  }
}

/** The exact value of a non-negative double, as mantissa * 2^exponent. */
function exactDouble(value: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** floor(ms * 1e6) computed exactly from the double's real value. */
function exactNs(ms: number): bigint {
  const { mantissa, exponent } = exactDouble(ms);
  const scaled = mantissa * 1_000_000n;
  return exponent >= 0 ? scaled << BigInt(exponent) : scaled >> BigInt(-exponent);
}

function written(ms: number): bigint {
  const buf = Buffer.alloc(12, 0xee);
  writeMsAsNs(buf, 2, ms);
  assert.equal(buf[0], 0xee, "no write before the field");
  assert.equal(buf[10], 0xee, "no write after the field");
  return readNsBigInt(buf, 2);
}

/** Year 2100 in ms: far enough for any real clock, and where the encoder must still be exact. */
const MS_2100 = 4_102_444_800_000;

describe("u64 timestamps", () => {
  it("writes whole milliseconds exactly (compared with BigInt math)", () => {
    for (const ms of [0, 1, 999, 1000, 1001, 4294, 4295, 1_700_000_000_000, 1_700_000_000_999, MS_2100]) {
      assert.equal(written(ms), BigInt(ms) * 1_000_000n, `ms ${ms}`);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MS_2100 }), (ms) => written(ms) === BigInt(ms) * 1_000_000n),
      { numRuns: 2000 },
    );
  });

  it("writes fractional milliseconds exactly when the fraction is exact (k/1024 ms)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MS_2100 }), fc.integer({ min: 0, max: 1023 }), (whole, k) => {
        const ms = whole + k / 1024;
        return written(ms) === BigInt(whole) * 1_000_000n + (BigInt(k) * 1_000_000n) / 1024n;
      }),
      { numRuns: 2000 },
    );
  });

  it("carries into the high word: ns = m * 2^32 * 15625 sits exactly on a 2^32 boundary", () => {
    // 1e6 = 2^6 * 15625, so ms = m * 2^26 is m * 15625 * 2^32 ns: low word 0, and one 1/1024 ms
    // less is just under the boundary, where the low word wraps.
    for (const m of [1, 2, 3, 1000, 25_000, 61_000]) {
      const ms = m * 2 ** 26;
      const at = Buffer.alloc(8);
      writeMsAsNs(at, 0, ms);
      assert.equal(at.readUInt32LE(0), 0, `low word at m=${m}`);
      assert.equal(at.readUInt32LE(4), m * 15625, `high word at m=${m}`);
      for (const k of [1, 2, 1023]) {
        const below = ms - k / 1024;
        assert.equal(written(below), BigInt(ms) * 1_000_000n - (BigInt(k) * 1_000_000n + 1023n) / 1024n);
      }
    }
  });

  it("stays exact across second boundaries in any call order (the per-second cache)", () => {
    const moment = fc
      .tuple(fc.integer({ min: 0, max: MS_2100 / 1000 }), fc.constantFrom(0, 1, 998, 999), fc.nat(1023))
      .map(([second, msInSecond, k]) => second * 1000 + msInSecond + k / 1024);
    fc.assert(
      fc.property(fc.array(moment, { minLength: 1, maxLength: 30 }), (list) => {
        for (const ms of list) assert.equal(written(ms), exactNs(ms), `ms ${ms}`);
        const sorted = [...list].sort((a, b) => a - b);
        let last = -1n;
        for (const ms of sorted) {
          const ns = written(ms);
          assert.ok(ns >= last, "monotonic");
          last = ns;
        }
      }),
      { numRuns: 500 },
    );
    // Adjacent seconds, both directions, the second change around a 2^32 carry included.
    for (const base of [1_700_000_000_000, 67_108_864_000, 2 ** 26 * 3]) {
      for (const ms of [base + 999 + 1023 / 1024, base + 1000, base + 999, base + 1000 + 1 / 1024, base]) {
        assert.equal(written(ms), exactNs(ms), `ms ${ms}`);
      }
    }
  });

  it("any double ms is within 1 ns of the exact floor(ms * 1e6)", () => {
    // Below the double's own resolution the single rounding of (fraction * 1e6) may land on the
    // next integer; never further than that.
    fc.assert(
      fc.property(fc.double({ min: 0, max: MS_2100, noNaN: true }), (ms) => {
        const diff = written(ms) - exactNs(ms);
        return diff >= 0n && diff <= 1n;
      }),
      { numRuns: 3000 },
    );
  });

  it("reads back: readNsBigInt exactly, readNsAsMs to within a microsecond", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (ns) => {
        const buf = Buffer.alloc(9);
        buf.writeBigUInt64LE(ns, 1);
        return readNsBigInt(buf, 1) === ns;
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: MS_2100, noNaN: true }), (ms) => {
        const buf = Buffer.alloc(8);
        writeMsAsNs(buf, 0, ms);
        return Math.abs(readNsAsMs(buf, 0) - ms) < 1e-3;
      }),
    );
  });

  it("readNsAsMs and nsToMs keep the exact whole millisecond over the whole u64 range", () => {
    // A .9999 fraction far from the epoch must not round up into the next millisecond, or a
    // line's asctime would disagree with its timestampNs.
    const nearMsEnd = fc
      .bigInt({ min: 0n, max: (1n << 64n) / 1_000_000n - 1n })
      .chain((ms) => fc.bigInt({ min: ms * 1_000_000n + 999_000n, max: ms * 1_000_000n + 999_999n }));
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), nearMsEnd), (ns) => {
        const buf = Buffer.alloc(8);
        buf.writeBigUInt64LE(ns, 0);
        const whole = Number(ns / 1_000_000n);
        assert.equal(Math.floor(readNsAsMs(buf, 0)), whole, `readNsAsMs, ${ns} ns`);
        assert.equal(Math.floor(nsToMs(ns)), whole, `nsToMs, ${ns} ns`);
      }),
      { numRuns: 5000 },
    );
  });

  it("u64 sequence numbers round-trip up to 2^53 - 1", () => {
    for (const n of [0, 1, MAX_U32, MAX_U32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      const buf = Buffer.alloc(8);
      writeU64(buf, n, 0);
      assert.equal(buf.readBigUInt64LE(0), BigInt(n));
      assert.equal(readU64(buf, 0), n);
    }
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const buf = Buffer.alloc(10);
        writeU64(buf, n, 1);
        return buf.readBigUInt64LE(1) === BigInt(n) && readU64(buf, 1) === n;
      }),
    );
  });
});

describe("BATCH encode/decode", () => {
  it("round-trips arbitrary records (UTF-8 and byte messages, attachments, every level)", () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 40 }), fc.maxSafeNat(), (records, seq) => {
        const capacity = BATCH_HEADER_BYTES + records.reduce((n, r) => n + recordBytes(r.message, r.data), 0);
        const builder = new BatchBuilder(capacity);
        const from = nowMs();
        for (const r of records) assert.equal(builder.append(r.level, r.message, r.data), true);
        const to = nowMs();
        assert.equal(builder.count, records.length);
        assert.equal(builder.byteLength, capacity);
        assert.equal(builder.maxLevel, Math.max(0, ...records.map((r) => r.level)));
        checkBatch(builder.seal(seq), seq, records, from, to);
      }),
      { numRuns: 300 },
    );
  });

  it("encodes strings around the 64-char ASCII loop boundary exactly", () => {
    const specials = ["é", "✓", "😀", "\u0000", "\u007f", "\u0080", "\ud800"];
    const messages: string[] = [];
    for (const length of [0, 1, 31, 62, 63, 64, 65, 66, 127, 128, 129]) {
      const ascii = "abcdefghijklmnopqrstuvwxyz0123456789"
        .repeat(4)
        .repeat(1 + length / 144)
        .slice(0, length);
      messages.push(ascii);
      for (const special of specials) {
        if (length === 0) continue;
        messages.push(special + ascii.slice(special.length)); // first char
        messages.push(ascii.slice(0, length - special.length) + special); // last char(s)
        messages.push(ascii.slice(0, 62) + special + ascii.slice(62)); // straddling the loop end
      }
    }
    const records = messages.map((message, i) => ({ level: i % 6, message, data: undefined }));
    // Generous capacity: fast path (length * 3 fits) for every string.
    const roomy = new BatchBuilder(64 * 1024);
    for (const r of records) assert.equal(roomy.append(r.level, r.message, undefined), true);
    checkBatch(roomy.seal(1), 1, records, 0, Number.MAX_SAFE_INTEGER);
    // Exact capacity: strings near the end of the buffer take the exact-length path.
    const exact = new BatchBuilder(
      BATCH_HEADER_BYTES + records.reduce((n, r) => n + recordBytes(r.message, undefined), 0),
    );
    for (const r of records) assert.equal(exact.append(r.level, r.message, undefined), true);
    assert.equal(exact.byteLength, exact.buffer.length);
    checkBatch(exact.seal(2), 2, records, 0, Number.MAX_SAFE_INTEGER);
  });

  it("carries byte-array messages and attachments verbatim (including empty ones)", () => {
    const records: Rec[] = [
      { level: 0, message: new Uint8Array(0), data: undefined },
      { level: 1, message: new Uint8Array([0xff, 0xfe, 0x00, 0x80]), data: new Uint8Array(0) },
      { level: 2, message: Buffer.from("ünïcödé bytes"), data: new Uint8Array([0, 1, 2, 255]) },
      { level: 5, message: "", data: new Uint8Array(300).fill(7) },
    ];
    const builder = new BatchBuilder(1024);
    for (const r of records) assert.equal(builder.append(r.level, r.message, r.data), true);
    const frame = builder.seal(3);
    checkBatch(frame, 3, records, 0, Number.MAX_SAFE_INTEGER);
    // Byte level: the attachment flag and its u32 length sit where the spec says.
    const { batch } = decodeBatch(frame, source);
    assert.equal(frame[batch.offsets[0]! + 8], 0x00);
    assert.equal(frame[batch.offsets[1]! + 8], 0x81);
    assert.equal(frame.readUInt32LE(batch.messageEnd(1)), 0);
    assert.equal(frame[batch.offsets[3]! + 8], 0x85);
    assert.equal(frame.readUInt32LE(batch.messageEnd(3)), 300);
  });

  it("matches the reference encoder byte for byte", () => {
    const builder = new BatchBuilder(256);
    builder.append(4, "héllo", new Uint8Array([9, 8]));
    builder.append(2, "x", undefined);
    const frame = builder.seal(0x1_0000_0002);
    const { batch } = decodeBatch(frame, source);
    const reference = batchFrame(0x1_0000_0002n, [
      { ns: batch.timestampNs(0), level: 4, message: "héllo", data: new Uint8Array([9, 8]) },
      { ns: batch.timestampNs(1), level: 2, message: "x" },
    ]);
    assert.deepEqual(frame, reference);
  });

  it("fills a batch exactly, then refuses the next record and stays unchanged", () => {
    for (const [message, data] of [
      ["exact fit ✓ 😀", new Uint8Array([1, 2, 3])],
      ["a".repeat(100), undefined],
      [new Uint8Array(50).fill(0x41), new Uint8Array(0)],
    ] as const) {
      const capacity = BATCH_HEADER_BYTES + recordBytes(message, data);
      const builder = new BatchBuilder(capacity);
      assert.equal(builder.append(3, message, data), true);
      assert.equal(builder.byteLength, capacity);
      assert.equal(builder.byteLength, builder.buffer.length);
      const snapshot = Buffer.from(builder.buffer);
      for (const [m, d] of [
        ["", undefined],
        [new Uint8Array(0), undefined],
        ["z", new Uint8Array(0)],
      ] as const) {
        assert.equal(builder.append(5, m, d), false);
        assert.equal(builder.count, 1);
        assert.equal(builder.byteLength, capacity);
        assert.equal(builder.maxLevel, 3);
        assert.deepEqual(builder.buffer, snapshot, "a refused append writes nothing");
      }
      checkBatch(builder.seal(9), 9, [{ level: 3, message, data }], 0, Number.MAX_SAFE_INTEGER);
    }
  });

  it("append fits iff byteLength + recordBytes <= capacity, and a refusal changes nothing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.array(recordArb, { minLength: 1, maxLength: 30 }),
        (capacity, records) => {
          const builder = new BatchBuilder(capacity);
          const accepted: Rec[] = [];
          for (const r of records) {
            const before = builder.byteLength;
            const need = recordBytes(r.message, r.data);
            const snapshot = Buffer.from(builder.buffer);
            const count = builder.count;
            const fits = before + need <= builder.buffer.length;
            assert.equal(builder.append(r.level, r.message, r.data), fits);
            if (fits) {
              accepted.push(r);
              assert.equal(builder.byteLength, before + need);
            } else {
              assert.equal(builder.byteLength, before);
              assert.equal(builder.count, count);
              assert.deepEqual(builder.buffer, snapshot);
            }
          }
          if (accepted.length > 0) checkBatch(builder.seal(1), 1, accepted, 0, Number.MAX_SAFE_INTEGER);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("an empty batch is a valid 17-byte frame", () => {
    const frame = new BatchBuilder(0).seal(5);
    assert.equal(frame.length, BATCH_HEADER_BYTES);
    assert.deepEqual(frame, batchFrame(5, []));
    const { batch } = decodeBatch(frame, source);
    assert.equal(batch.count, 0);
  });
});

describe("control messages encode/decode", () => {
  it("HELLO round-trips every field, and matches the reference layout", () => {
    fc.assert(
      fc.property(
        fc.nat(MAX_U32),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: MAX_U32 }),
        fc.string({ unit: "grapheme", maxLength: 120 }),
        (pid, id, heartbeat, name) => {
          const instanceId = Buffer.from(id);
          const frame = encodeHello({ pid, instanceId, heartbeatIntervalMs: heartbeat, name });
          assert.equal(frameType(frame), MessageType.HELLO);
          assert.equal(frame.readUInt32LE(0), frame.length - 4);
          const hello = decodeHello(frame);
          assert.equal(hello.version, PROTOCOL_VERSION);
          assert.equal(hello.pid, pid);
          assert.equal(hello.instanceId, instanceId.toString("hex"));
          assert.equal(hello.heartbeatIntervalMs, heartbeat);
          const cut = encodeName(name);
          assert.deepEqual(hello.nameBytes, cut);
          assert.equal(hello.name, cut.toString("utf8"));
          if (Buffer.byteLength(name) <= MAX_NAME_BYTES) assert.equal(hello.name, name);
          assert.deepEqual(
            frame,
            helloFrame({ pid, instanceId, heartbeatMs: heartbeat, name: cut, magic: MAGIC, version: 3 }),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("cuts a long name to 256 bytes without splitting a character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 60, maxLength: 400 }), (name) => {
        const cut = encodeName(name);
        const full = Buffer.from(name, "utf8");
        assert.ok(cut.length <= MAX_NAME_BYTES);
        assert.deepEqual(cut, full.subarray(0, cut.length), "a prefix");
        assert.deepEqual(Buffer.from(cut.toString("utf8"), "utf8"), cut, "valid UTF-8");
        if (full.length > MAX_NAME_BYTES) assert.ok(cut.length > MAX_NAME_BYTES - 4, "cut at most one char");
        else assert.equal(cut.length, full.length);
      }),
    );
    assert.equal(encodeName(`${"a".repeat(254)}é`).length, 256);
    assert.equal(encodeName(`${"a".repeat(255)}é`).length, 255);
    assert.equal(encodeName(`${"a".repeat(253)}😀`).length, 253);
    const hello = decodeHello(
      encodeHello({ pid: 1, instanceId: Buffer.alloc(8), heartbeatIntervalMs: 1, name: "€".repeat(100) }),
    );
    assert.equal(hello.name, "€".repeat(85));
  });

  it("HEARTBEAT carries the worker clock and the next check-in", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MS_2100 }), fc.nat(MAX_U32), (ms, next) => {
        const frame = encodeHeartbeat((buf, offset) => writeMsAsNs(buf, offset, ms), next);
        assert.equal(frameType(frame), MessageType.HEARTBEAT);
        assert.equal(frame.length, FRAME_HEADER_BYTES + 12);
        assert.equal(frame.readBigUInt64LE(5), BigInt(ms) * 1_000_000n);
        const heartbeat = decodeHeartbeat(frame);
        assert.equal(heartbeat.nextCheckInMs, next);
        assert.ok(Math.abs(heartbeat.workerTimeMs - ms) < 1e-3);
      }),
    );
  });

  it("DROPS and ACK carry one u64", () => {
    const cases = [
      [encodeDrops, MessageType.DROPS, "DROPS"],
      [encodeAck, MessageType.ACK, "ACK"],
    ] as const;
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        for (const [encode, type, what] of cases) {
          const frame = encode(n);
          assert.equal(frame.length, 13);
          assert.equal(frameType(frame), type);
          assert.equal(decodeU64Message(frame, what), n);
          assert.deepEqual(frame, rawFrame(type, frame.subarray(5)));
          assert.equal(frame.readBigUInt64LE(5), BigInt(n));
        }
      }),
    );
  });

  it("SHUTDOWN carries the last seq and how the worker ended, its text cut at a character", () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.constantFrom(...Object.values(EndKind)),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.string({ unit: "binary", maxLength: 700 }),
        (seq, kind, detail, text) => {
          const frame = encodeShutdown(seq, { kind, detail, text });
          const cut = Buffer.from(text, "utf8");
          const expected = cut.length <= MAX_END_TEXT_BYTES ? text : undefined;
          const decoded = decodeShutdown(frame);
          assert.equal(frameType(frame), MessageType.SHUTDOWN);
          assert.equal(decoded.lastSeq, seq);
          assert.equal(decoded.kind, kind);
          assert.equal(decoded.detail, detail);
          assert.ok(Buffer.byteLength(decoded.text) <= MAX_END_TEXT_BYTES);
          if (expected !== undefined) assert.equal(decoded.text, expected);
          else assert.ok(text.startsWith(decoded.text) && !decoded.text.includes("\ufffd"));
          assert.deepEqual(frame, shutdownFrame(seq, kind, detail, decoded.text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("WELCOME carries magic, version and the last committed seq", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (seq) => {
        const frame = encodeWelcome(seq);
        assert.equal(frame.length, 19);
        assert.equal(frameType(frame), MessageType.WELCOME);
        assert.equal(frame.readUInt32LE(5), MAGIC);
        assert.deepEqual(decodeWelcome(frame), { version: PROTOCOL_VERSION, lastCommittedSeq: seq });
      }),
    );
  });

  it("STATUS and ERROR carry UTF-8 text; STATUS_QUERY and GOODBYE are bare", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        const error = encodeError(text);
        assert.equal(frameType(error), MessageType.ERROR);
        assert.equal(frameText(error), text);
        const status = encodeStatus(JSON.stringify({ text, n: 1 }));
        assert.equal(frameType(status), MessageType.STATUS);
        assert.deepEqual(JSON.parse(frameText(status)), { text, n: 1 });
        assert.equal(status.readUInt32LE(0), status.length - 4);
      }),
    );
    assert.deepEqual(encodeStatusQuery(), Buffer.from([1, 0, 0, 0, MessageType.STATUS_QUERY]));
    assert.deepEqual(encodeGoodbye(), Buffer.from([1, 0, 0, 0, MessageType.GOODBYE]));
  });
});

// ---- FrameReader -----------------------------------------------------------------------------

function sampleStream(): { stream: Buffer; frames: Buffer[] } {
  const builder = new BatchBuilder(4096);
  for (let i = 0; i < 40; i++) builder.append(i % 6, `record ${i} ✓ ${"x".repeat(i * 3)}`, undefined);
  const frames = [
    encodeHello({ pid: 1, instanceId: Buffer.alloc(8, 1), heartbeatIntervalMs: 1000, name: "w" }),
    encodeStatusQuery(),
    Buffer.from(builder.seal(1)),
    encodeAck(7),
    rawFrame(0x7f, Buffer.alloc(300, 0xab)),
    encodeGoodbye(),
  ];
  return { stream: Buffer.concat(frames), frames };
}

function readAll(chunks: readonly Buffer[], maxFrameBytes = 1 << 20): Buffer[] {
  const out: Buffer[] = [];
  const reader = new FrameReader(maxFrameBytes, (frame) => out.push(Buffer.from(frame)));
  for (const chunk of chunks) reader.push(chunk);
  assert.equal(reader.bufferedBytes, 0);
  return out;
}

function splitAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
  // Copies, so no chunk shares memory with another (as socket chunks do not).
  return points.slice(1).map((end, i) => Buffer.from(stream.subarray(points[i]!, end)));
}

describe("FrameReader", () => {
  it("reassembles frames fed one byte at a time", () => {
    const { stream, frames } = sampleStream();
    assert.deepEqual(readAll([...stream].map((b) => Buffer.from([b]))), frames);
  });

  it("reassembles frames split at every possible byte boundary", () => {
    const { stream, frames } = sampleStream();
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(readAll(splitAt(stream, [cut])), frames, `cut at ${cut}`);
    }
    // Every pair of cuts on a short stream: header/body/next-header splits in all combinations.
    const short = Buffer.concat([encodeAck(1), encodeStatusQuery(), rawFrame(0x03, Buffer.alloc(12, 5))]);
    const shortFrames = readAll([short]);
    assert.equal(shortFrames.length, 3);
    for (let a = 0; a <= short.length; a++) {
      for (let b = a; b <= short.length; b++) {
        assert.deepEqual(readAll(splitAt(short, [a, b])), shortFrames, `cuts at ${a}, ${b}`);
      }
    }
  });

  it("reassembles any stream under any chunking (fast-check)", () => {
    const frameArb = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 2000 }))
      .map(([type, body]) => rawFrame(type, body));
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, rawCuts) => {
          const stream = Buffer.concat(frames);
          const cuts = rawCuts.map((c) => c % (stream.length + 1));
          assert.deepEqual(readAll(splitAt(stream, cuts)), frames);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("hands over several whole frames of one chunk as zero-copy views of it", () => {
    const { stream, frames } = sampleStream();
    const seen: Buffer[] = [];
    const reader = new FrameReader(1 << 20, (frame) => seen.push(frame));
    reader.push(stream);
    assert.equal(seen.length, frames.length);
    let offset = 0;
    seen.forEach((frame, i) => {
      assert.equal(frame.buffer, stream.buffer, `frame ${i} shares the chunk's memory`);
      assert.equal(frame.byteOffset, stream.byteOffset + offset);
      assert.equal(frame.length, frames[i]!.length);
      offset += frame.length;
    });
  });

  it("assembles a split frame once, into its own buffer of exactly its size", () => {
    const frame = rawFrame(0x02, Buffer.alloc(5000, 3));
    const seen: Buffer[] = [];
    const reader = new FrameReader(1 << 20, (f) => seen.push(f));
    const parts = splitAt(frame, [2, 3, 100, 4000]);
    let fed = 0;
    for (const part of parts) {
      reader.push(part);
      fed += part.length;
      assert.equal(reader.bufferedBytes, fed === frame.length ? 0 : fed, `bufferedBytes after ${fed}`);
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.length, frame.length);
    assert.ok(parts.every((p) => p.buffer !== seen[0]!.buffer));
    for (const part of parts) part.fill(0); // the chunks may be reused: the frame is not affected
    assert.deepEqual(seen[0], frame);
  });

  it("accepts a frame of exactly maxFrameBytes and an empty chunk", () => {
    const frame = rawFrame(0x02, Buffer.alloc(1023));
    assert.deepEqual(readAll([Buffer.alloc(0), frame, Buffer.alloc(0)], 1024), [frame]);
    assert.deepEqual(readAll(splitAt(frame, [1, 600]), 1024), [frame]);
  });
});

describe("record layout constants", () => {
  it("match the spec", () => {
    assert.equal(FRAME_HEADER_BYTES, 5);
    assert.equal(BATCH_HEADER_BYTES, 17);
    assert.equal(RECORD_HEADER_BYTES, 13);
    assert.equal(MAGIC, Buffer.from("LMUX").readUInt32LE(0));
  });
});
