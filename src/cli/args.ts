// Command-line parsing shared by the subcommands: node:util parseArgs in strict mode, with every
// failure turned into a UsageError (exit 2) that names the flag and what it accepts.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Exit codes of every `logmux` command (docs/cli.md lists them). */
export const EXIT_OK = 0;
/** A runtime failure: no master answered, the socket is in use, a file cannot be opened. */
export const EXIT_FAILURE = 1;
/** The command line or the config file is wrong; nothing was started. */
export const EXIT_USAGE = 2;
/** The demo was interrupted with Ctrl-C (128 + SIGINT), after a clean stop and its summary. */
export const EXIT_INTERRUPTED = 130;

/** A bad command line or config file. `main` prints it with a usage hint and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parses `argv` strictly (unknown flags and stray arguments are errors) and always knows `--help`. */
export function parseFlags<T extends OptionSpec>(
  argv: readonly string[],
  options: T,
): { values: { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string } & { help?: boolean } } {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    return { values: values as never };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A whole number in [min, max], or a UsageError naming the flag. */
export function intFlag(
  flag: string,
  value: string | undefined,
  fallback: number,
  min = 1,
  max = 1e9,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${flag} expects a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A positive number (fractions allowed) up to `max`, or a UsageError naming the flag. */
export function numberFlag(flag: string, value: string | undefined, fallback: number, max = 1e9): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new UsageError(
      `${flag} expects a number greater than 0 and at most ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** The demo was stopped by SIGTERM (128 + 15), after the same clean stop. */
export const EXIT_TERMINATED = 143;
