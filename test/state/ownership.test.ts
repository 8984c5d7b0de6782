// Other users' files: a master (root included) must not listen in, replay from or journal into a
// directory or file another local user owns or can write to. Root is the case that matters: root
// passes every permission check, so only logmux's own checks keep it from trusting such files.
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  AddressInUseError,
  LEVEL_NAMES,
  LoggerConfig,
  type LoggerConfigOptions,
  LogLevel,
  MasterLogger,
  UnsafePathError,
} from "../../src/index.js";
import { writeU64 } from "../../src/protocol/u64.js";
import { journalPath, spoolDir, stateDir } from "../../src/state/dirs.js";
import { CollectHandler } from "../helpers/collect.js";
import {
  exited,
  forkFixture,
  forkFixtureAs,
  NOBODY,
  stderrOf,
  tempDir,
  waitFor,
} from "../helpers/processes.js";

const asRoot = { skip: process.getuid?.() !== 0 && "needs root: files of another user are made with chown" };

interface Rig {
  options: LoggerConfigOptions;
  socketPath: string;
  state: string;
  spools: string;
}

function rigIn(dir: string): Rig {
  const socketPath = join(dir, "log.sock");
  return {
    options: { path: `ipc://${socketPath}`, flushIntervalMs: 50 },
    socketPath,
    state: stateDir(socketPath),
    spools: spoolDir(socketPath),
  };
}

/** Runs a real worker with no master up: it ends by exit and hands its records to a spool. */
async function spoolFromRealWorker(t: TestContext, rig: Rig, name: string, count: number): Promise<string> {
  const before = new Set(existsSync(rig.spools) ? readdirSync(rig.spools) : []);
  const child = forkFixture(t, "worker.js", {
    config: rig.options,
    name,
    count,
    levels: [LogLevel.CRITICAL],
    end: "exit",
  });
  assert.deepEqual(await exited(child), { code: 0, signal: null }, stderrOf(child));
  const added = readdirSync(rig.spools).filter((file) => !before.has(file));
  assert.equal(added.length, 1, `expected one new spool, found ${added.join(", ")}`);
  assert.match(added[0]!, /\.closed\.spool$/);
  return join(rig.spools, added[0]!);
}

/** Starts a master, lets it do what it does at start, and shuts it down: every record it took is in `collect`. */
async function runMaster(t: TestContext, rig: Rig, collect: CollectHandler, whileUp?: () => Promise<void>) {
  const master = new MasterLogger(new LoggerConfig(rig.options), [collect]);
  t.after(() => master.shutdown());
  await master.ready();
  await whileUp?.();
  await master.shutdown();
}

function workerRecords(collect: CollectHandler, name: string): string[] {
  return collect.records.filter((r) => r.name === name).map((r) => `${LEVEL_NAMES[r.level]} ${r.message}`);
}

function warnings(collect: CollectHandler): string[] {
  return collect.records
    .filter((r) => r.name === "MASTER" && r.level === LogLevel.WARNING)
    .map((r) => r.message);
}

describe("a master and the socket directory of another user", () => {
  for (const { what, says, make } of [
    {
      what: "a non-sticky directory that belongs to another user",
      says: `belongs to uid ${NOBODY.uid}, not to this user (uid 0)`,
      make: (dir: string) => {
        chmodSync(dir, 0o700);
        chownSync(dir, NOBODY.uid, NOBODY.gid);
      },
    },
    {
      what: "a sticky directory that belongs to another user (not root)",
      says: `is a shared sticky directory that belongs to uid ${NOBODY.uid}, not to this user (uid 0) or root`,
      make: (dir: string) => {
        chownSync(dir, NOBODY.uid, NOBODY.gid);
        chmodSync(dir, 0o1777);
      },
    },
    {
      what: "a world-writable directory that is not sticky",
      says: "is writable by other users (mode 0777) and not sticky",
      make: (dir: string) => chmodSync(dir, 0o777),
    },
    {
      what: "a group-writable directory that is not sticky",
      says: "is writable by other users (mode 0770) and not sticky",
      make: (dir: string) => chmodSync(dir, 0o770),
    },
  ]) {
    it(`root refuses ${what} with LOGMUX_UNSAFE_PATH`, asRoot, async (t) => {
      const socketDir = join(tempDir(t), "run");
      mkdirSync(socketDir);
      make(socketDir);
      const rig = rigIn(socketDir);
      const master = new MasterLogger(new LoggerConfig(rig.options), []);
      t.after(() => master.shutdown());
      await assert.rejects(master.ready(), (error: unknown) => {
        assert.ok(error instanceof UnsafePathError, String(error));
        assert.equal(error.code, "LOGMUX_UNSAFE_PATH");
        assert.equal(error.path, socketDir);
        assert.equal(error.message, `socket directory ${socketDir} ${says}`);
        return true;
      });
      assert.deepEqual(readdirSync(socketDir), [], "nothing made in it");
    });
  }

  it("root refuses a socket file that another user left at its path", asRoot, async (t) => {
    const rig = rigIn(tempDir(t));
    // A stale socket of nobody's: bound elsewhere, linked into place, then closed (which unlinks
    // only the name it was bound at).
    const elsewhere = join(rig.socketPath, "..", "elsewhere.sock");
    const server = createServer();
    await new Promise<void>((done) => server.listen(elsewhere, () => done()));
    linkSync(elsewhere, rig.socketPath);
    await new Promise<void>((done) => server.close(() => done()));
    lchownSync(rig.socketPath, NOBODY.uid, NOBODY.gid);
    const master = new MasterLogger(new LoggerConfig(rig.options), []);
    t.after(() => master.shutdown());
    await assert.rejects(master.ready(), (error: unknown) => {
      assert.ok(error instanceof AddressInUseError, String(error));
      assert.equal(error.message, `${rig.socketPath} belongs to uid ${NOBODY.uid}, not to this user (uid 0)`);
      return true;
    });
    const left = lstatSync(rig.socketPath);
    assert.ok(left.isSocket() && left.uid === NOBODY.uid, "their socket file is left alone");
  });

  it("root still listens in a sticky shared directory that root owns, like /tmp", asRoot, async (t) => {
    const shared = tempDir(t);
    chmodSync(shared, 0o1777);
    const rig = rigIn(shared);
    await runMaster(t, rig, new CollectHandler(), async () => {
      assert.ok(lstatSync(rig.socketPath).isSocket());
    });
  });
});

describe("spools and journals that are not ours alone", () => {
  it(
    "a spool another user left beside a socket in a shared sticky directory is refused, never replayed",
    asRoot,
    async (t) => {
      // /tmp's situation: root-owned, sticky, world-writable. Any user may create <socket>.d there.
      const shared = tempDir(t);
      chmodSync(shared, 0o1777);
      const rig = rigIn(shared);
      // A real worker, run as nobody, spools a CRITICAL record with no master up: exactly what a
      // local user can do to the socket path of root's master.
      const forger = forkFixtureAs(
        t,
        "worker.js",
        { config: rig.options, name: "forger", count: 3, levels: [LogLevel.CRITICAL], end: "exit" },
        NOBODY,
      );
      if (forger === undefined) return;
      assert.deepEqual(await exited(forger), { code: 0, signal: null }, stderrOf(forger));
      const [spoolName, ...others] = readdirSync(rig.spools);
      assert.deepEqual(others, []);
      const spool = join(rig.spools, spoolName!);
      assert.equal(statSync(rig.state).uid, NOBODY.uid);
      assert.equal(statSync(spool).uid, NOBODY.uid);
      const bytes = readFileSync(spool);

      const collect = new CollectHandler();
      await runMaster(t, rig, collect);
      assert.deepEqual(workerRecords(collect, "forger"), []);
      assert.deepEqual(
        collect.records.filter((r) => r.level === LogLevel.CRITICAL).map((r) => r.message),
        [],
      );
      assert.ok(
        warnings(collect).some((m) =>
          m.startsWith(
            `Refused state directory ${rig.state}: it belongs to uid ${NOBODY.uid}, not to this user (uid 0). No spool in it is replayed`,
          ),
        ),
        warnings(collect).join("\n"),
      );
      assert.deepEqual(readFileSync(spool), bytes, "the spool is left as it was");
      assert.equal(existsSync(journalPath(rig.socketPath)), false, "no journal written into their directory");
    },
  );

  for (const { what, says, tamper } of [
    {
      what: "belongs to another user",
      says: `belongs to uid ${NOBODY.uid}, not to this user (uid 0)`,
      tamper: (spool: string) => chownSync(spool, NOBODY.uid, NOBODY.gid),
    },
    {
      what: "is group-writable",
      says: "is writable by other users (mode 0620)",
      tamper: (spool: string) => chmodSync(spool, 0o620),
    },
    {
      what: "is world-writable",
      says: "is writable by other users (mode 0602)",
      tamper: (spool: string) => chmodSync(spool, 0o602),
    },
    {
      what: "is a symbolic link",
      says: "is a symbolic link",
      tamper: (spool: string) => {
        // To a spool file elsewhere: a link another user planted could point at anything.
        const elsewhere = join(spool, "..", "..", "..", "elsewhere");
        renameSync(spool, elsewhere);
        symlinkSync(elsewhere, spool);
      },
    },
  ]) {
    it(
      `a spool file that ${what} is refused with a WARNING naming it, left in place, and not replayed`,
      asRoot,
      async (t) => {
        const rig = rigIn(tempDir(t));
        const tampered = await spoolFromRealWorker(t, rig, "tampered", 3);
        tamper(tampered);
        // A sound spool beside it shows that recovery did run, and refused only the one.
        const sound = await spoolFromRealWorker(t, rig, "sound", 3);
        const before = lstatSync(tampered);

        const collect = new CollectHandler();
        await runMaster(t, rig, collect, () =>
          collect.until(
            () =>
              collect.masterMessages().some((m) => m.startsWith("Delivered 3 records that Worker sound ")),
            10_000,
            "the sound spool replayed",
          ),
        );
        assert.deepEqual(workerRecords(collect, "tampered"), []);
        assert.ok(
          warnings(collect).includes(`Refused spool ${tampered}: it ${says}. Left in place, not replayed`),
          warnings(collect).join("\n"),
        );
        const after = lstatSync(tampered);
        const identity = (stats: typeof after) => ({ ino: stats.ino, size: stats.size, mode: stats.mode });
        assert.deepEqual(identity(after), identity(before), "left in place as it was");
        assert.equal(
          existsSync(sound),
          false,
          `the sound spool, delivered, is removed (left: ${readdirSync(rig.spools).join(", ")})`,
        );
      },
    );
  }

  const foreign = `belongs to uid ${NOBODY.uid}, not to this user (uid 0)`;
  for (const { label, dir, says, tamper } of [
    {
      label: "state directory",
      dir: (r: Rig) => r.state,
      says: foreign,
      tamper: (p: string) => chownSync(p, NOBODY.uid, NOBODY.gid),
    },
    {
      label: "state directory",
      dir: (r: Rig) => r.state,
      says: "is writable by other users (mode 0770)",
      tamper: (p: string) => chmodSync(p, 0o770),
    },
    {
      label: "state directory",
      dir: (r: Rig) => r.state,
      says: "is writable by other users (mode 0777)",
      tamper: (p: string) => chmodSync(p, 0o777),
    },
    {
      label: "spool directory",
      dir: (r: Rig) => r.spools,
      says: foreign,
      tamper: (p: string) => chownSync(p, NOBODY.uid, NOBODY.gid),
    },
    {
      label: "spool directory",
      dir: (r: Rig) => r.spools,
      says: "is writable by other users (mode 0777)",
      tamper: (p: string) => chmodSync(p, 0o777),
    },
  ]) {
    it(
      `a ${label} that ${says} is refused with a WARNING naming it; nothing in it is replayed or written`,
      asRoot,
      async (t) => {
        const rig = rigIn(tempDir(t));
        const spool = await spoolFromRealWorker(t, rig, "inside", 3);
        tamper(dir(rig));
        const bytes = readFileSync(spool);

        const collect = new CollectHandler();
        await runMaster(t, rig, collect);
        assert.deepEqual(workerRecords(collect, "inside"), []);
        assert.ok(
          warnings(collect).some((m) =>
            m.startsWith(`Refused ${label} ${dir(rig)}: it ${says}. No spool in it is replayed`),
          ),
          warnings(collect).join("\n"),
        );
        assert.deepEqual(readFileSync(spool), bytes, "the spool is left as it was");
        assert.equal(existsSync(journalPath(rig.socketPath)), false, "no journal written there");
      },
    );
  }

  for (const { what, tamper } of [
    { what: "belongs to another user", tamper: (p: string) => chownSync(p, NOBODY.uid, NOBODY.gid) },
    { what: "is world-writable", tamper: (p: string) => chmodSync(p, 0o606) },
  ]) {
    it(`a commit journal that ${what} is neither trusted nor written`, asRoot, async (t) => {
      const rig = rigIn(tempDir(t));
      const count = 3;
      const spool = await spoolFromRealWorker(t, rig, "journalled", count);
      // A journal claiming this worker's batches were all committed long ago: trusted, it would
      // make the master skip them as duplicates.
      const entry = Buffer.alloc(16);
      entry.write(/^([0-9a-f]{16})\./.exec(spool.slice(rig.spools.length + 1))![1]!, 0, 8, "hex");
      writeU64(entry, 2 ** 40, 8);
      const journal = journalPath(rig.socketPath);
      writeFileSync(journal, entry, { mode: 0o600 });
      tamper(journal);
      const before = { bytes: readFileSync(journal), uid: statSync(journal).uid };

      const collect = new CollectHandler();
      await runMaster(t, rig, collect, () => waitFor(() => !existsSync(spool), 10_000, "the spool replayed"));
      assert.equal(workerRecords(collect, "journalled").length, count, "every spooled record delivered");
      assert.ok(
        warnings(collect).some((m) => m.startsWith(`Refused commit journal ${journal}: it `)),
        warnings(collect).join("\n"),
      );
      assert.deepEqual({ bytes: readFileSync(journal), uid: statSync(journal).uid }, before, "not written");
    });
  }

  for (const { what, tamper } of [
    { what: "belongs to another user", tamper: (p: string) => chownSync(p, NOBODY.uid, NOBODY.gid) },
    { what: "is world-writable", tamper: (p: string) => chmodSync(p, 0o777) },
  ]) {
    it(
      `a worker refuses to spool into a state directory that ${what}, and says so on stderr`,
      asRoot,
      async (t) => {
        const rig = rigIn(tempDir(t));
        mkdirSync(rig.state, { mode: 0o700 });
        tamper(rig.state);
        const child = forkFixture(t, "worker.js", {
          config: rig.options,
          name: "careful",
          count: 3,
          end: "exit",
        });
        await exited(child);
        const stderr = stderrOf(child);
        assert.ok(stderr.includes(`cannot write the spool: state directory ${rig.state} `), stderr);
        assert.deepEqual(readdirSync(rig.state), [], "nothing written into it");
      },
    );
  }
});
