// A reference encoder written from docs/protocol.md, independent of src/protocol/encoder.ts, so the
// tests can build any frame (valid or deliberately broken) byte by byte, plus a raw socket client
// for talking to a live master without the WorkerLogger's manners.
import { createConnection, type Socket } from "node:net";
import type { TestContext } from "node:test";
import { FrameReader } from "../../src/protocol/decoder.js";

export const T = {
  HELLO: 0x01,
  BATCH: 0x02,
  HEARTBEAT: 0x03,
  SHUTDOWN: 0x04,
  DROPS: 0x05,
  STATUS_QUERY: 0x06,
  WELCOME: 0x81,
  ACK: 0x82,
  STATUS: 0x83,
  GOODBYE: 0x84,
  ERROR: 0x85,
} as const;

/** u32 LE length (body incl. type byte), u8 type, body. */
export function rawFrame(type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const buf = Buffer.alloc(5 + body.length);
  buf.writeUInt32LE(1 + body.length, 0);
  buf[4] = type;
  buf.set(body, 5);
  return buf;
}

export function u64Frame(type: number, value: number | bigint): Buffer {
  const body = Buffer.alloc(8);
  body.writeBigUInt64LE(BigInt(value));
  return rawFrame(type, body);
}

/** SHUTDOWN (version 2): u64 last seq, u8 end kind, i32 detail, u16 text length, UTF-8 text. */
export function shutdownFrame(lastSeq: number, kind = 0, detail = 0, text = ""): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const body = Buffer.alloc(15 + bytes.length);
  body.writeBigUInt64LE(BigInt(lastSeq), 0);
  body[8] = kind;
  body.writeInt32LE(detail, 9);
  body.writeUInt16LE(bytes.length, 13);
  bytes.copy(body, 15);
  return rawFrame(T.SHUTDOWN, body);
}

export function heartbeatFrame(ns: bigint, nextCheckInMs: number): Buffer {
  const body = Buffer.alloc(12);
  body.writeBigUInt64LE(ns, 0);
  body.writeUInt32LE(nextCheckInMs, 8);
  return rawFrame(T.HEARTBEAT, body);
}

export interface RawRecord {
  /** Nanoseconds since the epoch; defaults to 1. */
  ns?: bigint;
  level: number;
  message: string | Uint8Array;
  data?: Uint8Array;
  /** Overrides the whole level byte (flags included). */
  levelByte?: number;
  /** Overrides the message length field. */
  messageLength?: number;
  /** A values section (section 3.2.1), written after the attachment with its u32 length. */
  values?: Uint8Array;
}

export function recordBytes(record: RawRecord): Buffer {
  const message = typeof record.message === "string" ? Buffer.from(record.message, "utf8") : record.message;
  const data = record.data;
  const values = record.values;
  const dataBytes = data === undefined ? 0 : 4 + data.length;
  const buf = Buffer.alloc(13 + message.length + dataBytes + (values === undefined ? 0 : 4 + values.length));
  buf.writeBigUInt64LE(record.ns ?? 1n, 0);
  buf[8] =
    record.levelByte ?? record.level | (data === undefined ? 0 : 0x80) | (values === undefined ? 0 : 0x40);
  buf.writeUInt32LE(record.messageLength ?? message.length, 9);
  buf.set(message, 13);
  if (data !== undefined) {
    buf.writeUInt32LE(data.length, 13 + message.length);
    buf.set(data, 17 + message.length);
  }
  if (values !== undefined) {
    buf.writeUInt32LE(values.length, 13 + message.length + dataBytes);
    buf.set(values, 17 + message.length + dataBytes);
  }
  return buf;
}

/** BATCH: u64 seq, u32 count, records. `count` defaults to the number of records. */
export function batchFrame(
  seq: number | bigint,
  records: readonly RawRecord[],
  count = records.length,
  tail: Uint8Array = new Uint8Array(0),
): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(seq), 0);
  head.writeUInt32LE(count, 8);
  return rawFrame(T.BATCH, Buffer.concat([head, ...records.map(recordBytes), tail]));
}

export interface RawHello {
  magic?: number;
  version?: number;
  flags?: number;
  pid?: number;
  instanceId?: Uint8Array;
  heartbeatMs?: number;
  name?: string | Uint8Array;
  /** Overrides the u16 name length field. */
  nameLength?: number;
}

/** HELLO: u32 magic, u16 version, u16 flags, u32 pid, 8-byte instance id, u32 heartbeat ms, u16 name length, name. */
export function helloFrame(hello: RawHello = {}): Buffer {
  const name =
    typeof hello.name === "string" || hello.name === undefined
      ? Buffer.from(hello.name ?? "raw", "utf8")
      : hello.name;
  const body = Buffer.alloc(26 + name.length);
  body.writeUInt32LE(hello.magic ?? 0x58554d4c, 0);
  body.writeUInt16LE(hello.version ?? 3, 4);
  body.writeUInt16LE(hello.flags ?? 0, 6);
  body.writeUInt32LE(hello.pid ?? 4242, 8);
  body.set(hello.instanceId ?? Buffer.from("0123456789abcdef", "hex"), 12);
  body.writeUInt32LE(hello.heartbeatMs ?? 60_000, 20);
  body.writeUInt16LE(hello.nameLength ?? name.length, 24);
  body.set(name, 26);
  return rawFrame(T.HELLO, body);
}

/** A socket that speaks raw bytes to a master and collects what the master sends back. */
export interface RawClient {
  readonly socket: Socket;
  /** Frames received from the master, in order. */
  readonly frames: Buffer[];
  /** Resolves when the socket has closed (for whatever reason). */
  readonly closed: Promise<void>;
  /** Resolves with the first received frame of `type` (already received or future). */
  frame(type: number): Promise<Buffer>;
  /** Resolves with the first ACK carrying a seq >= `seq`. */
  ackAtLeast(seq: number): Promise<void>;
}

/** Connects a raw client; it is destroyed after the test, pass or fail. */
export function rawConnect(t: TestContext, path: string): Promise<RawClient> {
  const socket = createConnection({ path, allowHalfOpen: true });
  const frames: Buffer[] = [];
  const waiters: { check: (f: Buffer) => boolean; resolve: (f: Buffer) => void }[] = [];
  const reader = new FrameReader(1024 * 1024, (f) => {
    const copy = Buffer.from(f);
    frames.push(copy);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.check(copy)) waiters.splice(i, 1)[0]!.resolve(copy);
    }
  });
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  // The master closed its side: close ours, as a worker does, so 'close' follows.
  socket.on("end", () => socket.end());
  // Hostile clients keep writing after the master hung up; EPIPE/ECONNRESET are expected there.
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  t.after(() => {
    socket.destroy();
  });
  const wait = (check: (f: Buffer) => boolean, what: string): Promise<Buffer> => {
    const seen = frames.find(check);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ check, resolve });
      closed.then(() => {
        // Give frames that arrived with the FIN their chance first.
        setImmediate(() => reject(new Error(`connection closed before ${what}`)));
      });
    });
  };
  const client: RawClient = {
    socket,
    frames,
    closed,
    frame: (type) => wait((f) => f[4] === type, `a frame of type 0x${type.toString(16)}`),
    ackAtLeast: (seq) =>
      wait((f) => f[4] === T.ACK && Number(f.readBigUInt64LE(5)) >= seq, `ACK ${seq}`).then(() => {}),
  };
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(client));
    socket.once("error", reject);
  });
}

/** Writes `bytes` in `chunkBytes` pieces, honouring backpressure; stops quietly if the socket dies. */
export async function writeAll(socket: Socket, bytes: Buffer, chunkBytes = 256 * 1024): Promise<void> {
  for (let at = 0; at < bytes.length && !socket.destroyed; at += chunkBytes) {
    const ok = socket.write(bytes.subarray(at, at + chunkBytes));
    if (!ok && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    }
  }
}

/**
 * Typed values written from the table in docs/protocol.md section 3.2.1, byte by byte, so tests
 * check the decoder against the document rather than against the encoder.
 */
export const V = {
  u8: (n: number) => Buffer.from([n]),
  u16: (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  },
  u32: (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  },
  key: (k: string) => Buffer.concat([V.u16(Buffer.byteLength(k)), Buffer.from(k)]),
  null: () => Buffer.from([0x00]),
  undef: () => Buffer.from([0x01]),
  bool: (b: boolean) => Buffer.from([b ? 0x03 : 0x02]),
  i32: (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x04;
    b.writeInt32LE(n, 1);
    return b;
  },
  f64: (n: number, tag = 0x05) => {
    const b = Buffer.alloc(9);
    b[0] = tag;
    b.writeDoubleLE(n, 1);
    return b;
  },
  bigint: (digits: string) => Buffer.concat([Buffer.from([0x06]), V.u16(digits.length), Buffer.from(digits)]),
  str: (s: string) => Buffer.concat([Buffer.from([0x07]), V.u32(Buffer.byteLength(s)), Buffer.from(s)]),
  date: (ms: number) => V.f64(ms, 0x08),
  bytes: (b: Uint8Array) => Buffer.concat([Buffer.from([0x09]), V.u32(b.length), b]),
  array: (...items: Buffer[]) => Buffer.concat([Buffer.from([0x0a]), V.u32(items.length), ...items]),
  object: (...pairs: [string, Buffer][]) =>
    Buffer.concat([Buffer.from([0x0b]), V.u32(pairs.length), ...pairs.flatMap(([k, v]) => [V.key(k), v])]),
  error: (type: string, message: string, stack: string, extras: [string, Buffer][], cause?: Buffer) =>
    Buffer.concat([
      Buffer.from([0x0c]),
      V.u16(Buffer.byteLength(type)),
      Buffer.from(type),
      V.u32(Buffer.byteLength(message)),
      Buffer.from(message),
      V.u32(Buffer.byteLength(stack)),
      Buffer.from(stack),
      V.u32(extras.length),
      ...extras.flatMap(([k, v]) => [V.key(k), v]),
      cause === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), cause]),
    ]),
  marker: (s: string) => Buffer.concat([Buffer.from([0x0d]), V.u16(Buffer.byteLength(s)), Buffer.from(s)]),
  formatted: (s: string) => Buffer.concat([Buffer.from([0x0e]), V.u32(Buffer.byteLength(s)), Buffer.from(s)]),
  /** A values section: argument count, arguments, then pairs. */
  section: (args: Buffer[], pairs: [string, Buffer][]) =>
    Buffer.concat([Buffer.from([args.length]), ...args, ...pairs.flatMap(([k, v]) => [V.key(k), v])]),
};
