import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { format as utilFormat } from "node:util";
import fc from "fast-check";
import { type Call, encode, HOST, LINE_KEYS, lines } from "../helpers/json-lines.js";
import { numberOf, parseStrict } from "../helpers/strict-json.js";

// ---- What a line must hold, computed from the logged values, independently of src/format. ----

/** What the wire does to text: UTF-8, a lone surrogate becoming U+FFFD. */
const wellFormed = (text: string): string => Buffer.from(text, "utf8").toString("utf8");
const OMIT = Symbol("omit");

function put(into: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}

function expected(value: unknown, inArray: boolean, path: object[]): unknown {
  switch (typeof value) {
    case "string":
      return wellFormed(value);
    case "number": {
      if (!Number.isFinite(value)) return null;
      // A number is written as JSON.stringify writes it; parseStrict reads big integers as bigint.
      return numberOf(JSON.stringify(value));
    }
    case "bigint":
      return numberOf(value.toString());
    case "boolean":
      return value;
    case "undefined":
      return inArray ? null : OMIT;
    case "function":
      return `[Function: ${value.name || "(anonymous)"}]`;
    case "symbol":
      return value.toString();
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (path.includes(value as object)) return "[Circular]";
  const inner = [...path, value as object];
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.constructor.name,
      message: wellFormed(value.message),
      stack: wellFormed(value.stack ?? ""),
    };
    for (const key of Object.keys(value)) {
      const v = expected((value as unknown as Record<string, unknown>)[key], false, inner);
      if (v !== OMIT) put(out, wellFormed(key), v);
    }
    if (value.cause !== undefined) put(out, "cause", expected(value.cause, false, inner));
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => expected(v, true, inner));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value as object)) {
    const v = expected((value as Record<string, unknown>)[key], false, inner);
    if (v !== OMIT) put(out, wellFormed(key), v);
  }
  return out;
}

interface LoggedRecord {
  level: number;
  message: string;
  pctArgs: (string | number)[];
  bindings?: Record<string, unknown> | undefined;
  data?: Uint8Array | undefined;
  err?: Error | undefined;
  fields?: Record<string, unknown> | undefined;
}

function callOf(r: LoggedRecord): Call {
  const args: unknown[] = [r.message, ...r.pctArgs];
  if (r.data !== undefined) args.push(r.data);
  if (r.err !== undefined) args.push(r.err);
  if (r.fields !== undefined) args.push(r.fields);
  return { level: r.level, bindings: r.bindings, args };
}

/** The parsed line: the line's own keys, then the fields (bindings, err, the call's fields). */
function expectedLine(r: LoggedRecord, time: unknown): { value: Record<string, unknown>; keys: string[] } {
  const merged: Record<string, unknown> = {};
  const add = (key: string, value: unknown): void => {
    // The worker leaves undefined out; a later key replaces an earlier one in place.
    if (value !== undefined) put(merged, wellFormed(key), value);
  };
  for (const [key, value] of Object.entries(r.bindings ?? {})) add(key, value);
  if (r.err !== undefined) add("err", r.err);
  for (const [key, value] of Object.entries(r.fields ?? {})) add(key, value);
  const line: Record<string, unknown> = {
    level: (r.level + 1) * 10,
    time,
    pid: 42,
    hostname: HOST,
    name: "api",
    msg: utilFormat(
      wellFormed(r.message),
      ...r.pctArgs.map((a) => (typeof a === "string" ? wellFormed(a) : a)),
    ),
  };
  const keys = [...LINE_KEYS];
  if (r.data !== undefined) {
    line.data = Buffer.from(r.data).toString("base64");
    keys.push("data");
  }
  const lineKeys = r.data === undefined ? LINE_KEYS : [...LINE_KEYS, "data"];
  for (const key of Object.keys(merged)) {
    let out = key;
    if (lineKeys.includes(key)) {
      out = `fields.${key}`;
      while (Object.hasOwn(merged, out)) out = `fields.${out}`;
    }
    const value = expected(merged[key], false, [merged]);
    if (value === OMIT) continue;
    put(line, out, value);
    keys.push(out);
  }
  return { value: line, keys };
}

// ---- Arbitraries ----

function namedFn(): void {}
class AppError extends Error {}

const KEYS = [
  ...["a", "b", "userId", "err", "fields.msg", "fields.fields.msg", "__proto__", ""],
  ...[...LINE_KEYS, "data"],
  ...["0", "7", "42", "-1", "01", 'q"uote', "tab\tkey", "ключ", "emoji🎉", "lone\ud800"],
];
const key = fc.constantFrom(...KEYS);
const text = fc.oneof(
  fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "plain ascii", 'q"\\b', "line\nbreak\u0000", "é ü 🎉", "\ud800 lone", "\u007f\u2028"),
);
const circular = fc.constant(null).map(() => {
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  return loop;
});
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, 1e21, 5e-324),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
  fc.boolean(),
  fc.constantFrom(null, undefined, namedFn, Symbol("sym")),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 7 }),
  circular,
);
const objectOf = <T>(value: fc.Arbitrary<T>) =>
  fc
    .uniqueArray(fc.tuple(key, value), { maxLength: 5, selector: ([k]) => k })
    .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);
const { tree } = fc.letrec<{ tree: unknown; error: Error }>((tie) => ({
  tree: fc.oneof(
    { maxDepth: 3, depthIdentifier: "tree" },
    leaf,
    fc.array(tie("tree"), { maxLength: 4 }),
    objectOf(tie("tree")),
    tie("error"),
  ),
  error: fc
    .record({
      make: fc.constantFrom(
        (m: string, o?: ErrorOptions) => new Error(m, o),
        (m: string, o?: ErrorOptions) => new TypeError(m, o),
        (m: string, o?: ErrorOptions) => new AppError(m, o),
      ),
      message: text,
      code: fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.integer())),
      cause: fc.option(fc.oneof({ depthIdentifier: "tree" }, tie("error"), text), {
        depthIdentifier: "tree",
      }),
    })
    .map(({ make, message, code, cause }) => {
      const error = make(message, cause === null ? undefined : { cause });
      if (code !== null) (error as Error & { code?: unknown }).code = code;
      return error;
    }),
}));
const noPercent = text.map((s) => s.replaceAll("%", ""));
const record: fc.Arbitrary<LoggedRecord> = fc.record({
  level: fc.integer({ min: 0, max: 5 }),
  message: noPercent,
  pctArgs: fc.constant([]),
  bindings: fc.option(objectOf(tree), { nil: undefined }),
  data: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined }),
  err: fc.option(
    tree.filter((v): v is Error => v instanceof Error),
    { nil: undefined },
  ),
  fields: fc.option(objectOf(tree), { nil: undefined }),
});
const withArgs: fc.Arbitrary<LoggedRecord> = fc
  .record({ base: record, a: noPercent, s: noPercent, n: fc.integer() })
  .map(({ base, a, s, n }) => ({ ...base, message: `${a} %s took %d ms`, pctArgs: [s, n] }));

describe("JsonLines: the byte path and the object path", () => {
  it("give the same bytes, and lines that parse to the logged values, for any fields", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(record, withArgs), { minLength: 1, maxLength: 6 }), (records) => {
        // The worker's clock is performance.timeOrigin + now(), which may have drifted from Date.now().
        const before = Date.now() - 2000;
        const batch = encode(records.map(callOf));
        const after = Date.now() + 2000;
        const out = lines(batch);
        assert.equal(out.length, records.length);
        out.forEach((line, i) => {
          const parsed = parseStrict(line);
          const time = (parsed.value as { time: unknown }).time;
          assert.ok(typeof time === "number" && Number.isInteger(time) && time >= before && time <= after);
          const want = expectedLine(records[i]!, time);
          assert.deepEqual(parsed.value, want.value);
          assert.deepEqual(parsed.keys, want.keys);
        });
      }),
      { numRuns: 400 },
    );
  });
});
