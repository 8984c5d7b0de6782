/**
 * A minimal protobuf binary writer for the OTLP encoder: one growable buffer, reused per record.
 * A nested message's length is reserved as one byte and widened afterwards in the rare case the
 * message reached 128 bytes, so nothing is measured twice and no sub-buffers are allocated.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const UINT64_MASK = (1n << 64n) - 1n;

/** Bytes a varint of a non-negative number below 2^53 takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

export class ProtoWriter {
  #buf: Buffer;
  pos = 0;

  constructor(initialBytes = 4096) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** The bytes written since the last reset, copied (the writer's memory is reused). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.#buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    // One huge record (a multi-megabyte message) should not keep its buffer alive for good.
    if (this.#buf.length > 1 << 20) this.#buf = Buffer.allocUnsafe(4096);
    return out;
  }

  #ensure(extra: number): void {
    if (this.pos + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#buf.copy(grown, 0, 0, this.pos);
    this.#buf = grown;
  }

  /** A varint of a non-negative number below 2^53 (tags, lengths, enums, uint32). */
  varint(value: number): void {
    this.#ensure(8);
    const buf = this.#buf;
    while (value >= 128) {
      buf[this.pos++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    buf[this.pos++] = value;
  }

  #tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int64 field: a varint of the 64-bit two's complement (ten bytes when negative). */
  int64(field: number, value: number | bigint): void {
    this.#tag(field, WIRE_VARINT);
    if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      this.varint(value);
      return;
    }
    let rest = BigInt(value) & UINT64_MASK;
    this.#ensure(10);
    while (rest >= 128n) {
      this.#buf[this.pos++] = Number(rest & 127n) | 128;
      rest >>= 7n;
    }
    this.#buf[this.pos++] = Number(rest);
  }

  uint(field: number, value: number): void {
    this.#tag(field, WIRE_VARINT);
    this.varint(value);
  }

  bool(field: number, value: boolean): void {
    this.#tag(field, WIRE_VARINT);
    this.varint(value ? 1 : 0);
  }

  double(field: number, value: number): void {
    this.#tag(field, WIRE_I64);
    this.#ensure(8);
    this.#buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  fixed64(field: number, value: bigint): void {
    this.#tag(field, WIRE_I64);
    this.#ensure(8);
    this.#buf.writeBigUInt64LE(value & UINT64_MASK, this.pos);
    this.pos += 8;
  }

  fixed32(field: number, value: number): void {
    this.#tag(field, WIRE_I32);
    this.#ensure(4);
    this.#buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  string(field: number, text: string): void {
    this.#tag(field, WIRE_LEN);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the length is written once it is known.
    this.#ensure(5 + text.length * 3);
    const start = this.#open();
    this.pos += this.#buf.write(text, this.pos, "utf8");
    this.end(start);
  }

  bytes(field: number, bytes: Uint8Array): void {
    this.#tag(field, WIRE_LEN);
    this.varint(bytes.byteLength);
    this.#ensure(bytes.byteLength);
    this.#buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** Bytes already encoded (a cached KeyValue, say), copied as they are. */
  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.byteLength);
    this.#buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** Starts a length-delimited field; returns what {@link end} needs. */
  begin(field: number): number {
    this.#tag(field, WIRE_LEN);
    return this.#open();
  }

  #open(): number {
    this.#ensure(1);
    return ++this.pos;
  }

  /** Ends the field {@link begin} started: its length goes in front of what was written since. */
  end(start: number): void {
    const length = this.pos - start;
    if (length < 128) {
      this.#buf[start - 1] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.#ensure(extra);
    const buf = this.#buf;
    buf.copyWithin(start + extra, start, this.pos);
    let at = start - 1;
    let rest = length;
    while (rest >= 128) {
      buf[at++] = (rest % 128) | 128;
      rest = Math.floor(rest / 128);
    }
    buf[at] = rest;
    this.pos = start + extra + length;
  }
}

/** Field numbers of the OTLP messages written (opentelemetry/proto, logs and common v1). */
export const F = {
  request: { resourceLogs: 1 },
  resourceLogs: { resource: 1, scopeLogs: 2 },
  resource: { attributes: 1 },
  scopeLogs: { scope: 1, logRecords: 2 },
  scope: { name: 1, version: 2 },
  logRecord: {
    timeUnixNano: 1,
    severityNumber: 2,
    severityText: 3,
    body: 5,
    attributes: 6,
    flags: 8,
    traceId: 9,
    spanId: 10,
    observedTimeUnixNano: 11,
  },
  anyValue: { string: 1, bool: 2, int: 3, double: 4, array: 5, kvlist: 6, bytes: 7 },
  /** ArrayValue.values and KeyValueList.values. */
  values: 1,
  keyValue: { key: 1, value: 2 },
} as const;
