import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CallShape } from "../../src/call/shape.js";
import { ProtocolError } from "../../src/errors.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { batchFrame, V } from "../helpers/frames.js";

const source = { name: "w", nameBytes: Buffer.from("w"), pid: 1 };

function decodeOne(values: Buffer, message = "m") {
  const { batch } = decodeBatch(batchFrame(1, [{ level: 2, message, values }]), source);
  return { batch, record: batch.record(0) };
}

function rejects(values: Buffer, reason: RegExp): void {
  assert.throws(
    () => decodeBatch(batchFrame(1, [{ level: 2, message: "m", values }]), source),
    (error: unknown) => error instanceof ProtocolError && reason.test(error.message),
    reason.source,
  );
}

describe("values section, as docs/protocol.md section 3.2.1 lays it out", () => {
  it("decodes every tag to the value the table gives", () => {
    const stack = "TypeError: bad\n    at here";
    const { record } = decodeOne(
      V.section(
        [],
        [
          ["null", V.null()],
          ["undef", V.undef()],
          ["no", V.bool(false)],
          ["yes", V.bool(true)],
          ["int", V.i32(-42)],
          ["float", V.f64(101.25)],
          ["negzero", V.f64(-0)],
          ["big", V.bigint("-123456789012345678901234567890")],
          ["text", V.str("héllo")],
          ["when", V.date(Date.UTC(2026, 0, 1))],
          ["invalid", V.date(Number.NaN)],
          ["bytes", V.bytes(Buffer.from([1, 2]))],
          ["list", V.array(V.i32(1), V.undef(), V.str("x"))],
          ["obj", V.object(["a", V.object(["b", V.null()])])],
          [
            "err",
            V.error("TypeError", "bad", stack, [["code", V.str("E_BAD")]], V.error("Error", "root", "", [])),
          ],
          ["mark", V.marker("[Circular]")],
        ],
      ),
    );
    const f = record.fields!;
    assert.equal(f.null, null);
    assert.ok("undef" in f && f.undef === undefined);
    assert.equal(f.no, false);
    assert.equal(f.yes, true);
    assert.equal(f.int, -42);
    assert.equal(f.float, 101.25);
    assert.ok(Object.is(f.negzero, -0));
    assert.equal(f.big, -123456789012345678901234567890n);
    assert.equal(f.text, "héllo");
    assert.deepEqual(f.when, new Date(Date.UTC(2026, 0, 1)));
    assert.ok(Number.isNaN((f.invalid as Date).getTime()));
    assert.deepEqual([...(f.bytes as Uint8Array)], [1, 2]);
    assert.deepEqual(f.list, [1, undefined, "x"]);
    assert.deepEqual(f.obj, { a: { b: null } });
    const err = record.err!;
    assert.equal(err, f.err);
    assert.equal(err.name, "TypeError");
    assert.equal(err.message, "bad");
    assert.equal(err.stack, stack);
    assert.equal((err as { code?: unknown }).code, "E_BAD");
    assert.equal((err.cause as Error).message, "root");
    assert.deepEqual(
      Object.keys(err),
      ["code"],
      "name, stack and cause are not enumerable, as on a native Error",
    );
    assert.equal(f.mark, "[Circular]");
  });

  it("the encoder writes what the document's example shows, and what the table describes", () => {
    const parts = CallShape.root(undefined, 1 << 20).shape(["order %s", "A-17", { qty: 3 }]);
    const bytes = Buffer.from(parts.values!.subarray(0, parts.valuesLength));
    assert.equal(bytes.toString("hex"), "010704000000412d3137030071747904" + "03000000");
    assert.deepEqual(bytes, V.section([V.str("A-17")], [["qty", V.i32(3)]]));
    const child = CallShape.root(undefined, 1 << 20).child({ reqId: "r-1" }, undefined);
    const err = new Error("e");
    err.stack = "Error: e";
    const call = child.shape(["failed", err, { n: 1.5, big: 7n, when: new Date(5), list: [true, null] }]);
    assert.deepEqual(
      Buffer.from(call.values!.subarray(0, call.valuesLength)),
      V.section(
        [],
        [
          ["reqId", V.str("r-1")],
          ["err", V.error("Error", "e", "Error: e", [])],
          ["n", V.f64(1.5)],
          ["big", V.bigint("7")],
          ["when", V.date(5)],
          ["list", V.array(V.bool(true), V.null())],
        ],
      ),
    );
  });

  it("interpolates the arguments into the message; FORMATTED is inserted as it is; with none, % stays", () => {
    const { batch } = decodeOne(
      V.section([V.str("A-17"), V.f64(101.25), V.formatted("Money<$2>")], []),
      "order %s at %d:",
    );
    assert.equal(batch.message(0), "order A-17 at 101.25: Money<$2>");
    assert.equal(batch.template(0), "order %s at %d:");
    assert.equal(decodeOne(V.section([], [["k", V.i32(1)]]), "100%% %s").batch.message(0), "100%% %s");
  });

  it("lets a later key win over an earlier one (bindings, then the call's fields)", () => {
    const { record } = decodeOne(
      V.section(
        [],
        [
          ["reqId", V.str("r-1")],
          ["step", V.str("a")],
          ["reqId", V.str("r-2")],
        ],
      ),
    );
    assert.deepEqual({ ...record.fields }, { reqId: "r-2", step: "a" });
  });

  it("keeps __proto__ an own field", () => {
    const { record } = decodeOne(V.section([], [["__proto__", V.object(["polluted", V.bool(true)])]]));
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    assert.ok(Object.hasOwn(record.fields!, "__proto__"));
  });

  it("refuses every violation the document lists, before any record is used", () => {
    rejects(Buffer.alloc(0), /values section without its argument count/);
    rejects(Buffer.from([2, 0x00]), /value runs past its section/);
    rejects(Buffer.concat([V.u8(0), V.key("k"), V.u8(0x0f)]), /unknown value tag 0xf/);
    rejects(Buffer.concat([V.u8(0), V.key("k"), V.u8(0x07), V.u32(100), Buffer.from("short")]), /runs past/);
    rejects(Buffer.concat([V.u8(0), V.key("k"), V.bigint("12a")]), /bigint with a non-digit/);
    rejects(Buffer.concat([V.u8(0), V.key("k"), V.bigint("-")]), /empty bigint/);
    rejects(
      Buffer.concat([V.u8(0), V.key("k"), V.u8(0x0a), V.u32(0xffffffff)]),
      /array claims 4294967295 items/,
    );
    rejects(Buffer.concat([V.u8(0), V.key("k"), V.u8(0x0b), V.u32(1000)]), /object claims 1000 entries/);
    const badCause = V.error("E", "m", "", []);
    badCause[badCause.length - 1] = 2;
    rejects(Buffer.concat([V.u8(0), V.key("k"), badCause]), /error cause flag 2/);
    let deep = V.null();
    for (let i = 0; i < 70; i++) deep = V.array(deep);
    rejects(Buffer.concat([V.u8(0), V.key("k"), deep]), /nested deeper than 64/);
    rejects(Buffer.concat([V.u8(0), V.key("k")]), /value runs past its section/);
    rejects(Buffer.concat([V.u8(0), Buffer.from([5])]), /runs past/);
  });

  it("decodes or refuses any mutation of real sections, and an accepted one always renders (fuzz)", () => {
    const shape = CallShape.root(undefined, 1 << 20);
    const seeds: Buffer[] = [];
    const calls: unknown[][] = [
      ["order %s at %d", "A-1", 2.5, { qty: 3, tags: ["a", "b"], when: new Date(0) }],
      ["failed", Object.assign(new Error("boom", { cause: new Error("root") }), { code: "E" })],
      [{ big: 10n ** 30n, nested: { a: [1, { b: null }] }, bytes: Buffer.from([1]) }, "pino %o", { x: 1 }],
    ];
    for (const call of calls) seeds.push(Buffer.from(shape.shape(call).values!));
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      )
      .map(([seed, edits]) => {
        const copy = Buffer.from(seed);
        for (const [at, byte] of edits) copy[at % copy.length] = byte;
        return copy;
      });
    const section = fc.oneof(
      mutated,
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(section, (values) => {
        let batch: ReturnType<typeof decodeOne>["batch"];
        try {
          batch = decodeOne(values, "m %s %j %d").batch;
        } catch (error) {
          if (error instanceof ProtocolError) return;
          throw error;
        }
        batch.message(0);
        batch.record(0).err;
        assert.equal(typeof batch.fields(0), "object");
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
