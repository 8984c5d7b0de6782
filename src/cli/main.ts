#!/usr/bin/env node
// The `logmux` command: dispatches to `demo`, `master`, `status` and `tail`.
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./args.js";
import { packageVersion } from "./version.js";

const USAGE = `Usage: logmux <command> [options]

Commands:
  demo     run a master and a few workers with a live view, then a summary (what \`npm start\` runs)
  master   run a master: receive records from workers on a socket, write them to a file and more
  status   show the workers and handlers of a running master
  tail     print a running master's records live, filtered (level, worker, field, regex)

Options:
  -h, --help      show this help (or \`logmux <command> --help\` for a command's options)
  -v, --version   print the version

Exit status: 0 success, 1 failure (e.g. no master answered), 2 bad command line.
See docs/cli.md for every flag, the config file, and systemd/logrotate snippets.`;

type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./demo.js")).demoCommand,
  master: async () => (await import("./master.js")).masterCommand,
  status: async () => (await import("./status.js")).statusCommand,
  tail: async () => (await import("./tail.js")).tailCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0] !== undefined && rest[0] in COMMANDS) return main([rest[0], "--help"]);
    // Without a command it is a usage error: the help goes to stderr and the exit status is 2.
    (name === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === "-v" || name === "--version") {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    process.stderr.write(
      `logmux: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(COMMANDS).join(", ")}\n` +
        "Run 'logmux --help' for usage.\n",
    );
    return EXIT_USAGE;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`logmux ${name}: ${error.message}\nRun 'logmux ${name} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`logmux ${name}: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Open handles (a network handler's keep-alive socket, a stdin listener) must not keep a
    // finished command alive; stdout is flushed first when it is a pipe.
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once("drain", () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`logmux: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
