// Record fields as RFC 5424 SD-PARAMs: names, flattening, escaping, the size budget, and what a
// real rsyslogd makes of them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InvalidConfigError } from "../../../src/errors.js";
import { SyslogLogHandler, type SyslogLogHandlerOptions } from "../../../src/handlers/syslog/handler.js";
import {
  fieldParams,
  isPrivateSdId,
  jsonText,
  paramName,
} from "../../../src/handlers/syslog/structured-data.js";
import { LoggerConfig, LogLevel, MasterLogger } from "../../../src/index.js";
import type { LogRecord } from "../../../src/record.js";
import { exited, forkFixture, nextMessage, tempDir } from "../../helpers/processes.js";
import { startRsyslog, waitFor } from "./helpers.js";

const BOM = "\ufeff";
const utf8 = new TextDecoder("utf-8", { fatal: true });

const BASE: LogRecord = {
  timestampNs: 1_767_323_045_000_000_000n,
  level: LogLevel.INFO,
  name: "w",
  message: "hello",
  pid: 4242,
};

/** The STRUCTURED-DATA and MSG of one formatted record (header fields contain no space). */
function sdAndMsg(
  handler: SyslogLogHandler,
  record: LogRecord,
): { head: string; sd: string; msg: string; bytes: number } {
  const bytes = handler.formatMessage(record);
  const text = utf8.decode(bytes);
  const parts = text.split(" ");
  const afterHeader = parts.slice(6).join(" ");
  const at = afterHeader.indexOf(` ${BOM}`);
  return {
    head: `${parts.slice(0, 6).join(" ")} `,
    sd: afterHeader.slice(0, at),
    msg: afterHeader.slice(at + 2),
    bytes: bytes.length,
  };
}

describe("fields as SD-PARAMs (formatter)", () => {
  test("PARAM-NAME: other characters become _, one per character, cut to 32; empty is _", () => {
    assert.equal(paramName("user.id"), "user.id");
    assert.equal(paramName("a[b@c:d"), "a[b@c:d");
    assert.equal(paramName('bad key=]"é'), "bad_key____");
    assert.equal(paramName("tab\there\nnl"), "tab_here_nl");
    assert.equal(paramName("🚀x"), "_x");
    assert.equal(paramName(""), "_");
    assert.equal(paramName("x".repeat(40)), "x".repeat(32));
    assert.equal(paramName(`${"é".repeat(31)}abc`), `${"_".repeat(31)}a`);
  });

  test("values: text, flattened objects, JSON arrays, errors without stack, escaping", () => {
    const cause = new Error("inner");
    const err = Object.assign(new TypeError("outer", { cause }), { code: "E1" });
    const params = fieldParams({
      s: 'q"b\\s]e[',
      n: 1.5,
      i: -3,
      nan: Number.NaN,
      big: -12345678901234567890n,
      t: true,
      nul: null,
      gone: undefined,
      d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      bytes: new Uint8Array([1, 2, 3]),
      req: { method: "GET", headers: { "content-type": "x" }, empty: {} },
      list: [1, "a]", { k: 2n }, [new Date(0)], Number.POSITIVE_INFINITY, undefined, new Uint8Array([255])],
      err,
      "": "nameless",
    });
    assert.deepEqual(params, [
      ' s="q\\"b\\\\s\\]e["',
      ' n="1.5"',
      ' i="-3"',
      ' nan="NaN"',
      ' big="-12345678901234567890"',
      ' t="true"',
      ' nul="null"',
      ' d="2026-01-02T03:04:05.006Z"',
      ' bytes="AQID"',
      ' req.method="GET"',
      ' req.headers.content-type="x"',
      ' req.empty="{}"',
      ' list="[1,\\"a\\]\\",{\\"k\\":2},[\\"1970-01-01T00:00:00.000Z\\"\\],\\"Infinity\\",null,\\"/w==\\"\\]"',
      ' err.type="TypeError"',
      ' err.message="outer"',
      ' err.code="E1"',
      ' err.cause.type="Error"',
      ' err.cause.message="inner"',
      ' _="nameless"',
    ]);
    assert.equal(
      jsonText([{ e: Object.assign(new RangeError("r"), { x: 1 }) }]),
      '[{"e":{"type":"RangeError","message":"r","x":1}}]',
    );
  });

  test("one SD-ELEMENT after the worker's; none without fields", () => {
    const handler = new SyslogLogHandler({ hostname: "h", appName: "a" });
    const { sd, msg } = sdAndMsg(handler, { ...BASE, fields: { a: 1, "b c": "x]" } });
    assert.deepEqual(
      { sd, msg },
      { sd: '[logmux@32473 name="w"][fields@32473 a="1" b_c="x\\]"]', msg: "hello" },
    );
    assert.equal(sdAndMsg(handler, BASE).sd, '[logmux@32473 name="w"]');
    assert.equal(sdAndMsg(handler, { ...BASE, fields: {} }).sd, '[logmux@32473 name="w"]');
    assert.equal(sdAndMsg(handler, { ...BASE, fields: { gone: undefined } }).sd, '[logmux@32473 name="w"]');
    const own = new SyslogLogHandler({ structuredDataId: "app@53421", enterpriseId: 53421 });
    assert.equal(sdAndMsg(own, { ...BASE, fields: { a: 1 } }).sd, '[logmux@53421 name="w"][app@53421 a="1"]');
    // The default follows enterpriseId.
    const pen = new SyslogLogHandler({ enterpriseId: 53421 });
    assert.equal(
      sdAndMsg(pen, { ...BASE, fields: { a: 1 } }).sd,
      '[logmux@53421 name="w"][fields@53421 a="1"]',
    );
  });

  test("structuredDataId: invalid SD-IDs are refused at construction, naming the field", () => {
    for (const id of ["fields@32473", "a@1", `${"x".repeat(26)}@12345`]) assert.ok(isPrivateSdId(id), id);
    const bad: unknown[] = [
      "",
      "fields",
      "timeQuality",
      "fields@",
      "@32473",
      "a@b@1",
      "fields@32x",
      "fie lds@1",
      "fi=elds@1",
      "fi]elds@1",
      'fi"elds@1',
      "fiélds@1",
      `${"x".repeat(27)}@12345`,
      42,
    ];
    for (const id of bad) {
      assert.equal(isPrivateSdId(id), false, String(id));
      assert.throws(
        () => new SyslogLogHandler({ structuredDataId: id as string }),
        (error: unknown) =>
          error instanceof InvalidConfigError &&
          error.field === "structuredDataId" &&
          /name@<enterprise number>/.test(error.message) &&
          /1 to 32 printable US-ASCII/.test(error.message),
        String(id),
      );
    }
    assert.throws(
      () => new SyslogLogHandler({ structuredDataId: "logmux@32473" } as SyslogLogHandlerOptions),
      (error: unknown) =>
        error instanceof InvalidConfigError &&
        error.field === "structuredDataId" &&
        /carries the worker name/.test(error.message),
    );
  });

  test("within maxMessageBytes: params are left out whole and counted, MSG keeps at least half", () => {
    const handler = new SyslogLogHandler({
      transport: "udp",
      maxMessageBytes: 480,
      hostname: "h",
      appName: "a",
    });
    // Short MSG: the fields may take the rest of the room.
    const fields: Record<string, string> = {};
    for (let i = 0; i < 40; i++) fields[`k${String(i).padStart(2, "0")}`] = "v".repeat(10);
    const short = sdAndMsg(handler, { ...BASE, fields });
    assert.ok(short.bytes <= 480, `${short.bytes} bytes`);
    assert.equal(short.msg, "hello");
    const kept = short.sd.match(/ k\d\d="v{10}"/g)?.length ?? 0;
    const dropped = Number(/fieldsDropped="(\d+)"/.exec(short.sd)?.[1]);
    assert.equal(kept + dropped, 40);
    assert.ok(kept >= 18 && dropped > 0, `kept ${kept}, dropped ${dropped}`);
    // The kept ones are the first ones, in order.
    assert.ok(short.sd.includes(`[fields@32473 k00="${"v".repeat(10)}" k01=`), short.sd);
    assert.ok(
      short.sd.startsWith(`[logmux@32473 name="w" fieldsDropped="${dropped}"][fields@32473 `),
      short.sd,
    );
    assert.equal(handler.stats.truncated, 1);

    // Long MSG: the fields get at most half of the room after the header.
    const long = sdAndMsg(handler, { ...BASE, message: "m".repeat(1000), fields });
    assert.ok(long.bytes <= 480 && long.bytes >= 470, `${long.bytes} bytes`);
    // The room after the header and the worker's element, as the formatter counts it.
    const room = 480 - long.head.length - '[logmux@32473 name="w"'.length - "] ".length - 3;
    assert.ok(long.msg.length >= Math.floor(room / 2), `MSG ${long.msg.length} of ${room} bytes`);
    assert.ok(long.sd.includes("[fields@32473 k00="), long.sd);
    assert.equal(handler.stats.truncated, 2);

    // A param too big for the room is left out; a later one that fits is kept.
    const mixed = sdAndMsg(handler, { ...BASE, fields: { a: 1, huge: "x".repeat(1000), z: 2 } });
    assert.equal(mixed.sd, '[logmux@32473 name="w" fieldsDropped="1"][fields@32473 a="1" z="2"]');
    // Nothing fits: no fields element, only the count.
    const none = sdAndMsg(handler, { ...BASE, fields: { huge: "x".repeat(1000) } });
    assert.equal(none.sd, '[logmux@32473 name="w" fieldsDropped="1"]');
    // Fitting fields do not count as truncated.
    const before = handler.stats.truncated;
    sdAndMsg(handler, { ...BASE, fields: { a: 1 } });
    assert.equal(handler.stats.truncated, before);
  });
});

describe("fields from a real worker through a real master to a real rsyslogd", () => {
  test("rsyslogd parses the SD-ELEMENT exactly as sent, escapes included", async (t) => {
    const rsyslog = await startRsyslog(t, { structuredData: true });
    if (rsyslog === undefined) return;
    const dir = tempDir(t);
    const options = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50 };
    const handler = new SyslogLogHandler({
      port: rsyslog.port,
      hostname: "test-host.example",
      appName: "lmx-fields",
    });
    const master = new MasterLogger(new LoggerConfig(options), [handler]);
    t.after(() => master.shutdown());
    await master.ready();
    const child = forkFixture(t, "attributes-worker.js", { config: options, name: "fields" });
    await nextMessage(child, "done");
    await exited(child);
    await master.shutdown();
    assert.deepEqual(
      { sent: handler.stats.sent, truncated: handler.stats.truncated },
      { sent: 3, truncated: 0 },
    );

    const sd = rsyslog.structuredData!;
    const mine = (file: string) => rsyslog.lines(file).filter((line) => line.startsWith("lmx-fields "));
    const text = await waitFor("3 records in rsyslog's SD file", () =>
      mine(sd.text).length >= 3 ? mine(sd.text) : undefined,
    );
    const worker = '[logmux@32473 name="fields"]';
    // MSG of the record with an error carries its stack below the message (rsyslog shows the
    // newlines as #012): compared apart, since the frames name the fixture's paths.
    const [failedHead, ...failedStack] = text[1]!.split("#012");
    assert.match(failedStack[0]!, /^ {4}TypeError: bad input$/);
    assert.match(failedStack[1]!, /^ {8}at /);
    assert.ok(failedStack.includes("    code: E_BAD"), text[1]);
    assert.ok(failedStack.includes("    Caused by: Error: socket closed"), text[1]);
    text[1] = failedHead!;
    assert.deepEqual(text, [
      `lmx-fields ${worker}[fields@32473 reqId="r-1" userId="42" ratio="0.25" pow40="1099511627776" ` +
        'huge="18446744073709552000" nan="NaN" inf="-Infinity" small="-5" big="12345678901234567890" ' +
        'ok="true" off="false" nothing="null" empty="" when="2026-01-02T03:04:05.678Z" raw="AAEC/w==" ' +
        'tags="[\\"a\\",1,2.5,false,null\\]" req.method="GET" req.headers.host="example.com" req.none="{}" ' +
        'process.pid="clash" quote="say \\"hi\\" \\\\ [x\\] done\\]" bad_key____="v" ' +
        `k123456789012345678901234567890X="long key"] ${BOM}typed fields`,
      `lmx-fields ${worker}[fields@32473 err.type="TypeError" err.message="bad input" err.code="E_BAD" ` +
        'err.cause.type="Error" err.cause.message="socket closed" retry.type="RangeError" ' +
        `retry.message="too far" attempt="3"] ${BOM}failed`,
      `lmx-fields ${worker} ${BOM}plain`,
    ]);

    // mmpstrucdata's reading: the values unescaped back to what was logged.
    const json = await waitFor("3 records in rsyslog's JSON file", () =>
      mine(sd.json).length >= 3 ? mine(sd.json) : undefined,
    );
    const first = JSON.parse(json[0]!.slice("lmx-fields ".length)) as Record<string, Record<string, string>>;
    assert.deepEqual(first["logmux@32473"], { name: "fields" });
    assert.deepEqual(
      {
        quote: first["fields@32473"]?.quote,
        tags: first["fields@32473"]?.tags,
        "req.headers.host": first["fields@32473"]?.["req.headers.host"],
        count: Object.keys(first["fields@32473"] ?? {}).length,
      },
      {
        quote: 'say "hi" \\ [x] done]',
        tags: '["a",1,2.5,false,null]',
        "req.headers.host": "example.com",
        count: 23,
      },
    );
  });
});
