// CallShape remembers how many arguments the last template's placeholders take. The split between
// %-arguments and the fields object depends on that count, so one shape given the same template
// with more or fewer arguments, and other templates in between, must split every call as
// util.format reads it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { format } from "node:util";
import { CallShape } from "../../src/call/shape.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { batchFrame } from "../helpers/frames.js";

const source = { name: "w", nameBytes: Buffer.from("w"), pid: 1 };

function rendered(shape: CallShape, args: unknown[]) {
  const parts = shape.shape(args);
  const values =
    parts.values === undefined ? undefined : Buffer.from(parts.values.subarray(0, parts.valuesLength));
  const { batch } = decodeBatch(
    batchFrame(1, [{ level: 2, message: parts.message as string, values }]),
    source,
  );
  return { message: batch.message(0), fields: batch.record(0).fields };
}

describe("CallShape with templates repeated and varied", () => {
  it("takes as many arguments as the placeholders and the call allow, whatever the calls before", () => {
    const shape = CallShape.root(undefined, 1 << 20);
    const calls: unknown[][] = [
      ["v %j %j", { a: 1 }],
      ["v %j %j", { a: 1 }, { b: 2 }],
      ["v %j %j", { a: 1 }],
      ["w %j %j", { a: 1 }, { b: 2 }],
      ["v %j %%", { a: 1 }, { b: 2 }],
      ["v %j %j", { a: 1 }, { b: 2 }],
    ];
    for (const call of calls) {
      const [template, ...args] = call as [string, ...object[]];
      const consumed = (template.match(/%j/g) ?? []).length;
      const { message, fields } = rendered(shape, call);
      // Placeholders take arguments first; a plain object left over is the fields.
      const taken = args.slice(0, consumed);
      assert.equal(message, format(template, ...taken), JSON.stringify(call));
      assert.deepEqual(fields, args.length > consumed ? args.at(-1) : {}, JSON.stringify(call));
    }
  });
});
