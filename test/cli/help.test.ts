// Every command's --help lists every flag its parser accepts, each with its default. The commands
// are the ones `logmux` dispatches to (its COMMANDS, as its unknown-command error lists them), and
// each command's flags are the parseArgs spec its module exports as <NAME>_FLAGS; so a new command,
// or a new flag of an existing one, is covered without touching this test.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OptionSpec } from "../../src/cli/args.js";
import { runCli } from "./cli-helpers.js";

/** One flag's entry in a help text: its line and the more-indented lines that continue it. */
interface Entry {
  short: string | undefined;
  text: string;
}

/** Flag lines: two spaces, an optional `-x, `, then `--name`. */
const FLAG_LINE = /^ {2}(?:-(\w), )?--([a-z][a-z0-9-]*)\b/;
/** The default clause every entry carries (docs/cli.md, "Help text"). */
const DEFAULT_CLAUSE = /\((?:default|no default): [^)]/;

function entries(help: string): Map<string, Entry> {
  const found = new Map<string, Entry>();
  let current: Entry | undefined;
  for (const line of help.split("\n")) {
    const flag = FLAG_LINE.exec(line);
    if (flag !== null) {
      assert.ok(!found.has(flag[2]!), `--${flag[2]} is listed twice`);
      current = { short: flag[1], text: line };
      found.set(flag[2]!, current);
    } else if (current !== undefined && /^ {4,}\S/.test(line)) {
      current.text += `\n${line}`;
    } else {
      current = undefined;
    }
  }
  return found;
}

async function commandNames(t: import("node:test").TestContext): Promise<string[]> {
  const { code, stderr } = await runCli(t, ["no-such-command"]);
  assert.equal(code, 2);
  const match = /expected one of (.+)\n/.exec(stderr);
  assert.ok(match, stderr);
  return match[1]!.split(", ");
}

describe("--help of every command", () => {
  it("the top-level help lists every command", async (t) => {
    const names = await commandNames(t);
    assert.ok(names.length >= 3, `${names}`);
    const { code, stdout } = await runCli(t, ["--help"]);
    assert.equal(code, 0);
    for (const name of names)
      assert.match(stdout, new RegExp(`^ {2}${name} +\\S`, "m"), `${name} in ${stdout}`);
  });

  it("lists each flag of the command's parser, with its default, and no flag it does not accept", async (t) => {
    for (const name of await commandNames(t)) {
      const module = (await import(`../../src/cli/${name}.js`)) as Record<string, unknown>;
      const specName = `${name.toUpperCase().replaceAll("-", "_")}_FLAGS`;
      const spec = module[specName] as OptionSpec | undefined;
      assert.ok(spec, `src/cli/${name}.ts must export ${specName}, the options it gives parseFlags`);
      const { code, stdout } = await runCli(t, [name, "--help"]);
      assert.equal(code, 0, `logmux ${name} --help`);
      const listed = entries(stdout);
      for (const [flag, option] of Object.entries(spec)) {
        const entry = listed.get(flag);
        assert.ok(entry, `logmux ${name} --help does not list --${flag}:\n${stdout}`);
        assert.match(
          entry.text,
          DEFAULT_CLAUSE,
          `logmux ${name} --help: --${flag} does not give its default`,
        );
        assert.equal(entry.short, option.short, `logmux ${name} --help: the short form of --${flag}`);
      }
      // parseFlags adds --help (-h) to every command.
      assert.equal(listed.get("help")?.short, "h", `logmux ${name} --help lists -h, --help`);
      for (const flag of listed.keys()) {
        assert.ok(
          flag === "help" || Object.hasOwn(spec, flag),
          `logmux ${name} --help lists --${flag}, which it does not accept`,
        );
      }
    }
  });
});
