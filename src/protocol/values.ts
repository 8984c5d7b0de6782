/**
 * The typed value encoding that carries a record's fields and %-arguments (docs/protocol.md,
 * section 3.2.1). The worker copies values into it without building JSON or strings; the master
 * turns them into text, JSON, OTLP attributes or syslog structured data.
 *
 * Every value starts with one tag byte. Lengths are little-endian like the rest of the protocol.
 */
export const ValueTag = {
  NULL: 0x00,
  /** Kept in %-arguments (`%s` of undefined prints "undefined"); omitted from fields by the worker. */
  UNDEFINED: 0x01,
  FALSE: 0x02,
  TRUE: 0x03,
  /** i32: every integer in that range. Other numbers, -0 included, are FLOAT64. */
  INT32: 0x04,
  FLOAT64: 0x05,
  /** u16 length + ASCII decimal digits, with a leading "-" when negative. */
  BIGINT: 0x06,
  /** u32 length + UTF-8. */
  STRING: 0x07,
  /** f64 milliseconds since the epoch (NaN for an invalid Date). */
  DATE: 0x08,
  /** u32 length + bytes. */
  BYTES: 0x09,
  /** u32 count + that many values. */
  ARRAY: 0x0a,
  /** u32 count + that many (key, value) pairs; a key is u16 length + UTF-8. */
  OBJECT: 0x0b,
  /**
   * An Error: u16 type length + type, u32 message length + message, u32 stack length + stack, u32
   * count + that many (key, value) pairs of its other own enumerable properties (`code` among
   * them), then u8 0 or u8 1 followed by the value of its `cause`.
   */
  ERROR: 0x0c,
  /**
   * u16 length + UTF-8: a value the worker replaced by a visible marker ("[Circular]",
   * "[Object]" past the depth limit, "[Truncated]" past the byte limit, "[Function: f]"...).
   * Rendered as that text wherever a string would be.
   */
  MARKER: 0x0d,
  /**
   * u32 length + UTF-8, only as a %-argument: the worker formatted it itself (a class instance,
   * a Map, a symbol, an Error...), because the master could not rebuild the value `util.format`
   * would see. Inserted as it is.
   */
  FORMATTED: 0x0e,
} as const;
export type ValueTag = (typeof ValueTag)[keyof typeof ValueTag];

export const LAST_VALUE_TAG = ValueTag.FORMATTED;

/** What `redact` paths put in place of a value. */
export const REDACTED = "[Redacted]";

/**
 * Bounds on what one log call encodes, so an accidental huge object (a request, a socket, a
 * million-element array) can never stall the hot path or blow up a batch.
 */
export interface FieldLimits {
  /**
   * Objects and arrays nested deeper than this become the marker `"[Object]"` / `"[Array]"`.
   * @default 8
   */
  depth: number;
  /**
   * Entries kept per object or array; the rest are replaced by one marker entry.
   * @default 100
   */
  entries: number;
  /**
   * Bytes of encoded fields and arguments per record; past it, the value being written becomes
   * `"[Truncated]"` (a string is cut, with a marker) and no further entries are added.
   * @default 65536
   */
  bytes: number;
}

/**
 * Defaults close to pino's own (its serializer stops at depth 5 and 100 entries per object): deep
 * enough for a request object, small enough that one call costs microseconds, not milliseconds.
 */
export const DEFAULT_FIELD_LIMITS: Readonly<FieldLimits> = Object.freeze({
  depth: 8,
  entries: 100,
  bytes: 64 * 1024,
});

/**
 * Nesting the master accepts in a record: far above what a worker's `depth` limit lets through
 * (an Error's cause chain adds a level per cause), and low enough that a hostile frame cannot
 * exhaust the decoder's stack.
 */
export const MAX_DECODE_DEPTH = 64;

/** Keys longer than this are cut by the worker (on a character boundary). */
export const MAX_KEY_BYTES = 1024;
