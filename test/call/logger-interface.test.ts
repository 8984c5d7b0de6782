// The parts of pino's logger interface that fastify relies on: "silent", a child's own level,
// child options as fastify passes them, pino's redact object form, and `serializers`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  InvalidConfigError,
  LoggerConfig,
  type LoggerOptions,
  LogLevel,
  type LogRecord,
  MasterLogger,
  stdSerializers,
  WorkerLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { tempDir } from "../helpers/processes.js";

/** A real master and a WorkerLogger connected to it over a real socket, in this process. */
async function rig(t: TestContext, options?: LoggerOptions) {
  const config = new LoggerConfig({
    path: `ipc://${join(tempDir(t), "log.sock")}`,
    flushIntervalMs: 20,
    baseLevel: LogLevel.TRACE,
  });
  const collect = new CollectHandler();
  const master = new MasterLogger(config, [collect]);
  t.after(() => master.shutdown());
  await master.ready();
  const log = new WorkerLogger(config, "iface", options);
  t.after(() => log.shutdown());
  log.level = "info";
  const records = async (): Promise<LogRecord[]> => {
    await log.shutdown();
    return collect.fromWorkers();
  };
  return { log, records };
}

const messages = (records: readonly LogRecord[]): string[] => records.map((r) => r.message);

describe("the fastify-facing logger interface", () => {
  it('"silent" as a level and as a method logs nothing; a child\'s level is its own', async (t) => {
    const { log, records } = await rig(t);
    log.silent("never, whatever the level");
    log.level = "silent";
    assert.equal(log.level, "silent");
    assert.equal(log.isLevelEnabled("critical"), false);
    log.fatal("not while silent");
    log.level = "info";
    log.debug("parent debug is off");
    const verbose = log.child({ route: "/v" }, { level: "debug" });
    assert.equal(verbose.level, "debug");
    assert.equal(log.level, "info", "the parent keeps its level");
    verbose.debug("child debug is on");
    verbose.child({ step: 1 }).debug("grandchild inherits debug");
    const quiet = log.child({ route: "/health" }, { level: "silent" });
    assert.equal(quiet.level, "silent");
    quiet.error("silent child");
    log.child({}, { level: LogLevel.ERROR }).warn("below the child's number level");
    log.info("parent info");
    const got = messages(await records());
    assert.deepEqual(got, ["child debug is on", "grandchild inherits debug", "parent info"]);
  });

  it("takes child options as fastify passes them and rejects what it cannot honour", async (t) => {
    const { log, records } = await rig(t);
    const child = log.child({ reqId: "r-1" }, {
      logger: undefined,
      genReqId: undefined,
      serializers: { user: () => "u" },
    } as never);
    child.info("with fastify's options", { user: { id: 1 } });
    assert.throws(
      () => log.child({}, { msgPrefix: "x" } as never),
      (e: unknown) =>
        e instanceof InvalidConfigError && /child options\.msgPrefix.*unknown option/.test(e.message),
    );
    assert.throws(
      () => log.child({}, { level: "loud" }),
      (e: unknown) => e instanceof InvalidConfigError && /child options\.level.*"silent"/.test(e.message),
    );
    assert.throws(
      () => log.child({}, { redact: { paths: ["a"], censor: "***" } } as never),
      (e: unknown) =>
        e instanceof InvalidConfigError && /child options\.redact\.censor.*not supported/.test(e.message),
    );
    log.child({}, { redact: { paths: ["password"] } }).info("pino's redact form", { password: "p", keep: 1 });
    const got = await records();
    assert.deepEqual(
      { ...got.find((r) => r.message === "with fastify's options")?.fields },
      { reqId: "r-1", user: "u" },
    );
    assert.deepEqual(
      { ...got.find((r) => r.message === "pino's redact form")?.fields },
      {
        password: "[Redacted]",
        keep: 1,
      },
    );
  });

  it("exposes its serializers, err included, for fastify to merge over its own", async (t) => {
    const user = (): string => "u";
    const { log } = await rig(t, { serializers: { user } });
    assert.equal(log.serializers.err, stdSerializers.err);
    assert.equal(log.serializers.user, user);
    const order = (): string => "o";
    const own = (): string => "mine";
    const child = log.child({}, { serializers: { order, err: own } });
    assert.deepEqual(Object.keys(child.serializers).sort(), ["err", "order", "user"]);
    assert.equal(child.serializers.err, own, "a serializer of its own replaces the default err");
  });
});
