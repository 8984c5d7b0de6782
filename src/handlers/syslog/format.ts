import { LogLevel } from "../../levels.js";
import type { LogRecord } from "../../record.js";
import { escapeParamValue, fieldParams } from "./structured-data.js";

export { escapeParamValue } from "./structured-data.js";

/**
 * RFC 5424 facility codes (section 6.2.1). The name is what configuration accepts; the number is
 * what goes into PRI.
 */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;

/**
 * RFC 5424 severity for each logmux level, indexed by level number. TRACE has no syslog
 * counterpart below debug, so it shares debug(7); WARNING maps to warning(4), skipping notice(5),
 * because logmux has no level between INFO and WARNING.
 */
export const SYSLOG_SEVERITY_BY_LEVEL: readonly number[] = [
  7, // TRACE -> debug
  7, // DEBUG -> debug
  6, // INFO -> info
  4, // WARNING -> warning
  3, // ERROR -> err
  2, // CRITICAL -> crit
];

/** RFC 5424 section 6: maximum lengths of the header fields, in (ASCII) characters. */
export const SYSLOG_FIELD_LIMITS = { hostname: 255, appName: 48, procId: 128, msgId: 32 } as const;

/**
 * The private enterprise number in the SD-ID `logmux@32473`. 32473 is the number RFC 5612 reserves
 * for documentation and examples; an organisation with its own PEN should pass it.
 */
export const DEFAULT_ENTERPRISE_ID = 32473;

/**
 * The worker name is capped inside STRUCTURED-DATA so that one absurdly long name cannot push the
 * message text out of a size-capped datagram.
 */
const MAX_SD_NAME_CHARS = 256;

/** UTF-8 byte order mark; RFC 5424 6.4 says a UTF-8 MSG SHOULD start with it. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The smallest room left for MSG once the header is written, so truncation always keeps some text. */
const MIN_MSG_BYTES = 16;

/** The largest ` fieldsDropped="N"` param (N a u32), reserved once any field param must go. */
const MAX_DROPPED_PARAM_BYTES = ' fieldsDropped="4294967295"'.length;

/**
 * Makes `value` a valid RFC 5424 header field: PRINTUSASCII (33-126) only, at most `max`
 * characters, and NILVALUE `-` when nothing is left. Other characters become `_` rather than being
 * dropped, so two different names cannot collapse into the same field by accident.
 */
export function headerField(value: string, max: number): string {
  let out = "";
  for (let i = 0; i < value.length && out.length < max; i++) {
    const code = value.charCodeAt(i);
    out += code >= 33 && code <= 126 ? value[i] : "_";
  }
  return out === "" ? "-" : out;
}

/**
 * The longest prefix of `bytes` that is at most `max` bytes and does not end inside a UTF-8
 * sequence: the cut backs off over continuation bytes (10xxxxxx) to the lead byte it belongs to.
 */
export function truncateUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = Math.max(0, max);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** What {@link Rfc5424Formatter} needs to know; the handler fills it from its options. */
export interface Rfc5424FormatterOptions {
  facility: number;
  hostname: string;
  appName: string;
  msgId: string;
  enterpriseId: number;
  /** SD-ID of the SD-ELEMENT that carries the record's fields (`fields@32473`). */
  structuredDataId: string;
  bom: boolean;
  /** Largest message in bytes (without transport framing); MSG is cut at a UTF-8 boundary to fit. */
  maxMessageBytes: number;
  /** Produces the MSG text of a record. */
  text: (record: LogRecord) => string;
}

/**
 * Formats records as RFC 5424 messages:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [logmux@PEN name="worker"][fields@PEN k="v"] BOM MSG`.
 * The per-second part of the timestamp and the worker's SD-ELEMENT are cached, since a burst of
 * records shares both.
 *
 * Size: the whole message stays within `maxMessageBytes` (unless the header alone exceeds it).
 * The fields' SD-ELEMENT may take the room MSG does not need, but at most half of what is left
 * after the header when MSG needs more. Params are kept whole, in field order: one that does not fit is
 * left out (a later, smaller one may still fit), and the number left out is added to the worker's
 * element as `fieldsDropped="N"`. Then MSG is cut at a UTF-8 boundary to what remains. A message
 * that lost params or MSG text is counted once in `truncated`.
 */
export class Rfc5424Formatter {
  readonly #pri: readonly string[];
  readonly #afterTime: string;
  readonly #msgIdPart: string;
  readonly #sdId: string;
  readonly #fieldsSdId: string;
  readonly #bom: boolean;
  readonly #max: number;
  readonly #text: (record: LogRecord) => string;
  #second = Number.NaN;
  #secondText = "";
  #sdCache = new Map<string, string>();
  /** Messages whose MSG had to be cut to fit `maxMessageBytes`. */
  truncated = 0;

  constructor(options: Rfc5424FormatterOptions) {
    this.#pri = SYSLOG_SEVERITY_BY_LEVEL.map((severity) => `<${options.facility * 8 + severity}>1 `);
    this.#afterTime = ` ${headerField(options.hostname, SYSLOG_FIELD_LIMITS.hostname)} ${headerField(
      options.appName,
      SYSLOG_FIELD_LIMITS.appName,
    )} `;
    this.#msgIdPart = ` ${headerField(options.msgId, SYSLOG_FIELD_LIMITS.msgId)} `;
    this.#sdId = `logmux@${options.enterpriseId}`;
    this.#fieldsSdId = options.structuredDataId;
    this.#bom = options.bom;
    this.#max = options.maxMessageBytes;
    this.#text = options.text;
  }

  /** RFC 3339 UTC time with microseconds (RFC 5424 allows at most six fractional digits). */
  timestamp(timestampNs: bigint): string {
    const micros = timestampNs / 1000n;
    const second = Number(micros / 1_000_000n);
    if (second !== this.#second) {
      const d = new Date(second * 1000);
      this.#secondText = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(
        d.getUTCHours(),
        2,
      )}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.`;
      this.#second = second;
    }
    return `${this.#secondText}${pad(Number(micros % 1_000_000n), 6)}Z`;
  }

  /** The worker's SD-ELEMENT without its closing `]`, so that `fieldsDropped` can join it. */
  #structuredData(name: string): string {
    let sd = this.#sdCache.get(name);
    if (sd === undefined) {
      const capped = name.length > MAX_SD_NAME_CHARS ? name.slice(0, MAX_SD_NAME_CHARS) : name;
      sd = `[${this.#sdId} name="${escapeParamValue(capped)}"`;
      // Worker names are few; the cap only guards against a caller minting names per record.
      if (this.#sdCache.size >= 1024) this.#sdCache.clear();
      this.#sdCache.set(name, sd);
    }
    return sd;
  }

  /**
   * The fields' SD-ELEMENT within `room` bytes (empty when no param fits), and how many params
   * were left out.
   */
  #fieldsElement(params: readonly string[], room: number): { element: string; dropped: number } {
    const wrapper = this.#fieldsSdId.length + 2;
    let left = room - wrapper;
    let element = "";
    let dropped = 0;
    for (const param of params) {
      const bytes = Buffer.byteLength(param);
      if (bytes <= left) {
        element += param;
        left -= bytes;
      } else {
        dropped++;
      }
    }
    return { element: element === "" ? "" : `[${this.#fieldsSdId}${element}]`, dropped };
  }

  /** One complete RFC 5424 message, without transport framing. */
  format(record: LogRecord): Buffer {
    const severityPri = this.#pri[record.level] ?? this.#pri[LogLevel.INFO]!;
    const procId = headerField(String(record.pid), SYSLOG_FIELD_LIMITS.procId);
    const head = `${severityPri}${this.timestamp(record.timestampNs)}${this.#afterTime}${procId}${this.#msgIdPart}${this.#structuredData(record.name)}`;
    const text = Buffer.from(this.#text(record), "utf8");
    const bomBytes = this.#bom ? BOM.length : 0;
    let sd = "]";
    let dropped = 0;
    const fields = record.fields;
    const params = fields === undefined ? undefined : fieldParams(fields);
    if (params !== undefined && params.length > 0) {
      // `]` and the space before MSG.
      const room = this.#max - Buffer.byteLength(head) - 2 - bomBytes;
      const msgNeeds = Math.min(text.length, Math.max(MIN_MSG_BYTES, Math.floor(room / 2)));
      let fitted = this.#fieldsElement(params, room - msgNeeds);
      if (fitted.dropped > 0) fitted = this.#fieldsElement(params, room - msgNeeds - MAX_DROPPED_PARAM_BYTES);
      dropped = fitted.dropped;
      sd = `${dropped > 0 ? ` fieldsDropped="${dropped}"` : ""}]${fitted.element}`;
    }
    const header = `${head}${sd} `;
    const headerBytes = Buffer.byteLength(header);
    const room = Math.max(MIN_MSG_BYTES, this.#max - headerBytes - bomBytes);
    const msg = truncateUtf8(text, room);
    if (msg.length !== text.length || dropped > 0) this.truncated++;
    const out = Buffer.allocUnsafe(headerBytes + bomBytes + msg.length);
    out.write(header, 0, "utf8");
    if (this.#bom) BOM.copy(out, headerBytes);
    msg.copy(out, headerBytes + bomBytes);
    return out;
  }
}

/** RFC 6587 3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, no trailer, so MSG may hold newlines. */
export function frameOctetCounted(message: Buffer): Buffer {
  const prefix = `${message.length} `;
  const out = Buffer.allocUnsafe(prefix.length + message.length);
  out.write(prefix, 0, "latin1");
  message.copy(out, prefix.length);
  return out;
}
