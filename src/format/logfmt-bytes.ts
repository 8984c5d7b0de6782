import { u16, u32 } from "../protocol/u32.js";
import { skipValue, ValueReader } from "../protocol/value-reader.js";
import { ValueTag } from "../protocol/values.js";
import { writeInteger } from "./json-transcode.js";
import { pushPairs } from "./logfmt.js";
import type { ByteSink } from "./sink.js";

const SPACE = 0x20;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

/** Top-level keys compared for repeats; a record with more goes the string way. */
const MAX_FAST_KEYS = 64;

/**
 * Worst-case output bytes per input byte: a control character becomes `\u00XX` (6), and a few
 * bytes of quotes and separators per pair.
 */
const BYTES_PER_INPUT_BYTE = 6;
const SLACK_BYTES = 64;

/**
 * Writes a record's fields as logfmt (` key=value ...`, each pair after a space, as logfmt.ts
 * renders them) straight from the values section of the frame, for the master's text lines. A
 * short ASCII key and a string, number, boolean, null or bigint value are written byte by byte;
 * any other value (an object to flatten, an array, a Date, bytes, non-ASCII text) is decoded and
 * rendered by logfmt.ts, for that value only. {@link write} declines, writing nothing, for what
 * only the string path renders right: a key given twice (the later one wins), an error (its stack
 * follows the line), a key logfmt must rewrite, an all-digit key (ordered first when decoded).
 */
export class LogfmtWriter {
  readonly #keys = new Uint32Array(MAX_FAST_KEYS * 2);
  /** Views of the frame being read, made once per frame rather than per record. */
  #frame: Buffer | undefined;
  #bytes: Uint8Array = new Uint8Array(0);
  #words: DataView = new DataView(new ArrayBuffer(0));

  /**
   * Appends the pairs from `pos` to `end` of `frame` to `sink`; returns false, with `sink` as it
   * was, when the record needs the string path.
   */
  write(frame: Buffer, pos: number, end: number, sink: ByteSink): boolean {
    if (frame !== this.#frame) {
      this.#frame = frame;
      this.#bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.length);
      this.#words = new DataView(frame.buffer, frame.byteOffset, frame.length);
    }
    const bytes = this.#bytes;
    if (!this.#plainKeys(bytes, pos, end)) return false;
    let at = sink.reserve((end - pos) * BYTES_PER_INPUT_BYTE + SLACK_BYTES);
    let out = sink.memory.bytes;
    while (pos < end) {
      const keyLength = u16(bytes, pos);
      const keyAt = pos + 2;
      pos = keyAt + keyLength;
      const tag = bytes[pos]!;
      if (tag === ValueTag.UNDEFINED) {
        pos++;
        continue;
      }
      out[at++] = SPACE;
      const pairStart = at;
      for (let k = 0; k < keyLength; k++) out[at + k] = bytes[keyAt + k]!;
      at += keyLength;
      out[at++] = EQUALS;
      const next = this.#value(bytes, pos, out, at);
      if (next >= 0) {
        at = next;
        pos = skipValue(bytes, pos, end, 0, "record");
        continue;
      }
      // Decoded and rendered as logfmt.ts does it (objects flatten into several pairs).
      const reader = new ValueReader(frame, pos);
      const value = reader.value();
      pos = reader.pos;
      const parts: string[] = [];
      pushPairs(parts, frame.toString("latin1", keyAt, keyAt + keyLength), value, 0);
      sink.length = pairStart;
      sink.writeString(parts.join(" "));
      at = sink.reserve((end - pos) * BYTES_PER_INPUT_BYTE + SLACK_BYTES);
      out = sink.memory.bytes;
      if (parts.length === 0) at = pairStart - 1;
    }
    sink.length = at;
    return true;
  }

  /**
   * Whether every top-level key is short, plain ASCII that logfmt keeps as it is, no key repeats,
   * and no value is an error.
   */
  #plainKeys(bytes: Uint8Array, pos: number, end: number): boolean {
    const keys = this.#keys;
    let count = 0;
    while (pos < end) {
      const length = u16(bytes, pos);
      const at = pos + 2;
      if (length === 0 || count === MAX_FAST_KEYS) return false;
      let digits = 0;
      for (let k = 0; k < length; k++) {
        const c = bytes[at + k]!;
        if (c <= SPACE || c >= 0x7f || c === EQUALS || c === QUOTE) return false;
        if (c >= 0x30 && c <= 0x39) digits++;
      }
      // An all-digit key is an array index to a JavaScript object, which lists those first: the
      // decoded fields would be in another order than the frame's.
      if (digits === length) return false;
      for (let j = 0; j < count; j++) {
        if (keys[j * 2 + 1] === length && sameBytes(bytes, keys[j * 2]!, at, length)) return false;
      }
      keys[count * 2] = at;
      keys[count * 2 + 1] = length;
      count++;
      pos = at + length;
      if (bytes[pos] === ValueTag.ERROR) return false;
      pos = skipValue(bytes, pos, end, 0, "record");
    }
    return true;
  }

  /** Writes a scalar value at `at`; returns the end, or -1 when the value needs decoding. */
  #value(bytes: Uint8Array, pos: number, out: Uint8Array, at: number): number {
    switch (bytes[pos]) {
      case ValueTag.STRING:
      case ValueTag.FORMATTED:
        return writeText(bytes, pos + 5, u32(bytes, pos + 1), out, at);
      case ValueTag.MARKER:
        return writeText(bytes, pos + 3, u16(bytes, pos + 1), out, at);
      case ValueTag.INT32: {
        const value =
          bytes[pos + 1]! | (bytes[pos + 2]! << 8) | (bytes[pos + 3]! << 16) | (bytes[pos + 4]! << 24);
        return writeInteger(value, out, at);
      }
      case ValueTag.FLOAT64: {
        const text = String(this.#words.getFloat64(pos + 1, true));
        for (let k = 0; k < text.length; k++) out[at + k] = text.charCodeAt(k);
        return at + text.length;
      }
      case ValueTag.BIGINT: {
        const length = u16(bytes, pos + 1);
        for (let k = 0; k < length; k++) out[at + k] = bytes[pos + 3 + k]!;
        return at + length;
      }
      case ValueTag.TRUE:
        return letters(TRUE, out, at);
      case ValueTag.FALSE:
        return letters(FALSE, out, at);
      case ValueTag.NULL:
        return letters(NULL, out, at);
      default:
        return -1;
    }
  }
}

/**
 * Text as logfmt writes it: as it is when it is printable ASCII with no space, `=`, `"` or
 * backslash; quoted and escaped when it is ASCII and needs quotes; -1 (decode it) when it is not
 * ASCII, whose spaces (U+00A0...) only the string path knows.
 */
function writeText(bytes: Uint8Array, start: number, length: number, out: Uint8Array, at: number): number {
  let quote = length === 0;
  for (let k = 0; k < length; k++) {
    const c = bytes[start + k]!;
    if (c >= 0x80) return -1;
    if (c <= SPACE || c === 0x7f || c === EQUALS || c === QUOTE || c === BACKSLASH) quote = true;
  }
  if (!quote) {
    for (let k = 0; k < length; k++) out[at + k] = bytes[start + k]!;
    return at + length;
  }
  out[at++] = QUOTE;
  for (let k = 0; k < length; k++) {
    const c = bytes[start + k]!;
    if (c === QUOTE || c === BACKSLASH) {
      out[at++] = BACKSLASH;
      out[at++] = c;
    } else if (c < SPACE || c === 0x7f) {
      at = writeEscape(c, out, at);
    } else {
      out[at++] = c;
    }
  }
  out[at++] = QUOTE;
  return at;
}

/** `\n`, `\r`, `\t`, or `\u00XX`, as logfmt.ts escapes control characters. */
function writeEscape(c: number, out: Uint8Array, at: number): number {
  out[at++] = BACKSLASH;
  if (c === 0x0a) out[at++] = 0x6e;
  else if (c === 0x0d) out[at++] = 0x72;
  else if (c === 0x09) out[at++] = 0x74;
  else {
    const hex = c.toString(16).padStart(4, "0");
    out[at++] = 0x75;
    for (let k = 0; k < 4; k++) out[at++] = hex.charCodeAt(k);
  }
  return at;
}

function letters(word: readonly number[], out: Uint8Array, at: number): number {
  for (let k = 0; k < word.length; k++) out[at + k] = word[k]!;
  return at + word.length;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}
