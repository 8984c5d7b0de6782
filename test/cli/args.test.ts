import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/processes.js";
import { ROOT, runCli } from "./cli-helpers.js";

describe("logmux command line: help, version, bad flags, no master", () => {
  it("--help, <command> --help and --version", async (t) => {
    const help = await runCli(t, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: logmux <command>/);
    for (const command of ["demo", "master", "status"])
      assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
    for (const [command, flag] of [
      ["demo", "--workers"],
      ["master", "--telegram"],
      ["status", "--timeout"],
    ] as const) {
      const result = await runCli(t, [command, "--help"]);
      assert.equal(result.code, 0, command);
      assert.match(result.stdout, new RegExp(`^Usage: logmux ${command}`), command);
      assert.ok(result.stdout.includes(flag), `${command} --help mentions ${flag}`);
    }
    const version = await runCli(t, ["--version"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
    assert.equal(version.code, 0);
  });

  it("exits 2 and names the flag for every kind of bad command line", async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "never.log");
    const badKey = join(dir, "bad-key.json");
    writeFileSync(badKey, JSON.stringify({ file, lvl: "INFO" }));
    const badType = join(dir, "bad-type.json");
    writeFileSync(badType, JSON.stringify({ file, level: 3 }));
    const secretType = join(dir, "secret-type.json");
    writeFileSync(
      secretType,
      JSON.stringify({ file, slack: ["https://hooks.slack.com/services/T/B/ARRAYSECRET"] }),
    );
    const cases: { args: string[]; expect: RegExp[]; hidden?: string }[] = [
      { args: ["frobnicate"], expect: [/unknown command "frobnicate"/] },
      { args: ["master", "--bogus"], expect: [/--bogus/, /Run 'logmux master --help'/] },
      { args: ["master", "--file"], expect: [/--file/] },
      { args: ["master", "stray", "--file", file], expect: [/stray/] },
      { args: ["master"], expect: [/nothing to write to: give --file/] },
      {
        args: ["master", "--file", file, "--path", "relative.sock"],
        expect: [/--path: expected "ipc:\/\/"/],
      },
      {
        args: ["master", "--file", file, "--level", "LOUD"],
        expect: [/--level: expected .*TRACE, DEBUG, INFO, WARNING \(WARN\), ERROR, CRITICAL/, /LOUD/],
      },
      { args: ["master", "--file", file, "--format", "%(asctime)s"], expect: [/--format: .*%\(message\)s/] },
      {
        args: ["master", "--file", file, "--alert-level", "ERROR"],
        expect: [/--alert-level applies to --discord/],
      },
      {
        args: ["master", "--file", file, "--discord", "https://example.com/hooks/DISCORDSECRET"],
        expect: [/--discord: expected https:\/\/discord\.com\/api\/webhooks/],
        hidden: "DISCORDSECRET",
      },
      {
        args: ["master", "--file", file, "--telegram", "1234:TGSECRET"],
        expect: [/--telegram: expected BOT_TOKEN:CHAT_ID/],
        hidden: "TGSECRET",
      },
      {
        args: ["master", "--file", file, "--telegram", "notatoken:TGSECRET2:42"],
        expect: [/--telegram: expected a bot token/],
        hidden: "TGSECRET2",
      },
      {
        args: [
          "master",
          "--slack",
          "https://hooks.slack.com/services/T0/B0/SLACKSECRET",
          "--alert-level",
          "SHOUT",
        ],
        expect: [/--alert-level: expected/],
        hidden: "SLACKSECRET",
      },
      {
        args: ["master", "--config", join(dir, "missing.json")],
        expect: [/--config: cannot read .*missing\.json/],
      },
      {
        args: ["master", "--config", badKey],
        expect: [/--config: unknown key "lvl"/, /accepted keys: path, file/],
      },
      {
        args: ["master", "--config", badType],
        expect: [/"level" in .*bad-type\.json must be a string, got 3/],
      },
      {
        args: ["master", "--config", secretType],
        expect: [/"slack" .* must be a string, got object/],
        hidden: "ARRAYSECRET",
      },
      {
        args: ["demo", "--workers", "0"],
        expect: [/--workers expects a whole number from 1 to 64, got "0"/],
      },
      { args: ["demo", "--duration", "soon"], expect: [/--duration expects a number/] },
      { args: ["demo", "--rate=-1"], expect: [/--rate expects a number greater than 0/] },
      {
        args: ["demo", "--burst=-1"],
        expect: [/--burst expects 0 \(no burst\) or seconds up to 3600, got "-1"/],
      },
      { args: ["status", "--timeout", "1.5"], expect: [/--timeout expects a whole number/] },
      { args: ["status", "--path", "/no/scheme.sock"], expect: [/--path: .*ipc:\/\//] },
    ];
    for (const { args, expect, hidden } of cases) {
      const result = await runCli(t, args);
      const label = `logmux ${args.join(" ")}`;
      assert.equal(result.code, 2, `${label}: exit ${result.code}, stderr: ${result.stderr}`);
      for (const pattern of expect) assert.match(result.stderr, pattern, label);
      if (hidden !== undefined) assert.ok(!result.stderr.includes(hidden), `${label} printed its secret`);
    }
    // Everything is checked before the file would be created.
    assert.equal(existsSync(file), false);
  });

  it("status exits 1 with a clear message when no master answers", async (t) => {
    const dir = tempDir(t);
    const missing = await runCli(t, ["status", "--path", `ipc://${join(dir, "none.sock")}`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^logmux status: no master is listening at .*none\.sock \(no socket there\)$/m,
    );
    assert.equal(missing.stdout, "");

    // Something accepts but never answers: the --timeout applies.
    const mute = createServer(() => {});
    const socketPath = join(dir, "mute.sock");
    await new Promise<void>((done) => mute.listen(socketPath, done));
    t.after(() => mute.close());
    const silent = await runCli(t, ["status", "--path", `ipc://${socketPath}`, "--timeout", "300"]);
    assert.equal(silent.code, 1);
    assert.match(silent.stderr, /no status from the master at .*mute\.sock within 300 ms/);
  });
});
