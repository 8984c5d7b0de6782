// Every check in the decoder, one malformed input each: each must raise ProtocolError
// (code LOGMUX_PROTOCOL_ERROR), never a RangeError from reading past a buffer or a huge allocation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../../src/errors.js";
import {
  decodeBatch,
  decodeHeartbeat,
  decodeHello,
  decodeShutdown,
  decodeU64Message,
  decodeWelcome,
  FrameReader,
} from "../../src/protocol/decoder.js";
import { encodeWelcome } from "../../src/protocol/encoder.js";
import type { RecordSource } from "../../src/protocol/record-batch.js";
import {
  batchFrame,
  heartbeatFrame,
  helloFrame,
  rawFrame,
  recordBytes,
  shutdownFrame,
  T,
  u64Frame,
} from "../helpers/frames.js";

const source: RecordSource = { name: "bad", nameBytes: Buffer.from("bad"), pid: 1 };

function protocolError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ProtocolError, `expected ProtocolError, got ${String(error)}`);
    assert.equal(error.code, "LOGMUX_PROTOCOL_ERROR");
    assert.match(error.message, pattern);
    return true;
  };
}

/**
 * Runs `fn` while recording the size of every Buffer allocation, so a test can prove that a
 * length field was refused before anything was allocated for it, or what a frame cost in all.
 */
function allocationSizes(fn: () => void): number[] {
  const methods = ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const;
  const originals = methods.map((m) => Buffer[m]);
  const sizes: number[] = [];
  methods.forEach((method, i) => {
    const original = originals[i]! as (size: number, ...rest: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[method] = (size: number, ...rest: unknown[]): Buffer => {
      sizes.push(size);
      return original.call(Buffer, size, ...rest);
    };
  });
  try {
    fn();
  } finally {
    methods.forEach((method, i) => {
      (Buffer as unknown as Record<string, unknown>)[method] = originals[i];
    });
  }
  return sizes;
}

function largestAllocation(fn: () => void): number {
  return Math.max(0, ...allocationSizes(fn));
}

function reader(maxFrameBytes = 1024): { reader: FrameReader; frames: Buffer[] } {
  const frames: Buffer[] = [];
  return { reader: new FrameReader(maxFrameBytes, (f) => frames.push(Buffer.from(f))), frames };
}

function u32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(value);
  return buf;
}

describe("FrameReader refuses bad lengths", () => {
  it("an empty body (length 0: no type byte), whole or with the header split", () => {
    for (const chunks of [
      [u32(0)],
      [u32(0).subarray(0, 2), u32(0).subarray(2)],
      [Buffer.concat([u32(0), u32(9)])],
    ]) {
      const { reader: r } = reader();
      assert.throws(
        () => {
          for (const c of chunks) r.push(c);
        },
        protocolError(/empty body/),
      );
    }
  });

  it("a length over maxFrameBytes, refused before anything is allocated for it", () => {
    // Control: the spy does see the reader's allocation for an accepted split frame.
    const control = reader(1024);
    const accepted = rawFrame(T.BATCH, Buffer.alloc(999));
    assert.equal(
      largestAllocation(() => control.reader.push(accepted.subarray(0, 10))),
      1004,
    );
    for (const length of [1025, 0x7fffffff, 0xfffffffe, 0xffffffff]) {
      for (const split of [false, true]) {
        const { reader: r, frames } = reader(1024);
        const bytes = Buffer.concat([u32(length), Buffer.from([T.BATCH, 1, 2, 3])]);
        const before = process.memoryUsage().arrayBuffers;
        const largest = largestAllocation(() => {
          assert.throws(
            () => {
              if (split) for (const b of bytes) r.push(Buffer.from([b]));
              else r.push(bytes);
            },
            protocolError(new RegExp(`frame of ${length} bytes exceeds maxFrameBytes \\(1024\\)`)),
          );
        });
        assert.ok(largest <= 16, `allocated ${largest} bytes for a refused ${length}-byte frame`);
        assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
        assert.equal(frames.length, 0);
        assert.equal(r.bufferedBytes, 0, "nothing held after the error");
      }
    }
  });

  it("a bad length after good frames still delivers the good ones first", () => {
    const { reader: r, frames } = reader(1024);
    const good = rawFrame(T.STATUS_QUERY);
    assert.throws(
      () => r.push(Buffer.concat([good, good, u32(0xffffffff), Buffer.alloc(8)])),
      protocolError(/exceeds/),
    );
    assert.equal(frames.length, 2);
  });

  it("refuses all input after an error, its own or one thrown by onFrame", () => {
    const { reader: r } = reader();
    assert.throws(() => r.push(u32(0)), protocolError(/empty body/));
    assert.throws(() => r.push(rawFrame(T.STATUS_QUERY)), protocolError(/input after a protocol error/));
    assert.throws(() => r.push(Buffer.alloc(0)), protocolError(/input after a protocol error/));

    const seen: number[] = [];
    const strict = new FrameReader(1024, (frame) => {
      seen.push(frame[4]!);
      throw new ProtocolError("handler refused");
    });
    assert.throws(
      () => strict.push(Buffer.concat([rawFrame(0x11), rawFrame(0x12)])),
      protocolError(/handler refused/),
    );
    assert.deepEqual(seen, [0x11], "stops at the frame that failed");
    assert.throws(() => strict.push(rawFrame(0x13)), protocolError(/input after a protocol error/));
  });
});

const MiB = 1024 * 1024;

/** The 5-byte start of a frame of `type` whose length field claims `body` bytes (type included). */
function claim(body: number, type: number = T.BATCH): Buffer {
  return Buffer.concat([u32(body), Buffer.from([type])]);
}

describe("FrameReader memory follows the bytes that arrived, not the length claimed", () => {
  it("a frame claiming 16 MiB holds 64 KiB after a few bytes, and under 8x what arrived after more", () => {
    const frames: Buffer[] = [];
    const r = new FrameReader(16 * MiB, (f) => frames.push(f));
    const start = Buffer.concat([claim(16 * MiB), Buffer.alloc(5, 1)]);
    const first = largestAllocation(() => r.push(start));
    assert.equal(r.bufferedBytes, 10);
    assert.ok(first <= 64 * 1024, `allocated ${first} bytes for 10 bytes of a 16 MiB claim`);
    assert.ok(
      r.reservedBytes <= 64 * 1024,
      `reserved ${r.reservedBytes} bytes for 10 bytes of a 16 MiB claim`,
    );

    r.push(Buffer.alloc(1024, 2));
    assert.ok(r.reservedBytes <= 64 * 1024, `reserved ${r.reservedBytes} bytes after 1 KiB`);

    // The rest in socket-sized chunks: at every step the reservation stays a bounded multiple of
    // what has arrived, and the whole frame is still assembled exactly.
    const body = Buffer.alloc(16 * MiB - 1 - 5 - 1024, 3);
    const sizes = allocationSizes(() => {
      for (let at = 0; at < body.length; at += 64 * 1024) {
        r.push(body.subarray(at, at + 64 * 1024));
        if (frames.length === 0) {
          assert.ok(
            r.reservedBytes < 8 * r.bufferedBytes,
            `reserved ${r.reservedBytes} for ${r.bufferedBytes} bytes received`,
          );
        }
      }
    });
    assert.equal(frames.length, 1);
    assert.equal(r.reservedBytes, 0);
    assert.deepEqual(frames[0], Buffer.concat([start, Buffer.alloc(1024, 2), body]));
    // Each step copies what the reader already holds; geometric steps keep that to a fraction of
    // the frame (the reader's bound is 2/3 of it).
    const total = sizes.reduce((a, b) => a + b, 0) + first;
    assert.ok(total < (1 + 2 / 3) * (16 * MiB + 4), `allocated ${total} bytes in all for a 16 MiB frame`);
  });

  it("a default-size batch from 64 KiB chunks grows once and ends in its 16 KiB size class", () => {
    const frame = rawFrame(T.BATCH, Buffer.alloc(256 * 1024 - 52 - 5, 9));
    // A whole earlier frame of `offset` bytes comes first, so the batch starts anywhere in a socket
    // read; 65534 splits its length field across two reads.
    for (const offset of [0, 5, 30_000, 65_534, 65_535]) {
      const earlier = offset === 0 ? Buffer.alloc(0) : rawFrame(T.HEARTBEAT, Buffer.alloc(offset - 5));
      const stream = Buffer.concat([earlier, frame]);
      const seen: Buffer[] = [];
      const r = new FrameReader(16 * MiB, (f) => seen.push(f));
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += 64 * 1024) chunks.push(stream.subarray(at, at + 64 * 1024));
      const sizes = allocationSizes(() => {
        for (const chunk of chunks) r.push(chunk);
      });
      const last = seen.at(-1)!;
      assert.deepEqual(last, frame, `offset ${offset}`);
      assert.equal(last.buffer.byteLength, 256 * 1024, `offset ${offset}: the frame is in its size class`);
      assert.ok(
        sizes.length <= 2,
        `offset ${offset}: ${sizes.length} assembly buffers (${sizes.join(", ")})`,
      );
    }
  });
});

describe("FrameReader before the peer is identified", () => {
  it("refuses a length over the lower limit before allocating, whole or split", () => {
    const bytes = claim(16 * MiB);
    for (const split of [false, true]) {
      const frames: Buffer[] = [];
      const r = new FrameReader(16 * MiB, (f) => frames.push(f), 4096);
      const largest = largestAllocation(() => {
        assert.throws(
          () => {
            if (split) for (const b of bytes) r.push(Buffer.from([b]));
            else r.push(bytes);
          },
          protocolError(/frame of 16777216 bytes exceeds the limit before HELLO \(4096\)/),
        );
      });
      assert.ok(largest <= 16, `allocated ${largest} bytes for a refused frame`);
      assert.equal(r.reservedBytes, 0);
      assert.equal(r.bufferedBytes, 0);
      assert.equal(frames.length, 0);
    }
  });

  it("accepts a frame of exactly the lower limit, and the full limit once identified", () => {
    const frames: Buffer[] = [];
    const r = new FrameReader(16 * MiB, (f) => frames.push(Buffer.from(f)), 4096);
    r.push(rawFrame(T.HELLO, Buffer.alloc(4095)));
    r.identified();
    const big = rawFrame(T.BATCH, Buffer.alloc(MiB, 1));
    r.push(big.subarray(0, 1000));
    r.push(big.subarray(1000));
    assert.deepEqual(
      frames.map((f) => f.length),
      [4100, big.length],
    );
  });

  it("raises the limit for the rest of the chunk that carried the identifying frame", () => {
    const big = rawFrame(T.BATCH, Buffer.alloc(100_000, 1));
    const types: number[] = [];
    const r = new FrameReader(
      16 * MiB,
      (f) => {
        types.push(f[4]!);
        if (f[4] === T.HELLO) r.identified();
      },
      4096,
    );
    r.push(Buffer.concat([helloFrame(), big]));
    assert.deepEqual(types, [T.HELLO, T.BATCH]);
  });

  it("never allows more than maxFrameBytes, whatever the lower limit", () => {
    const r = new FrameReader(1024, () => {}, 4096);
    assert.throws(
      () => r.push(claim(1025)),
      protocolError(/frame of 1025 bytes exceeds maxFrameBytes \(1024\)/),
    );
  });
});

describe("decodeBatch refuses malformed batches", () => {
  const rec = { level: 2, message: "hello" };

  it("a frame shorter than the 17-byte BATCH header", () => {
    for (const length of [5, 6, 12, 16]) {
      assert.throws(
        () => decodeBatch(batchFrame(1, []).subarray(0, length), source),
        protocolError(/shorter than its header/),
      );
    }
  });

  it("a count larger than the frame can hold (no index allocated for it)", () => {
    assert.throws(() => decodeBatch(batchFrame(1, [], 1), source), protocolError(/claims 1 records/));
    assert.throws(() => decodeBatch(batchFrame(1, [rec], 2), source), protocolError(/claims 2 records/));
    // 16 GiB of Uint32Array would be a RangeError, not a ProtocolError: the check comes first.
    assert.throws(
      () => decodeBatch(batchFrame(1, [rec], 0xffffffff), source),
      protocolError(/claims 4294967295/),
    );
  });

  it("a truncated record (count within the bound, header cut short)", () => {
    // 13 + 10 + 5 bytes of records: count 2 passes the 13-bytes-per-record bound, record 1 does not.
    const frame = batchFrame(1, [{ level: 2, message: "0123456789" }], 2, Buffer.alloc(5));
    assert.throws(() => decodeBatch(frame, source), protocolError(/record 1 is truncated/));
  });

  it("a message length running past the frame", () => {
    for (const messageLength of [6, 100, 0xffffffff]) {
      const frame = batchFrame(1, [{ ...rec, messageLength }]);
      assert.throws(
        () => decodeBatch(frame, source),
        protocolError(new RegExp(`record 0 message length ${messageLength} runs past the frame`)),
      );
    }
    const second = batchFrame(1, [rec, { ...rec, messageLength: 6 }]);
    assert.throws(() => decodeBatch(second, source), protocolError(/record 1 message length 6/));
  });

  it("an attachment length that is truncated or runs past the frame", () => {
    // Data flag set but 0..3 bytes after the message.
    for (const extra of [0, 1, 3]) {
      const frame = batchFrame(1, [{ ...rec, levelByte: 0x82 }], 1, Buffer.alloc(extra));
      assert.throws(
        () => decodeBatch(frame, source),
        protocolError(/record 0 attachment length is truncated/),
      );
    }
    for (const dataLength of [5, 0xffffffff]) {
      const good = recordBytes({ ...rec, data: new Uint8Array(4) });
      good.writeUInt32LE(dataLength, 13 + 5);
      const frame = batchFrame(1, [], 1, good);
      assert.throws(
        () => decodeBatch(frame, source),
        protocolError(new RegExp(`record 0 attachment length ${dataLength} runs past the frame`)),
      );
    }
  });

  it("an invalid level byte: levels 6 and 7, and any flag bit but 0x80 and 0x40", () => {
    for (const levelByte of [6, 7, 0x86, 0x87, 0x08, 0x10, 0x20, 0x48, 0xff]) {
      const frame = batchFrame(1, [{ ...rec, levelByte }]);
      assert.throws(
        () => decodeBatch(frame, source),
        protocolError(new RegExp(`record 0 has invalid level byte 0x${levelByte.toString(16)}$`)),
      );
    }
    for (const levelByte of [0, 5])
      assert.equal(decodeBatch(batchFrame(1, [{ ...rec, levelByte }]), source).batch.count, 1);
  });

  it("trailing bytes after the counted records", () => {
    assert.throws(
      () => decodeBatch(batchFrame(1, [rec], 1, Buffer.alloc(1)), source),
      protocolError(/1 bytes after its 1 records/),
    );
    assert.throws(
      () => decodeBatch(batchFrame(1, [rec, rec], 1), source),
      protocolError(/18 bytes after its 1 records/),
    );
    assert.throws(
      () => decodeBatch(batchFrame(1, [], 0, Buffer.alloc(12)), source),
      protocolError(/12 bytes after its 0/),
    );
  });
});

describe("decodeHello refuses malformed HELLOs", () => {
  it("shorter than its fixed fields", () => {
    const frame = helloFrame();
    for (const length of [5, 20, 30]) {
      assert.throws(
        () => decodeHello(frame.subarray(0, length)),
        protocolError(/shorter than its fixed fields/),
      );
    }
  });

  it("bad magic", () => {
    for (const magic of [0, 0x4c4d5558, 0x58554d4d]) {
      assert.throws(() => decodeHello(helloFrame({ magic })), protocolError(/LMUX magic/));
    }
  });

  it("a protocol version other than 3", () => {
    for (const version of [0, 1, 2, 4, 0xffff]) {
      assert.throws(
        () => decodeHello(helloFrame({ version })),
        protocolError(new RegExp(`unsupported protocol version ${version} \\(this master speaks 3\\)`)),
      );
    }
  });

  it("a name over 256 bytes", () => {
    assert.equal(decodeHello(helloFrame({ name: "n".repeat(256) })).name.length, 256);
    for (const length of [257, 0xffff]) {
      assert.throws(
        () => decodeHello(helloFrame({ name: "n".repeat(Math.min(length, 300)), nameLength: length })),
        protocolError(new RegExp(`worker name of ${length} bytes is too long`)),
      );
    }
  });

  it("a name length that disagrees with the frame size", () => {
    assert.throws(
      () => decodeHello(helloFrame({ name: "abc", nameLength: 4 })),
      protocolError(/HELLO frame must carry 30 bytes, got 29/),
    );
    assert.throws(
      () => decodeHello(helloFrame({ name: "abc", nameLength: 2 })),
      protocolError(/must carry 28 bytes, got 29/),
    );
  });

  it("a heartbeat interval of 0", () => {
    assert.throws(
      () => decodeHello(helloFrame({ heartbeatMs: 0 })),
      protocolError(/heartbeat interval is 0/),
    );
  });

  it("accepts unknown flags (reserved, ignored in version 3)", () => {
    assert.equal(decodeHello(helloFrame({ flags: 0xffff })).version, 3);
  });
});

describe("fixed-size messages refuse any other size", () => {
  it("HEARTBEAT, SHUTDOWN, DROPS, ACK, WELCOME", () => {
    const heartbeat = heartbeatFrame(1n, 1);
    for (const frame of [
      heartbeat.subarray(0, 16),
      Buffer.concat([heartbeat, Buffer.alloc(1)]),
      rawFrame(T.HEARTBEAT),
    ]) {
      assert.throws(() => decodeHeartbeat(frame), protocolError(/HEARTBEAT frame must carry 12 bytes/));
    }
    const u64 = u64Frame(T.DROPS, 1);
    for (const frame of [u64.subarray(0, 12), Buffer.concat([u64, Buffer.alloc(1)]), rawFrame(T.DROPS)]) {
      for (const what of ["DROPS", "ACK"]) {
        assert.throws(
          () => decodeU64Message(frame, what),
          protocolError(new RegExp(`${what} frame must carry 8 bytes`)),
        );
      }
    }
    const welcome = encodeWelcome(3);
    assert.throws(
      () => decodeWelcome(welcome.subarray(0, 18)),
      protocolError(/WELCOME frame must carry 14 bytes/),
    );
    const badMagic = Buffer.from(welcome);
    badMagic[5] = 0;
    assert.throws(() => decodeWelcome(badMagic), protocolError(/WELCOME lacks the LMUX magic/));
    const badVersion = Buffer.from(welcome);
    badVersion.writeUInt16LE(1, 9);
    assert.throws(() => decodeWelcome(badVersion), protocolError(/master speaks protocol version 1/));
  });

  it("SHUTDOWN: fixed fields, a known end kind, a text length that matches and is not too long", () => {
    const ok = shutdownFrame(7, 3, 1, "Error: boom");
    assert.deepEqual(decodeShutdown(ok), { lastSeq: 7, kind: 3, detail: 1, text: "Error: boom" });
    assert.throws(() => decodeShutdown(ok.subarray(0, 19)), protocolError(/shorter than its fixed fields/));
    assert.throws(
      () => decodeShutdown(u64Frame(T.SHUTDOWN, 1)),
      protocolError(/shorter than its fixed fields/),
    );
    assert.throws(() => decodeShutdown(shutdownFrame(1, 4)), protocolError(/unknown end kind 4/));
    assert.throws(
      () => decodeShutdown(Buffer.concat([ok, Buffer.alloc(1)])),
      protocolError(/SHUTDOWN frame must carry 26 bytes, got 27/),
    );
    const long = shutdownFrame(1, 3, 1, "x".repeat(1025));
    assert.throws(() => decodeShutdown(long), protocolError(/SHUTDOWN text of 1025 bytes is too long/));
  });
});
