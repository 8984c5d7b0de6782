// The syntax of a line format (Python logging's `%(key)s` placeholders), apart from the formatter:
// LoggerConfig checks a format with it, and a worker, which never formats, loads only this.

/**
 * The `%(key)` names a format may use, as in Python's logging where they exist there, and
 * `%(fields)s` (the record's fields as logfmt). Any other name is a field of the record, as
 * Python's `extra`: `%(reqId)s` prints the field `reqId`, or `-` when the record has none.
 */
export const FORMAT_KEYS = [
  "asctime",
  "created",
  "data",
  "fields",
  "levelname",
  "levelno",
  "message",
  "msecs",
  "name",
  "process",
] as const;
export type FormatKey = (typeof FORMAT_KEYS)[number];

const PLACEHOLDER = /%%|%\((\w+)\)([-#0 +]*)(\d+)?(?:\.(\d+))?([sdifr])/g;

export interface Field {
  key: FormatKey | "field";
  /** For key "field": the record field it names. */
  fieldName: string;
  leftAlign: boolean;
  zeroPad: boolean;
  width: number;
  precision: number;
  conversion: string;
  /** True when the value can be copied as it is (no width, precision or conversion applies). */
  plain: boolean;
}
export type Segment = string | Field;

/** Splits a format into literal text and placeholders. Unknown keys name a record field. */
export function compilePattern(source: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  let literal = "";
  for (const match of source.matchAll(PLACEHOLDER)) {
    literal += source.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[0] === "%%") {
      literal += "%";
      continue;
    }
    const key = match[1]!;
    const known = (FORMAT_KEYS as readonly string[]).includes(key);
    if (literal !== "") segments.push(literal);
    literal = "";
    const flags = match[2] ?? "";
    const width = match[3] === undefined ? 0 : Number(match[3]);
    const precision = match[4] === undefined ? -1 : Number(match[4]);
    const conversion = match[5]!;
    segments.push({
      key: known ? (key as FormatKey) : "field",
      fieldName: known ? "" : key,
      leftAlign: flags.includes("-"),
      zeroPad: flags.includes("0"),
      width,
      precision,
      conversion,
      plain: width === 0 && precision < 0 && conversion === "s",
    });
  }
  literal += source.slice(last);
  if (literal !== "") segments.push(literal);
  return segments;
}
