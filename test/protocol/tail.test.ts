import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../../src/errors.js";
import { MessageType } from "../../src/protocol/constants.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import {
  decodeTailQuery,
  decodeTailRecords,
  decodeTailSkipped,
  encodeTailQuery,
  encodeTailRecords,
  encodeTailSkipped,
} from "../../src/protocol/tail.js";
import { batchFrame, rawFrame } from "../helpers/frames.js";
import { QUERY } from "../helpers/raw-tail.js";

function queryFrame(value: unknown): Buffer {
  return rawFrame(MessageType.TAIL_QUERY, Buffer.from(JSON.stringify(value)));
}

describe("tail frames", () => {
  it("round-trips a query and refuses every field it does not accept, by name", () => {
    const query = { ...QUERY, level: 3, workers: ["api-*"], where: [["reqId", "r-1"]] as [string, string][] };
    assert.deepEqual(decodeTailQuery(encodeTailQuery(query)), query);
    for (const [change, says] of [
      [{ level: 6 }, /level must be a whole number from 0 to 5/],
      [{ last: -1 }, /last must be/],
      [{ sinceMs: 1.5 }, /sinceMs must be/],
      [{ workers: "api-*" }, /workers must be an array/],
      [{ where: [["reqId"]] }, /where pairs must be/],
      [{ where: [["", "x"]] }, /where pairs must be/],
      [{ follow: "yes" }, /follow must be a boolean/],
      [{ extra: 1 }, /unknown field "extra"/],
    ] as const) {
      assert.throws(
        () => decodeTailQuery(queryFrame({ ...QUERY, ...change })),
        (error: unknown) => {
          assert.ok(error instanceof ProtocolError);
          assert.match(error.message, says);
          return true;
        },
      );
    }
    const { follow: _, ...missing } = QUERY;
    assert.throws(() => decodeTailQuery(queryFrame(missing)), /follow must be a boolean/);
    assert.throws(
      () => decodeTailQuery(rawFrame(MessageType.TAIL_QUERY, Buffer.from("{"))),
      /not valid JSON/,
    );
    assert.throws(() => decodeTailQuery(queryFrame([1])), /must be a JSON object/);
  });

  it("carries a subset of a batch's records and refuses a frame that runs short", () => {
    const source = { name: "w", nameBytes: Buffer.from("w"), pid: 7 };
    const records = [0, 1, 2, 3].map((i) => ({ level: i % 3, message: `m${i}` }));
    const { batch } = decodeBatch(batchFrame(1, records), source);
    const frame = encodeTailRecords(batch, [0, 2, 3]);
    const back = decodeTailRecords(frame);
    assert.equal(back.source.name, "w");
    assert.equal(back.source.pid, 7);
    assert.deepEqual(
      [0, 1, 2].map((i) => back.message(i)),
      ["m0", "m2", "m3"],
    );
    for (const cut of [6, 12, frame.length - 1]) {
      assert.throws(() => decodeTailRecords(frame.subarray(0, cut)), ProtocolError, `cut at ${cut}`);
    }
    assert.equal(decodeTailSkipped(encodeTailSkipped(1204)), 1204);
    assert.throws(
      () => decodeTailSkipped(rawFrame(MessageType.TAIL_SKIPPED, Buffer.alloc(4))),
      ProtocolError,
    );
  });
});
