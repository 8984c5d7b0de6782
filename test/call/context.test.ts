// The mixin and trace context options through the real encoder and decoder (CallShape,
// BatchBuilder, decodeBatch), and the AsyncLocalStorage helpers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallShape } from "../../src/call/shape.js";
import {
  InvalidConfigError,
  type LoggerOptions,
  LogLevel,
  logContext,
  logContextMixin,
  withLogContext,
} from "../../src/index.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";

const SOURCE = { name: "api", nameBytes: Buffer.from("api"), pid: 42 };

/** The fields of one call's record as the master decodes them (undefined: no values section). */
function fieldsOf(shape: CallShape, args: unknown[], level: LogLevel = LogLevel.INFO): unknown {
  const parts = shape.shape(args, level);
  const builder = new BatchBuilder(1 << 16);
  assert.ok(builder.append(level, parts.message, parts.data, parts.values, parts.valuesLength));
  const batch = decodeBatch(builder.seal(1), SOURCE).batch;
  return batch.hasValues(0) ? batch.fields(0) : undefined;
}

const root = (options: LoggerOptions) => CallShape.root(options, 1 << 20);

describe("mixin", () => {
  it("adds its fields after the bindings and before the call's, which win", () => {
    let n = 0;
    const shape = root({ mixin: () => ({ seq: ++n, tenant: "acme" }) }).child({ reqId: "r-1" }, undefined);
    assert.deepEqual(fieldsOf(shape, ["plain"]), { reqId: "r-1", seq: 1, tenant: "acme" });
    const fields = fieldsOf(shape, ["call", { tenant: "mine", x: 1 }]);
    assert.deepEqual(fields, { reqId: "r-1", seq: 2, tenant: "mine", x: 1 });
    assert.deepEqual(Object.keys(fields as object), ["reqId", "seq", "tenant", "x"]);
  });

  it("gets pino's arguments: the call's fields object and the level", () => {
    const seen: unknown[] = [];
    const shape = root({
      mixin: (merge, level) => {
        seen.push([merge, level]);
        return { lvl: level };
      },
    });
    const own = { a: 1 };
    assert.deepEqual(fieldsOf(shape, ["m", own], LogLevel.ERROR), { lvl: LogLevel.ERROR, a: 1 });
    assert.deepEqual(fieldsOf(shape, ["m"], LogLevel.DEBUG), { lvl: LogLevel.DEBUG });
    assert.equal((seen[0] as unknown[])[0], own);
    assert.deepEqual(seen[1], [{}, LogLevel.DEBUG]);
  });

  it("a throwing mixin leaves a marker, never a throw; odd results are markers or nothing", () => {
    const throwing = root({
      mixin: () => {
        throw new TypeError("no store");
      },
    });
    assert.deepEqual(fieldsOf(throwing, ["m", { a: 1 }]), {
      mixin: "[Unloggable: TypeError: no store]",
      a: 1,
    });
    assert.deepEqual(fieldsOf(root({ mixin: () => "text" as never }), ["m"]), {
      mixin: "[Unloggable: mixin returned string]",
    });
    // Nothing to add: the record has no values section at all, as without a mixin.
    assert.equal(fieldsOf(root({ mixin: () => undefined }), ["m"]), undefined);
    assert.equal(fieldsOf(root({ mixin: () => null }), ["m"]), undefined);
  });

  it("its fields are redacted and serialized like the call's", () => {
    const shape = root({
      mixin: () => ({ token: "secret", user: { id: 7, name: "x" } }),
      redact: ["token"],
      serializers: { user: (u) => ({ id: (u as { id: number }).id }) },
    });
    assert.deepEqual(fieldsOf(shape, ["m"]), { token: "[Redacted]", user: { id: 7 } });
  });

  it("bad options throw InvalidConfigError naming them; children take neither option", () => {
    assert.throws(
      () => root({ mixin: 42 as never }),
      (e: unknown) => {
        assert.ok(e instanceof InvalidConfigError);
        assert.match(e.message, /options\.mixin/);
        return true;
      },
    );
    assert.throws(() => root({ traceContext: "yes" as never }), /options\.traceContext/);
    const shape = root({});
    assert.throws(() => shape.child({}, { mixin: () => ({}) } as never), /child options\.mixin/);
    assert.throws(() => shape.child({}, { traceContext: true } as never), /child options\.traceContext/);
  });

  it("without a mixin or trace context a plain call has no context, so the fast path stays", () => {
    assert.equal(root({}).context, undefined);
    assert.equal(root({}).child({ a: 1 }, undefined).context, undefined);
    const withMixin = root({ mixin: () => ({}) });
    assert.notEqual(withMixin.context, undefined);
    assert.equal(withMixin.child({ a: 1 }, undefined).context, withMixin.context, "children inherit it");
  });
});

describe("withLogContext and logContextMixin", () => {
  it("scopes nest, survive awaits and timers, and end with their function", async () => {
    const shape = root({ mixin: logContextMixin });
    assert.equal(logContext(), undefined);
    await withLogContext({ reqId: "r-1", user: "bob" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.deepEqual(fieldsOf(shape, ["a"]), { reqId: "r-1", user: "bob" });
      await withLogContext({ user: "eve", step: 2 }, async () => {
        await Promise.resolve();
        assert.deepEqual(fieldsOf(shape, ["b"]), { reqId: "r-1", user: "eve", step: 2 });
      });
      assert.deepEqual(logContext(), { reqId: "r-1", user: "bob" });
    });
    assert.equal(logContext(), undefined);
    assert.equal(fieldsOf(shape, ["c"]), undefined);
  });

  it("returns what its function returns", () => {
    assert.equal(
      withLogContext({ a: 1 }, () => 42),
      42,
    );
  });
});

describe("traceContext", () => {
  it("with no span active adds nothing", () => {
    // The API is installed (a devDependency) but no context manager or provider is registered
    // in this process: no span is active.
    const shape = root({ traceContext: true });
    assert.equal(fieldsOf(shape, ["m"]), undefined);
    assert.deepEqual(fieldsOf(shape, ["m", { a: 1 }]), { a: 1 });
  });
});
