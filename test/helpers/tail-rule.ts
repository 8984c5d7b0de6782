// The records the tail tests' workers log (fixtures/tail-worker.ts), and which of them each filter
// must let through, computed from the rule rather than from anything the tail printed.
import { LogLevel } from "../../src/index.js";

export interface TailRecord {
  level: LogLevel;
  message: string;
  fields: { reqId: string; i: number; user: { id: number } };
}

/** Levels cycle INFO, WARNING, ERROR, DEBUG; reqId cycles r-0, r-1, r-2; user.id is i % 5. */
export function tailRecord(name: string, i: number, messageBytes = 0): TailRecord {
  const levels = [LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR, LogLevel.DEBUG];
  const base = `${name} record ${i}`;
  const pad = messageBytes - base.length - 1;
  return {
    level: levels[i % levels.length]!,
    message: pad > 0 ? `${base} ${"x".repeat(pad)}` : base,
    fields: { reqId: `r-${i % 3}`, i, user: { id: i % 5 } },
  };
}

/** `name:i` of every record of `workers` (each logging `count`) for which `keep` holds. */
export function expectedKeys(
  workers: readonly string[],
  count: number,
  keep: (record: TailRecord, name: string, i: number) => boolean,
): string[] {
  const keys: string[] = [];
  for (const name of workers) {
    for (let i = 0; i < count; i++) if (keep(tailRecord(name, i), name, i)) keys.push(`${name}:${i}`);
  }
  return keys.sort();
}
