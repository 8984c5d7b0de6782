/**
 * Wire constants. docs/protocol.md is the normative description; keep the two in step.
 * All multi-byte integers are little-endian: every platform Node ships on is little-endian, so the
 * encoder writes them with no byte swapping.
 */

/**
 * Bumped on any incompatible change; a master refuses a HELLO carrying another version.
 * 2: SHUTDOWN says how the worker ended (so an orderly exit is not reported as a death).
 * 3: a record may carry a values section (fields and %-arguments, values.ts).
 */
export const PROTOCOL_VERSION = 3;

/** "LMUX": lets the master reject a stranger speaking some other protocol on its first frame. */
export const MAGIC = 0x58554d4c;

/** u32 body length + u8 type. */
export const FRAME_HEADER_BYTES = 5;

export const MessageType = {
  // worker (or status client) -> master
  HELLO: 0x01,
  BATCH: 0x02,
  HEARTBEAT: 0x03,
  SHUTDOWN: 0x04,
  DROPS: 0x05,
  STATUS_QUERY: 0x06,
  /** A tail client's first and only frame: a JSON filter (protocol/tail.ts). */
  TAIL_QUERY: 0x07,
  // master -> worker (or status client)
  WELCOME: 0x81,
  ACK: 0x82,
  STATUS: 0x83,
  GOODBYE: 0x84,
  ERROR: 0x85,
  // master -> tail client
  TAIL_RECORDS: 0x86,
  TAIL_SKIPPED: 0x87,
  TAIL_LIVE: 0x88,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** BATCH frame: u64 seq right after the frame header. */
export const BATCH_SEQ_OFFSET = FRAME_HEADER_BYTES;
/** BATCH frame: u32 record count after the seq. */
export const BATCH_COUNT_OFFSET = BATCH_SEQ_OFFSET + 8;
/** BATCH body: u8 type, u64 seq, u32 record count. */
export const BATCH_HEADER_BYTES = BATCH_COUNT_OFFSET + 4;

/** Record, from its start: u64 timestamp ns, then the u8 level|flags byte... */
export const RECORD_LEVEL_OFFSET = 8;
/** ...then the u32 message length, then the message. */
export const RECORD_LENGTH_OFFSET = RECORD_LEVEL_OFFSET + 1;
/** Record prefix: u64 timestamp ns, u8 level|flags, u32 message length. */
export const RECORD_HEADER_BYTES = RECORD_LENGTH_OFFSET + 4;

/** Set in a record's level byte when a u32 length and an attachment follow the message. */
export const RECORD_FLAG_DATA = 0x80;
/**
 * Set in a record's level byte when a u32 length and a values section (u8 argument count, the
 * arguments, then (key, value) pairs to the section's end) follow the message and attachment.
 */
export const RECORD_FLAG_VALUES = 0x40;
/** Either flag: the record is not a plain message, and byte formatters take their general path. */
export const RECORD_FLAGS_EXTRA = RECORD_FLAG_DATA | RECORD_FLAG_VALUES;
export const RECORD_LEVEL_MASK = 0x07;

/** Worker names longer than this are cut by the worker and refused by the master. */
export const MAX_NAME_BYTES = 256;

/** HELLO body after the type byte: magic, version, flags, pid, instance id, heartbeat ms, name length. */
export const HELLO_FIXED_BYTES = 4 + 2 + 2 + 4 + 8 + 4 + 2;

/** How a worker ended, as SHUTDOWN reports it. */
export const EndKind = {
  /** `shutdown()` was called. */
  SHUTDOWN: 0,
  /** The process (or thread) exited without `shutdown()`; the detail is the exit code. */
  EXIT: 1,
  /** A signal ends the process; the detail is the signal number, the text its name. */
  SIGNAL: 2,
  /** An uncaught exception ends the process; the detail is the exit code, the text the error. */
  UNCAUGHT: 3,
} as const;
export type EndKind = (typeof EndKind)[keyof typeof EndKind];

/** SHUTDOWN body before its text: u64 last seq, u8 end kind, i32 detail, u16 text length. */
export const SHUTDOWN_FIXED_BYTES = 8 + 1 + 4 + 2;

/** An error's description in SHUTDOWN is cut to this: enough to page someone, not a stack dump. */
export const MAX_END_TEXT_BYTES = 1024;

/**
 * Longest frame the master accepts before a connection has sent its HELLO (`length` field, as
 * `maxFrameBytes`). Nothing has vouched for the peer yet, and the largest legitimate first frame is
 * a HELLO with a 256-byte name: 1 + 26 + 256 = 283. 4 KiB is over 14 times that, room for HELLO
 * fields a later version may add, while a thousand idle strangers cost at most 4 MiB. Status
 * and tail connections never leave it: STATUS_QUERY is 1 byte, and a TAIL_QUERY must fit in it.
 */
export const UNIDENTIFIED_MAX_FRAME_BYTES = 4096;
