import { ProtocolError } from "../errors.js";
import { u16, u32 } from "./u32.js";
import { LAST_VALUE_TAG, MAX_DECODE_DEPTH, ValueTag } from "./values.js";

/** A %-argument the worker formatted itself (ValueTag.FORMATTED): inserted as it is. */
export class FormattedArg {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const ASCII_0 = 0x30;
const ASCII_9 = 0x39;
const ASCII_MINUS = 0x2d;

/**
 * Checks one value starting at `pos` and returns where it ends. Every length is checked against
 * `end` and nesting against MAX_DECODE_DEPTH, so a hostile frame is a ProtocolError, never an
 * out-of-bounds read or a stack overflow. `where` names the record for the error.
 */
export function skipValue(bytes: Uint8Array, pos: number, end: number, depth: number, where: string): number {
  if (pos >= end) throw new ProtocolError(`${where}: value runs past its section`);
  if (depth > MAX_DECODE_DEPTH)
    throw new ProtocolError(`${where}: values nested deeper than ${MAX_DECODE_DEPTH}`);
  const tag = bytes[pos]!;
  pos++;
  switch (tag) {
    case ValueTag.NULL:
    case ValueTag.UNDEFINED:
    case ValueTag.FALSE:
    case ValueTag.TRUE:
      return pos;
    case ValueTag.INT32:
      return within(pos + 4, end, where);
    case ValueTag.FLOAT64:
    case ValueTag.DATE:
      return within(pos + 8, end, where);
    case ValueTag.BIGINT: {
      const next = text16(bytes, pos, end, where);
      let at = pos + 2;
      if (at < next && bytes[at] === ASCII_MINUS) at++;
      if (at === next) throw new ProtocolError(`${where}: empty bigint`);
      for (; at < next; at++) {
        const c = bytes[at]!;
        if (c < ASCII_0 || c > ASCII_9) throw new ProtocolError(`${where}: bigint with a non-digit`);
      }
      return next;
    }
    case ValueTag.STRING:
    case ValueTag.BYTES:
    case ValueTag.FORMATTED:
      return text32(bytes, pos, end, where);
    case ValueTag.MARKER:
      return text16(bytes, pos, end, where);
    case ValueTag.ARRAY: {
      within(pos + 4, end, where);
      const count = u32(bytes, pos);
      pos += 4;
      // Each value takes at least its tag byte: a count above what is left is a lie, caught
      // before looping over it.
      if (count > end - pos) throw new ProtocolError(`${where}: array claims ${count} items`);
      for (let i = 0; i < count; i++) pos = skipValue(bytes, pos, end, depth + 1, where);
      return pos;
    }
    case ValueTag.OBJECT: {
      within(pos + 4, end, where);
      const count = u32(bytes, pos);
      return skipPairs(bytes, pos + 4, end, count, depth + 1, where);
    }
    case ValueTag.ERROR: {
      pos = text16(bytes, pos, end, where);
      pos = text32(bytes, pos, end, where);
      pos = text32(bytes, pos, end, where);
      within(pos + 4, end, where);
      pos = skipPairs(bytes, pos + 4, end, u32(bytes, pos), depth + 1, where);
      within(pos + 1, end, where);
      const hasCause = bytes[pos]!;
      if (hasCause > 1) throw new ProtocolError(`${where}: error cause flag ${hasCause}`);
      return hasCause === 1 ? skipValue(bytes, pos + 1, end, depth + 1, where) : pos + 1;
    }
    default:
      throw new ProtocolError(
        `${where}: unknown value tag 0x${tag.toString(16)} (known: 0x00-0x${LAST_VALUE_TAG.toString(16)})`,
      );
  }
}

/**
 * Checks a record's values section, `start` to `end`: u8 argument count, that many values, then
 * (key, value) pairs filling the rest exactly.
 */
export function skipSection(bytes: Uint8Array, start: number, end: number, where: string): void {
  if (start >= end) throw new ProtocolError(`${where}: values section without its argument count`);
  const args = bytes[start]!;
  let pos = start + 1;
  for (let i = 0; i < args; i++) pos = skipValue(bytes, pos, end, 0, where);
  while (pos < end) {
    pos = text16(bytes, pos, end, where);
    pos = skipValue(bytes, pos, end, 0, where);
  }
}

/** Checks `count` (key, value) pairs from `pos`; returns where they end. */
export function skipPairs(
  bytes: Uint8Array,
  pos: number,
  end: number,
  count: number,
  depth: number,
  where: string,
): number {
  // A pair takes at least 3 bytes (an empty key and a tag).
  if (count > (end - pos) / 3) throw new ProtocolError(`${where}: object claims ${count} entries`);
  for (let i = 0; i < count; i++) {
    pos = text16(bytes, pos, end, where);
    pos = skipValue(bytes, pos, end, depth, where);
  }
  return pos;
}

function within(next: number, end: number, where: string): number {
  if (next > end) throw new ProtocolError(`${where}: value runs past its section`);
  return next;
}

function text16(bytes: Uint8Array, pos: number, end: number, where: string): number {
  within(pos + 2, end, where);
  return within(pos + 2 + u16(bytes, pos), end, where);
}

function text32(bytes: Uint8Array, pos: number, end: number, where: string): number {
  within(pos + 4, end, where);
  return within(pos + 4 + u32(bytes, pos), end, where);
}

/**
 * Turns validated values back into JavaScript values: plain objects and arrays, Date, Error (with
 * its type as `name`, its stack, enumerable extra properties such as `code`, and `cause`),
 * bigint, Uint8Array (a copy, so a handler may keep it after the frame is gone). Markers become
 * their text. Only ever run on bytes {@link skipValue} accepted.
 */
export class ValueReader {
  readonly #buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos: number) {
    this.#buf = buf;
    this.pos = pos;
  }

  #u16(): number {
    const value = u16(this.#buf, this.pos);
    this.pos += 2;
    return value;
  }

  #u32(): number {
    const value = u32(this.#buf, this.pos);
    this.pos += 4;
    return value;
  }

  #text16(): string {
    const length = this.#u16();
    const text = this.#buf.toString("utf8", this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  #text32(): string {
    const length = this.#u32();
    const text = this.#buf.toString("utf8", this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  key(): string {
    return this.#text16();
  }

  value(): unknown {
    const buf = this.#buf;
    const tag = buf[this.pos++]!;
    switch (tag) {
      case ValueTag.NULL:
        return null;
      case ValueTag.UNDEFINED:
        return undefined;
      case ValueTag.FALSE:
        return false;
      case ValueTag.TRUE:
        return true;
      case ValueTag.INT32: {
        const value = buf.readInt32LE(this.pos);
        this.pos += 4;
        return value;
      }
      case ValueTag.FLOAT64: {
        const value = buf.readDoubleLE(this.pos);
        this.pos += 8;
        return value;
      }
      case ValueTag.DATE: {
        const value = new Date(buf.readDoubleLE(this.pos));
        this.pos += 8;
        return value;
      }
      case ValueTag.BIGINT:
        return BigInt(this.#text16());
      case ValueTag.STRING:
        return this.#text32();
      case ValueTag.BYTES: {
        const length = this.#u32();
        const bytes = Uint8Array.prototype.slice.call(buf, this.pos, this.pos + length);
        this.pos += length;
        return bytes;
      }
      case ValueTag.MARKER:
        return this.#text16();
      case ValueTag.FORMATTED:
        return new FormattedArg(this.#text32());
      case ValueTag.ARRAY: {
        const count = this.#u32();
        const items = new Array<unknown>(count);
        for (let i = 0; i < count; i++) items[i] = this.value();
        return items;
      }
      case ValueTag.OBJECT:
        return this.pairs(this.#u32(), {});
      case ValueTag.ERROR:
        return this.#error();
      default:
        // skipValue() admitted only the tags above, so reaching here is a bug, not bad input.
        throw new Error(`unhandled value tag ${tag}`);
    }
  }

  /** Reads `count` pairs into `into`; a later key replaces an earlier one. */
  pairs(count: number, into: Record<string, unknown>): Record<string, unknown> {
    for (let i = 0; i < count; i++) setKey(into, this.#text16(), this.value());
    return into;
  }

  #error(): Error {
    const type = this.#text16();
    const message = this.#text32();
    const stack = this.#text32();
    const error = new Error(message);
    hidden(error, "name", type);
    hidden(error, "stack", stack);
    this.pairs(this.#u32(), error as unknown as Record<string, unknown>);
    if (this.#buf[this.pos++] === 1) hidden(error, "cause", this.value());
    return error;
  }
}

/** `into[key] = value`, except that "__proto__" becomes an own property instead of a prototype. */
export function setKey(into: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    into[key] = value;
  }
}

/** A non-enumerable own property, as an Error's own `message`, `stack` and `cause` are. */
function hidden(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: true, configurable: true });
}
