import { httpSummary } from "./http-objects.js";
import { cutToBytes, errorType, isError, noEnumerableKeys, unloggable } from "./value-kinds.js";
import { type FieldLimits, MAX_KEY_BYTES, REDACTED, ValueTag } from "./values.js";

/** Texts up to this many code units try the ASCII byte loop first. */
const SHORT_TEXT = 48;

/** Worst case UTF-8 bytes per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;

/** The marker a string cut at the byte limit ends with. */
const CUT_MARK = "…[Truncated]";
const CUT_MARK_BYTES = Buffer.byteLength(CUT_MARK, "utf8");

/** Same binding as the batch encoder uses (see encoder.ts): the cheapest UTF-8 write Node has. */
interface FastUtf8 {
  utf8Write(text: string, offset: number): number;
}

/**
 * A compiled set of `redact` paths: the node for a key is `children.get(key) ?? wildcard`, and a
 * node that is `terminal` replaces the value under it with "[Redacted]".
 */
export interface RedactNode {
  terminal: boolean;
  children: Map<string, RedactNode> | undefined;
  wildcard: RedactNode | undefined;
}

/**
 * Writes typed values (values.ts) into a reusable scratch buffer. One per logger root: a log call
 * encodes its fields and arguments here, then the batch encoder copies the bytes into the batch.
 * Encoding once into scratch (rather than straight into the batch) means a record that does not
 * fit the open batch is copied again, never encoded again: serializers, getters and `toJSON` run
 * once per call.
 *
 * Nothing here throws for any value: a getter that throws, a Proxy, a revoked Proxy, a cycle, a
 * huge object all become markers.
 */
export class ValueWriter {
  buffer: Buffer;
  /** The same memory as a plain Uint8Array: indexed stores into a Buffer cost over twice as much (sink.ts). */
  #mem: Uint8Array;
  /** `buffer.length`, as a plain number: the length getter of a Buffer is not free on every write. */
  #capacity: number;
  #view: DataView;
  pos = 0;
  #limits: FieldLimits;
  /** `pos` past which the value being written becomes a marker. */
  #limitEnd = 0;
  /** Whether Object.prototype has no enumerable keys, checked once per record (about 8 ns). */
  #plainProtoClean = false;
  /** Set once the byte limit was hit: containers stop adding entries. */
  exhausted = false;
  /** The objects on the path to the value being written, for cycle detection. */
  readonly #ancestors: object[] = [];

  constructor(limits: FieldLimits) {
    this.#limits = limits;
    this.buffer = Buffer.allocUnsafe(1024);
    this.#capacity = this.buffer.length;
    this.#mem = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    this.#view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  get limits(): FieldLimits {
    return this.#limits;
  }

  /** Starts a new record's section. */
  reset(): void {
    this.pos = 0;
    this.exhausted = false;
    this.#limitEnd = this.#limits.bytes;
    // Empty after every call that returned normally; only a throw can leave entries behind.
    if (this.#ancestors.length !== 0) this.#ancestors.length = 0;
    this.#plainProtoClean = noEnumerableKeys(Object.prototype);
  }

  /** The bytes written since {@link reset}, as a view valid until the next write (allocates a view). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  #ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.#capacity) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.#capacity = grown.length;
    this.#mem = new Uint8Array(grown.buffer, grown.byteOffset, grown.length);
    this.#view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  u8(value: number): void {
    this.#ensure(1);
    this.#mem[this.pos++] = value;
  }

  /** Reserves a u32 to fill in later with {@link patchU32}; returns its offset. */
  reserveU32(): number {
    this.#ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  patchU32(at: number, value: number): void {
    this.#view.setUint32(at, value, true);
  }

  /** The written bytes' memory as a plain Uint8Array (valid until the writer grows). */
  get memory(): Uint8Array {
    return this.#mem;
  }

  /** Copies bytes encoded earlier (a child logger's bindings). */
  raw(bytes: Uint8Array): void {
    const length = bytes.length;
    this.#ensure(length);
    const mem = this.#mem;
    const at = this.pos;
    // A child's bindings are tens of bytes: a loop beats set(), which costs ~100 ns a call.
    if (length < 128) for (let i = 0; i < length; i++) mem[at + i] = bytes[i]!;
    else mem.set(bytes, at);
    this.pos = at + length;
  }

  /**
   * Copies bytes encoded earlier with set(): for the ~100 bytes of a span's trace pairs, 32 ns
   * where raw()'s per-byte loop took 183 ns (both timed alone, in one process).
   */
  rawBlock(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#mem.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  #u32(value: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  #f64(tag: number, value: number): void {
    this.#ensure(9);
    this.buffer[this.pos] = tag;
    this.#view.setFloat64(this.pos + 1, value, true);
    this.pos += 9;
  }

  /**
   * Text with a u16 or u32 length prefix, cut to `cap` bytes on a character boundary. A
   * `budgeted` text (a string value, a message or stack) is also cut at the byte limit, ends with
   * a marker there, and exhausts the writer.
   */
  #text(text: string, wide: boolean, cap: number, budgeted: boolean): void {
    const prefix = wide ? 4 : 2;
    const length = text.length;
    if (length <= SHORT_TEXT && this.pos + prefix + length <= this.#limitEnd) {
      // Keys and most values are short ASCII: a byte loop costs a few ns where the utf8Write
      // binding costs about 40 per call, and a call writes several of them.
      this.#ensure(prefix + length);
      const bytes = this.#mem;
      const at = this.pos + prefix;
      let i = 0;
      for (; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[at + i] = code;
      }
      if (i === length) {
        if (wide) this.#view.setUint32(this.pos, length, true);
        else this.#view.setUint16(this.pos, length, true);
        this.pos = at + length;
        return;
      }
    }
    let max = cap;
    if (budgeted) {
      const room = this.#limitEnd - this.pos - prefix;
      if (room < max) max = Math.max(room, 0);
    }
    if (text.length * MAX_UTF8_PER_UNIT > max && Buffer.byteLength(text, "utf8") > max) {
      if (budgeted) {
        this.exhausted = true;
        text = cutToBytes(text, max - CUT_MARK_BYTES) + CUT_MARK;
      } else {
        text = cutToBytes(text, max);
      }
    }
    this.#ensure(prefix + text.length * MAX_UTF8_PER_UNIT);
    const at = this.pos + prefix;
    const written = (this.buffer as unknown as FastUtf8).utf8Write(text, at);
    if (wide) this.#view.setUint32(this.pos, written, true);
    else this.#view.setUint16(this.pos, written, true);
    this.pos = at + written;
  }

  /** A key: u16 length + UTF-8, cut to MAX_KEY_BYTES. */
  key(key: string): void {
    this.#text(key, false, MAX_KEY_BYTES, false);
  }

  string(text: string): void {
    this.u8(ValueTag.STRING);
    this.#text(text, true, 0xffffffff, true);
  }

  marker(text: string): void {
    this.u8(ValueTag.MARKER);
    this.#text(text, false, 0xffff, false);
  }

  formatted(text: string): void {
    this.u8(ValueTag.FORMATTED);
    this.#text(text, true, 0xffffffff, true);
  }

  number(value: number): void {
    if ((value | 0) === value && !(value === 0 && 1 / value < 0)) {
      this.#ensure(5);
      this.buffer[this.pos] = ValueTag.INT32;
      this.#view.setInt32(this.pos + 1, value, true);
      this.pos += 5;
    } else {
      this.#f64(ValueTag.FLOAT64, value);
    }
  }

  /**
   * Any value. `depth` is how many containers enclose it; `redact` is the node of the path that
   * leads here (undefined when no redact path goes this way).
   */
  value(value: unknown, depth: number, redact: RedactNode | undefined): void {
    if (this.pos >= this.#limitEnd) {
      this.exhausted = true;
      this.marker("[Truncated]");
      return;
    }
    switch (typeof value) {
      case "string":
        this.string(value);
        return;
      case "number":
        this.number(value);
        return;
      case "boolean":
        this.u8(value ? ValueTag.TRUE : ValueTag.FALSE);
        return;
      case "undefined":
        this.u8(ValueTag.UNDEFINED);
        return;
      case "bigint": {
        this.u8(ValueTag.BIGINT);
        this.#text(value.toString(), false, 0xffff, false);
        return;
      }
      case "symbol":
        this.marker(value.toString());
        return;
      case "function":
        this.marker(`[Function: ${value.name || "(anonymous)"}]`);
        return;
      default:
        if (value === null) this.u8(ValueTag.NULL);
        else this.#object(value as object, depth, redact);
    }
  }

  #object(object: object, depth: number, redact: RedactNode | undefined): void {
    const ancestors = this.#ancestors;
    if (ancestors.includes(object)) {
      this.marker("[Circular]");
      return;
    }
    const start = this.pos;
    ancestors.push(object);
    try {
      // Inside the try from the first look: even `instanceof` runs a Proxy's getPrototypeOf trap,
      // and a revoked Proxy throws there.
      if (object instanceof Date) this.#f64(ValueTag.DATE, object.getTime());
      else if (object instanceof Uint8Array) this.#bytes(object);
      else if (depth >= this.#limits.depth) {
        this.marker(
          Array.isArray(object)
            ? "[Array]"
            : isError(object)
              ? `[${errorType(object as Error)}]`
              : "[Object]",
        );
      } else if (isError(object)) this.#error(object as Error, depth, redact);
      else if (Array.isArray(object)) this.#array(object as unknown[], depth, redact);
      else if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
        // As JSON.stringify does; one level deeper, so a toJSON returning a fresh object with a
        // toJSON of its own each time still ends at the depth limit.
        this.value((object as { toJSON(): unknown }).toJSON(), depth + 1, redact);
      } else if (object instanceof Map) this.#map(object, depth, redact);
      else if (object instanceof Set) this.#array([...object], depth, redact);
      else if (ArrayBuffer.isView(object)) this.marker(`[${object.constructor?.name ?? "TypedArray"}]`);
      else this.#pairsOf(httpSummary(object) ?? object, depth, redact);
    } catch (error) {
      // A getter, a Proxy trap or toJSON threw: whatever was written of this value is dropped and
      // a marker takes its place; the call goes on.
      this.pos = start;
      this.marker(unloggable(error));
    } finally {
      ancestors.pop();
    }
  }

  #bytes(bytes: Uint8Array): void {
    const room = this.#limitEnd - this.pos - 5;
    const take = bytes.length <= room ? bytes.length : Math.max(0, room);
    if (take < bytes.length) {
      this.exhausted = true;
      this.marker(`[Truncated: ${bytes.length} bytes]`);
      return;
    }
    this.u8(ValueTag.BYTES);
    this.#u32(take);
    this.#ensure(take);
    this.buffer.set(bytes, this.pos);
    this.pos += take;
  }

  #array(items: readonly unknown[], depth: number, redact: RedactNode | undefined): void {
    this.u8(ValueTag.ARRAY);
    const countAt = this.reserveU32();
    const max = this.#limits.entries;
    const length = items.length;
    const kept = Math.min(length, max);
    let written = 0;
    for (let i = 0; i < kept && !this.exhausted; i++) {
      const node = redact === undefined ? undefined : childNode(redact, String(i));
      if (node?.terminal) this.string(REDACTED);
      else this.value(items[i], depth + 1, node);
      written++;
    }
    if (kept < length && !this.exhausted) {
      this.marker(`[… ${length - kept} more items]`);
      written++;
    }
    this.patchU32(countAt, written);
  }

  #map(map: Map<unknown, unknown>, depth: number, redact: RedactNode | undefined): void {
    this.u8(ValueTag.OBJECT);
    const countAt = this.reserveU32();
    const max = this.#limits.entries;
    let written = 0;
    for (const [key, value] of map) {
      if (this.exhausted) break;
      if (written >= max) {
        this.key("…");
        this.marker(`[… ${map.size - written} more entries]`);
        written++;
        break;
      }
      written += this.#pair(String(key), value, depth, redact);
    }
    this.patchU32(countAt, written);
  }

  /** An object's own enumerable string-keyed properties, as an OBJECT. */
  #pairsOf(object: object, depth: number, redact: RedactNode | undefined): void {
    this.u8(ValueTag.OBJECT);
    const countAt = this.reserveU32();
    this.patchU32(countAt, this.pairs(object, depth, redact, undefined));
  }

  /**
   * Writes the own enumerable properties of `object` as (key, value) pairs and returns how many.
   * `serializers`, at the top level only (as pino applies them), replace a value first. Undefined
   * values are left out, as JSON leaves them out.
   */
  pairs(
    object: object,
    depth: number,
    redact: RedactNode | undefined,
    serializers: Readonly<Record<string, (value: unknown) => unknown>> | undefined,
  ): number {
    const max = this.#limits.entries;
    let written = 0;
    let seen = 0;
    // for-in rather than Object.keys: it can stop at the limit without first listing every key
    // of a huge object.
    // for-in over a plain object lists only its own keys unless Object.prototype has enumerable
    // ones (polluted); then, and for any other object, each key is checked (26 ns for 4 keys).
    const ownOnly = this.#plainProtoClean && Object.getPrototypeOf(object) === Object.prototype;
    for (const key in object) {
      if (!ownOnly && !Object.hasOwn(object, key)) continue;
      if (this.exhausted) break;
      if (seen >= max) {
        this.key("…");
        this.marker("[more keys omitted]");
        written++;
        break;
      }
      seen++;
      let value: unknown;
      try {
        value = (object as Record<string, unknown>)[key];
        if (serializers !== undefined && Object.hasOwn(serializers, key)) value = serializers[key]!(value);
      } catch (error) {
        this.key(key);
        this.marker(unloggable(error));
        written++;
        continue;
      }
      if (value === undefined) continue;
      if ((redact === undefined || childNode(redact, key) === undefined) && this.#fastPair(key, value)) {
        written++;
        continue;
      }
      written += this.#pair(key, value, depth, redact);
    }
    return written;
  }

  /**
   * The common pair, in one go: a short ASCII key with a short ASCII string, a number or a
   * boolean. Nothing is committed until both are written, so on false (anything else) the
   * general path starts from the same place.
   */
  #fastPair(key: string, value: unknown): boolean {
    const keyLength = key.length;
    const type = typeof value;
    const textLength = type === "string" ? (value as string).length : 0;
    if (
      keyLength > SHORT_TEXT ||
      textLength > SHORT_TEXT ||
      (type !== "string" && type !== "number" && type !== "boolean")
    )
      return false;
    // Key prefix, key, tag, and a u32 length + text or an f64, whichever is larger.
    const most = 2 + keyLength + 1 + Math.max(textLength + 4, 8);
    if (this.pos + most > this.#limitEnd) return false;
    this.#ensure(most);
    const mem = this.#mem;
    const start = this.pos;
    let at = start + 2;
    for (let i = 0; i < keyLength; i++) {
      const code = key.charCodeAt(i);
      if (code >= 0x80) return false;
      mem[at + i] = code;
    }
    mem[start] = keyLength;
    mem[start + 1] = 0;
    at += keyLength;
    if (type === "string") {
      const text = value as string;
      for (let i = 0; i < textLength; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) return false;
        mem[at + 5 + i] = code;
      }
      mem[at] = ValueTag.STRING;
      this.#view.setUint32(at + 1, textLength, true);
      this.pos = at + 5 + textLength;
    } else if (type === "boolean") {
      mem[at] = value ? ValueTag.TRUE : ValueTag.FALSE;
      this.pos = at + 1;
    } else {
      this.pos = at;
      this.number(value as number);
    }
    return true;
  }

  /** One (key, value) pair at `depth`; 0 when the value is undefined and so left out. */
  #pair(key: string, value: unknown, depth: number, redact: RedactNode | undefined): number {
    if (value === undefined) return 0;
    this.key(key);
    const node = redact === undefined ? undefined : childNode(redact, key);
    if (node?.terminal) this.string(REDACTED);
    else this.value(value, depth + 1, node);
    return 1;
  }

  /** The fields of a call: {@link pairs} at the top level, with the object itself on the cycle path. */
  fieldPairs(
    object: object,
    redact: RedactNode | undefined,
    serializers: Readonly<Record<string, (value: unknown) => unknown>> | undefined,
  ): number {
    const start = this.pos;
    if (redact === undefined && serializers === undefined) {
      // Only primitives get through: nothing can lead back to the object, so it need not be on
      // the cycle path (nor the try around the listing: #plainFields catches what it runs).
      const written = this.#plainFields(object);
      if (written >= 0) return written;
      this.pos = start;
      this.exhausted = false;
    }
    this.#ancestors.push(object);
    try {
      return this.pairs(object, 0, redact, serializers);
    } catch (error) {
      // The object's own keys could not be listed (a Proxy's ownKeys trap threw): one marker
      // entry says so instead.
      this.pos = start;
      this.key("…");
      this.marker(unloggable(error));
      return 1;
    } finally {
      this.#ancestors.pop();
    }
  }

  /**
   * The fields of the common call (no serializers, no redact paths, a plain object of short
   * strings, numbers and booleans) in one tight loop; -1 at the first key or value it does not
   * take, and the caller starts over with {@link pairs}, which takes everything. A getter that
   * throws also ends up there, since only {@link pairs} can put a marker in its place.
   */
  #plainFields(object: object): number {
    if (!this.#plainProtoClean || Object.getPrototypeOf(object) !== Object.prototype) return -1;
    const max = this.#limits.entries;
    let written = 0;
    try {
      for (const key in object) {
        const value = (object as Record<string, unknown>)[key];
        if (value === undefined) continue;
        if (written === max || !this.#fastPair(key, value)) return -1;
        written++;
      }
    } catch {
      return -1;
    }
    return written;
  }

  /** A top-level pair outside any object (the error given as an argument, as `err`). */
  pair(key: string, value: unknown, redact: RedactNode | undefined): number {
    return this.#pair(key, value, 0, redact);
  }

  #error(error: Error, depth: number, redact: RedactNode | undefined): void {
    this.u8(ValueTag.ERROR);
    this.#text(errorType(error), false, 0xffff, false);
    const message = (error as { message?: unknown }).message;
    this.#text(typeof message === "string" ? message : String(message ?? ""), true, 0xffffffff, true);
    const stack = (error as { stack?: unknown }).stack;
    this.#text(typeof stack === "string" ? stack : "", true, 0xffffffff, true);
    const countAt = this.reserveU32();
    this.patchU32(countAt, this.pairs(error, depth, redact, undefined));
    const cause = (error as { cause?: unknown }).cause;
    if (cause === undefined || this.exhausted) {
      this.u8(0);
    } else {
      this.u8(1);
      const node = redact === undefined ? undefined : childNode(redact, "cause");
      if (node?.terminal) this.string(REDACTED);
      else this.value(cause, depth + 1, node);
    }
  }
}

/** The redact node for `key` under `node`. */
export function childNode(node: RedactNode, key: string): RedactNode | undefined {
  return node.children?.get(key) ?? node.wildcard;
}
