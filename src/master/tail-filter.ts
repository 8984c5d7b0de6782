import type { RecordBatch, RecordSource } from "../protocol/record-batch.js";
import type { TailQuery } from "../protocol/tail.js";
import { u16 } from "../protocol/u32.js";
import { skipValue, ValueReader } from "../protocol/value-reader.js";

/** A `--where` condition, with its key's bytes ready for comparing against the frame's. */
interface Condition {
  key: Buffer;
  /** For a dotted key no field has as its whole name: the first part, and the path below it. */
  head: Buffer | undefined;
  path: string[];
  expected: string;
}

const ABSENT = Symbol("absent");

/**
 * A tail's filter, applied in the master: level, worker-name globs and field equalities. They are
 * cheap and exact, and filtering before the wire means a narrow tail on a busy master is not
 * flooded (and does not skip) records it would throw away. The regular expression (`--grep`) is
 * the client's: a pathological pattern must cost the terminal, never the master every worker
 * depends on.
 */
export class TailFilter {
  readonly level: number;
  readonly #workers: readonly string[];
  readonly #where: readonly Condition[];
  /** One answer per connection: every batch of a worker shares its RecordSource. */
  readonly #sources = new WeakMap<RecordSource, boolean>();

  constructor(query: TailQuery, baseLevel: number) {
    this.level = Math.max(query.level, baseLevel);
    this.#workers = query.workers;
    this.#where = query.where.map(([key, expected]) => {
      const dot = key.indexOf(".");
      return {
        key: Buffer.from(key, "utf8"),
        head: dot > 0 ? Buffer.from(key.slice(0, dot), "utf8") : undefined,
        path: dot > 0 ? key.slice(dot + 1).split(".") : [],
        expected,
      };
    });
  }

  /** Whether any record of `batch` can match: its level range and its worker. */
  admits(batch: RecordBatch): boolean {
    if (batch.maxLevel < this.level) return false;
    if (this.#workers.length === 0) return true;
    let admitted = this.#sources.get(batch.source);
    if (admitted === undefined) {
      const name = batch.source.name;
      admitted = this.#workers.some((pattern) => globMatch(pattern, name));
      this.#sources.set(batch.source, admitted);
    }
    return admitted;
  }

  /** Record `i` of a batch {@link admits} accepted: its level and fields. */
  matches(batch: RecordBatch, i: number): boolean {
    if (batch.level(i) < this.level) return false;
    if (this.#where.length === 0) return true;
    if (!batch.hasValues(i)) return false;
    for (const condition of this.#where) {
      let value = fieldValue(batch, i, condition.key);
      if (value === ABSENT && condition.head !== undefined) {
        value = fieldValue(batch, i, condition.head);
        for (const part of condition.path) {
          if (value === null || typeof value !== "object" || !Object.hasOwn(value, part)) {
            value = ABSENT;
            break;
          }
          value = (value as Record<string, unknown>)[part];
        }
      }
      if (value === ABSENT || !valueEquals(value, condition.expected)) return false;
    }
    return true;
  }

  /** Indices of the matching records of `batch` from `from` on. */
  select(batch: RecordBatch, from = 0): number[] {
    const out: number[] = [];
    if (!this.admits(batch)) return out;
    for (let i = from; i < batch.count; i++) if (this.matches(batch, i)) out.push(i);
    return out;
  }
}

/**
 * `*` matches any run of characters, `?` one; everything else itself. Greedy with one backtrack
 * point, so the time is linear in practice and never exponential, whatever the pattern.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === "*") {
      star = p++;
      resume = t;
    } else if (c !== undefined && (c === "?" || c === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * The field `key` of record `i`, read from the frame: keys are compared as bytes and only the
 * value asked for is decoded, because a `--where` tail looks at every record the master routes
 * (decoding all fields into an object doubled the master's CPU in a 4-worker burst). The last
 * pair with the key wins, as in {@link RecordBatch.fields}.
 */
function fieldValue(batch: RecordBatch, i: number, key: Buffer): unknown {
  const buf = batch.buffer;
  const end = batch.valuesEnd(i);
  let pos = batch.pairsStart(i);
  let found = -1;
  while (pos < end) {
    const length = u16(buf, pos);
    const keyStart = pos + 2;
    pos = keyStart + length;
    if (length === key.length && buf.compare(key, 0, length, keyStart, pos) === 0) found = pos;
    pos = skipValue(buf, pos, end, 0, "record");
  }
  return found < 0 ? ABSENT : new ValueReader(buf, found).value();
}

/**
 * Whether a field's value equals `expected` as text: a string exactly, a number, bigint or
 * boolean as `String()` writes it (`status=200` matches 200 and "200"), null as `null`, a Date as
 * its ISO string. Objects never equal a text; a dotted key (`user.id=42`) reaches inside them,
 * tried when no field has the whole key as its name.
 */
export function valueEquals(value: unknown, expected: string): boolean {
  switch (typeof value) {
    case "string":
      return value === expected;
    case "number":
    case "bigint":
    case "boolean":
      return String(value) === expected;
    case "object":
      if (value === null) return expected === "null";
      if (value instanceof Date) return !Number.isNaN(value.getTime()) && value.toISOString() === expected;
      return false;
    default:
      return false;
  }
}
