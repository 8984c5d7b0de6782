import type { LogMessage } from "../logger-base.js";
import { RECORD_HEADER_BYTES } from "../protocol/constants.js";

/** Suffix added to a message cut to fit `maxFrameBytes`, so the cut is visible in the log. */
const TRUNCATION_MARK = " …[truncated by logmux: message exceeded maxFrameBytes]";

/**
 * Cuts a record to `maxRecordBytes` on the wire: the attachment first (to what is left after the
 * message), then the message at a UTF-8 character boundary, marked so the cut shows in the log.
 */
export function truncateRecord(
  message: LogMessage,
  data: Uint8Array | undefined,
  maxRecordBytes: number,
): [LogMessage, Uint8Array | undefined] {
  const mark = Buffer.from(TRUNCATION_MARK, "utf8");
  const room = maxRecordBytes - RECORD_HEADER_BYTES - mark.length;
  const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
  if (data !== undefined && bytes.length + 4 + data.length > room)
    data = data.subarray(0, Math.max(0, room - bytes.length - 4));
  const messageRoom = room - (data === undefined ? 0 : 4 + data.length);
  let end = Math.min(bytes.length, Math.max(0, messageRoom));
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return [Buffer.concat([bytes.subarray(0, end), mark]), data];
}
