// Text lines of records with fields: the master's byte path (LogfmtWriter, straight from the
// frame) against format() of the decoded record, over generated fields.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LinePattern } from "../../src/format/pattern.js";
import { ByteSink } from "../../src/format/sink.js";
import { DEFAULT_FORMAT } from "../../src/index.js";
import type { RecordBatch } from "../../src/protocol/record-batch.js";
import { type Call, encode } from "../helpers/json-lines.js";

function bothPaths(pattern: LinePattern, batch: RecordBatch): string[] {
  const sink = new ByteSink(16);
  const written = pattern.writeBatch(batch, 0, sink);
  const viaBytes = sink.view().toString("utf8");
  const viaObjects = Array.from(
    { length: batch.count },
    (_, i) => `${pattern.format(batch.record(i))}\n`,
  ).join("");
  assert.equal(viaBytes, viaObjects);
  assert.equal(written, batch.count);
  return viaBytes.split("\n");
}

const key = fc.constantFrom(
  "a",
  "b",
  "userId",
  "reqId",
  "k=v",
  'q"',
  "sp ace",
  "ключ",
  "",
  "0",
  "7",
  "__proto__",
);
const text = fc.oneof(
  fc.string({ unit: "grapheme-ascii", maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom(
    "",
    "two words",
    'say "hi"',
    "a\\b",
    "line\nbreak",
    "tab\there",
    "\u0000\u007f",
    "é",
    "nbsp\u00a0x",
  ),
);
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 31, 1e21),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 4 }),
);
const objectOf = <T>(value: fc.Arbitrary<T>) =>
  fc.array(fc.tuple(key, value), { maxLength: 4 }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries)
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof({ maxDepth: 2 }, leaf, fc.array(tie("tree"), { maxLength: 3 }), objectOf(tie("tree"))),
}));
const call: fc.Arbitrary<Call> = fc
  .record({
    level: fc.integer({ min: 0, max: 5 }),
    message: text.map((s) => s.replaceAll("%", "")),
    args: fc.option(fc.tuple(text, fc.integer()), { nil: undefined }),
    bindings: fc.option(objectOf(tree), { nil: undefined }),
    fields: fc.option(objectOf(tree), { nil: undefined }),
    err: fc.option(fc.constant(new TypeError("bad")), { nil: undefined }),
  })
  .map(({ level, message, args, bindings, fields, err }) => {
    const all: unknown[] = args === undefined ? [message] : [`${message} %s took %d`, ...args];
    if (err !== undefined) all.push(err);
    if (fields !== undefined) all.push(fields);
    return { level, bindings, args: all };
  });

describe("text lines of records with fields", () => {
  for (const [what, format] of [
    ["the default format (cached parts, fields written from the frame)", DEFAULT_FORMAT],
    [
      "a format with %(fields)s and a named field (the string path)",
      "%(levelname)s %(reqId)s %(message)s | %(fields)s",
    ],
  ] as const) {
    it(`${what}: the byte path gives format()'s bytes`, () => {
      const pattern = new LinePattern(format);
      fc.assert(
        fc.property(fc.array(call, { minLength: 1, maxLength: 5 }), (calls) => {
          bothPaths(pattern, encode(calls));
        }),
        { numRuns: 500 },
      );
    });
  }

  it("writes plain, quoted and escaped values exactly", () => {
    const pattern = new LinePattern("%(message)s");
    const [line] = bothPaths(
      pattern,
      encode([
        {
          level: 2,
          args: [
            "m",
            {
              s: "pro",
              sp: "two words",
              q: 'say "hi"',
              bs: "a\\b",
              nl: "x\ny",
              e: "",
              n: -42,
              f: 0.5,
              t: true,
              z: null,
              big: 10n ** 20n,
            },
          ],
        },
      ]),
    );
    assert.equal(
      line,
      'm s=pro sp="two words" q="say \\"hi\\"" bs="a\\\\b" nl="x\\ny" e="" n=-42 f=0.5 t=true z=null big=100000000000000000000',
    );
  });
});
