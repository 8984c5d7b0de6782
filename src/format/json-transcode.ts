import { ValueReader } from "../protocol/value-reader.js";
import { MAX_DECODE_DEPTH, ValueTag } from "../protocol/values.js";
import { valueJson } from "./json-values.js";
import type { ByteSink } from "./sink.js";

/**
 * Output bytes one input byte of a values section can need on the fast path, at most: FALSE
 * (1 byte) becomes `false,` (6). Every other tag needs less per byte it takes (a DATE's 9 bytes
 * become at most 30, an INT32's 5 at most 12, a key's 2+n at most n+4).
 */
export const JSON_BYTES_PER_VALUE_BYTE = 6;

/**
 * Keys held for the pairwise duplicate check, the record's and those of the objects enclosing the
 * value being written: past it, a record takes the object path (a nested object, the slow path).
 */
const MAX_FAST_KEYS = 128;

/**
 * Room reserved beyond {@link JSON_BYTES_PER_VALUE_BYTE} per byte left: the closing brackets of
 * the containers open around a value written through the sink, and the line's `}` and newline.
 */
export const JSON_SLACK_BYTES = 2 * MAX_DECODE_DEPTH + 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/** `null`, `true`, `false` as bytes, written in place. */
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

/**
 * The byte path of {@link JsonLines}: turns the (key, value) pairs of a values section straight
 * into JSON in a {@link ByteSink}, building no object per record. Keys and ASCII strings with
 * nothing to escape are copied; numbers, booleans and null are written as digits and letters.
 * Whatever is not that simple (a string to escape or with non-ASCII text, an Error, an object
 * with a key to escape, a duplicate key or an array-index key that JavaScript would reorder) is
 * decoded with {@link ValueReader} and rendered by {@link valueJson}: the same function the object
 * path uses on the same decoded value, so the two paths give the same bytes.
 */
export class JsonTranscoder {
  #buffer: Buffer = Buffer.alloc(0);
  #bytes: Uint8Array = new Uint8Array(0);
  #words: DataView = new DataView(new ArrayBuffer(0));
  #sink: ByteSink | undefined;
  #out: Uint8Array = new Uint8Array(0);
  /** Where the next output byte goes. */
  #at = 0;
  /** End of the values section being read, for re-reserving after a slow write. */
  #end = 0;
  /** Start and length of each key of the object being written (and of the objects enclosing it). */
  #keys = new Int32Array(2 * MAX_FAST_KEYS);
  #keyCount = 0;

  /** Reads from `frame` from now on. */
  useFrame(frame: Buffer): void {
    this.#buffer = frame;
    this.#bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.length);
    this.#words = new DataView(frame.buffer, frame.byteOffset, frame.length);
  }

  /**
   * Writes `,"key":value` for each pair from `pos` to `end` at `at` in `sink`, whose room the
   * caller reserved ({@link JSON_BYTES_PER_VALUE_BYTE} per section byte). Returns where the output
   * ends, or -1 when the record has a top-level key the line must rename or dedupe, a key to
   * escape or an undefined value: the caller then takes the object path for the whole record.
   */
  pairs(sink: ByteSink, at: number, pos: number, end: number, hasData: boolean): number {
    this.#sink = sink;
    this.#out = sink.memory.bytes;
    this.#at = at;
    this.#end = end;
    this.#keyCount = 0;
    const bytes = this.#bytes;
    while (pos < end) {
      const keyLength = bytes[pos]! | (bytes[pos + 1]! << 8);
      const key = pos + 2;
      pos = key + keyLength;
      if (bytes[pos] === ValueTag.UNDEFINED || isLineKey(bytes, key, keyLength, hasData)) return -1;
      if (!this.#key(key, keyLength, 0, true)) return -1;
      pos = this.#value(pos);
    }
    return this.#at;
  }

  /**
   * Writes `,"key":` (without the comma for the first pair of an object) when the key can be
   * copied as it is: ASCII with nothing to escape, not all digits (JavaScript puts array-index
   * keys first, so the object path would reorder them), and unlike the keys before it in its
   * object (from `base` in {@link #keys}), where it is then recorded. Otherwise writes nothing
   * and returns false.
   */
  #key(key: number, length: number, base: number, comma: boolean): boolean {
    const bytes = this.#bytes;
    const out = this.#out;
    let at = this.#at;
    if (comma) out[at++] = COMMA;
    out[at++] = QUOTE;
    let digits = length > 0;
    for (let k = 0; k < length; k++) {
      const c = bytes[key + k]!;
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return false;
      if (c < 0x30 || c > 0x39) digits = false;
      out[at + k] = c;
    }
    if (digits) return false;
    const keys = this.#keys;
    const count = this.#keyCount;
    if (count >= MAX_FAST_KEYS) return false;
    for (let j = base; j < count; j++) {
      if (keys[2 * j + 1] !== length) continue;
      const other = keys[2 * j]!;
      let k = 0;
      while (k < length && bytes[other + k] === bytes[key + k]) k++;
      if (k === length) return false;
    }
    keys[2 * count] = key;
    keys[2 * count + 1] = length;
    this.#keyCount = count + 1;
    at += length;
    out[at++] = QUOTE;
    out[at++] = COLON;
    this.#at = at;
    return true;
  }

  /** Writes the value at `pos`; returns where it ends in the section. */
  #value(pos: number): number {
    const bytes = this.#bytes;
    const words = this.#words;
    const tag = bytes[pos]!;
    switch (tag) {
      case ValueTag.NULL:
      case ValueTag.UNDEFINED:
        this.#letters(NULL);
        return pos + 1;
      case ValueTag.TRUE:
        this.#letters(TRUE);
        return pos + 1;
      case ValueTag.FALSE:
        this.#letters(FALSE);
        return pos + 1;
      case ValueTag.INT32:
        this.#integer(words.getInt32(pos + 1, true));
        return pos + 5;
      case ValueTag.FLOAT64: {
        const value = words.getFloat64(pos + 1, true);
        if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) this.#integer(value);
        else this.#ascii(Number.isFinite(value) ? String(value) : "null");
        return pos + 9;
      }
      case ValueTag.BIGINT: {
        const length = bytes[pos + 1]! | (bytes[pos + 2]! << 8);
        this.#copy(pos + 3, length);
        return pos + 3 + length;
      }
      case ValueTag.STRING:
      case ValueTag.FORMATTED:
        return this.#string(pos + 5, words.getUint32(pos + 1, true));
      case ValueTag.MARKER:
        return this.#string(pos + 3, bytes[pos + 1]! | (bytes[pos + 2]! << 8));
      case ValueTag.DATE: {
        const date = new Date(words.getFloat64(pos + 1, true));
        this.#ascii(Number.isNaN(date.getTime()) ? "null" : `"${date.toISOString()}"`);
        return pos + 9;
      }
      case ValueTag.ARRAY:
        return this.#array(pos);
      case ValueTag.OBJECT:
        return this.#object(pos);
      default:
        return this.#slow(pos);
    }
  }

  #array(pos: number): number {
    const count = this.#words.getUint32(pos + 1, true);
    pos += 5;
    this.#out[this.#at++] = 0x5b; // [
    for (let i = 0; i < count; i++) {
      if (i > 0) this.#out[this.#at++] = COMMA;
      pos = this.#value(pos);
    }
    this.#out[this.#at++] = 0x5d; // ]
    return pos;
  }

  /**
   * An object whose keys can all be copied; at the first key that cannot (or an undefined value,
   * which the object path leaves out), what was written of it is dropped and it takes the slow path.
   */
  #object(start: number): number {
    const bytes = this.#bytes;
    const count = this.#words.getUint32(start + 1, true);
    const at = this.#at;
    const base = this.#keyCount;
    let pos = start + 5;
    this.#out[this.#at++] = 0x7b; // {
    for (let i = 0; i < count; i++) {
      const keyLength = bytes[pos]! | (bytes[pos + 1]! << 8);
      const key = pos + 2;
      pos = key + keyLength;
      if (bytes[pos] === ValueTag.UNDEFINED || !this.#key(key, keyLength, base, i > 0)) {
        this.#keyCount = base;
        this.#at = at;
        return this.#slow(start);
      }
      pos = this.#value(pos);
    }
    this.#keyCount = base;
    this.#out[this.#at++] = 0x7d; // }
    return pos;
  }

  /** A string of `length` bytes at `start`: copied between quotes when ASCII with nothing to escape. */
  #string(start: number, length: number): number {
    const out = this.#out;
    const at = this.#at;
    const end = start + length;
    if (copyPlain(this.#bytes, start, length, out, at + 1)) {
      out[at] = QUOTE;
      out[at + length + 1] = QUOTE;
      this.#at = at + length + 2;
    } else {
      this.#text(JSON.stringify(this.#buffer.toString("utf8", start, end)), end);
    }
    return end;
  }

  /** The value at `pos`, decoded and rendered as the object path renders it. */
  #slow(pos: number): number {
    const reader = new ValueReader(this.#buffer, pos);
    const value = reader.value();
    this.#text(valueJson(value) ?? "null", reader.pos);
    return reader.pos;
  }

  /**
   * Text of any length and content, through the sink (which grows as needed); then room is
   * reserved again for what is left of the section from `next`.
   */
  #text(text: string, next: number): void {
    const sink = this.#sink!;
    sink.length = this.#at;
    sink.writeString(text);
    this.#at = sink.reserve(JSON_BYTES_PER_VALUE_BYTE * (this.#end - next) + JSON_SLACK_BYTES);
    this.#out = sink.memory.bytes;
  }

  #copy(start: number, length: number): void {
    const out = this.#out;
    const bytes = this.#bytes;
    const at = this.#at;
    for (let k = 0; k < length; k++) out[at + k] = bytes[start + k]!;
    this.#at = at + length;
  }

  #letters(letters: readonly number[]): void {
    const out = this.#out;
    let at = this.#at;
    for (let k = 0; k < letters.length; k++) out[at++] = letters[k]!;
    this.#at = at;
  }

  /** ASCII text known to fit (a number, an ISO date). */
  #ascii(text: string): void {
    const out = this.#out;
    const at = this.#at;
    for (let k = 0; k < text.length; k++) out[at + k] = text.charCodeAt(k);
    this.#at = at + text.length;
  }

  #integer(value: number): void {
    this.#at = writeInteger(value, this.#out, this.#at);
  }
}

/** Writes the decimal digits of an integer below 2^53 in magnitude at `at`; returns the end. */
export function writeInteger(value: number, out: Uint8Array, at: number): number {
  if (value < 0) {
    out[at++] = 0x2d;
    value = -value;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let k = at + digits - 1;
  for (let rest = value; k >= at; k--) {
    const next = Math.floor(rest / 10);
    out[k] = 0x30 + rest - next * 10;
    rest = next;
  }
  return at + digits;
}

/** Whether the key at `key` is one the line has of its own (level, time, pid, hostname, name, msg, data). */
function isLineKey(bytes: Uint8Array, key: number, length: number, hasData: boolean): boolean {
  switch (length) {
    case 3:
      return same(bytes, key, "pid") || same(bytes, key, "msg");
    case 4:
      return same(bytes, key, "time") || same(bytes, key, "name") || (hasData && same(bytes, key, "data"));
    case 5:
      return same(bytes, key, "level");
    case 8:
      return same(bytes, key, "hostname");
    default:
      return false;
  }
}

function same(bytes: Uint8Array, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Copies `length` bytes from `start` to `out` at `at` while they are printable ASCII with no quote
 * or backslash (JSON as they are); false, with the copy left unfinished, at the first that is not.
 */
export function copyPlain(
  bytes: Uint8Array,
  start: number,
  length: number,
  out: Uint8Array,
  at: number,
): boolean {
  for (let k = 0; k < length; k++) {
    const c = bytes[start + k]!;
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return false;
    out[at + k] = c;
  }
  return true;
}
