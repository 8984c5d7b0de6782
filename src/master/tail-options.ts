import { InvalidConfigError } from "../errors.js";

/** The `tail` option of {@link MasterLoggerOptions}. */
export interface TailOptions {
  /**
   * How many of the last records routed the master keeps for `logmux tail -n`/`--since` (0: none).
   * @default 1000
   * @example { ring: 10_000 }
   */
  ring?: number;
  /**
   * Wire bytes the kept batches may hold at most: a kept batch pins its whole frame, so a few huge
   * records must not pin hundreds of MiB. The oldest batches go first.
   * @default 8388608 (8 MiB)
   * @example { ringBytes: 32 * 1024 * 1024 }
   */
  ringBytes?: number;
  /**
   * Wire bytes of batches that may wait for one tail that reads too slowly; past it the oldest are
   * dropped, counted, and the tail is told how many.
   * @default 4194304 (4 MiB)
   * @example { maxQueueBytes: 1024 * 1024 }
   */
  maxQueueBytes?: number;
}

/** {@link TailOptions} with every default applied. */
export interface ResolvedTailOptions {
  readonly ring: number;
  readonly ringBytes: number;
  readonly maxQueueBytes: number;
}

/** Applies the defaults of `tail`; throws InvalidConfigError naming `tail.<field>`. */
export function resolveTail(tail: TailOptions | false | undefined): ResolvedTailOptions | undefined {
  if (tail === false) return undefined;
  if (tail !== undefined && (tail === null || typeof tail !== "object")) {
    throw new InvalidConfigError(
      "tail",
      `expected false or an object { ring, ringBytes, maxQueueBytes }, got ${String(tail)}`,
    );
  }
  const resolved = {
    ring: tail?.ring ?? 1000,
    ringBytes: tail?.ringBytes ?? 8 * 1024 * 1024,
    maxQueueBytes: tail?.maxQueueBytes ?? 4 * 1024 * 1024,
  };
  for (const field of ["ring", "ringBytes", "maxQueueBytes"] as const) {
    const value = resolved[field];
    const min = field === "ring" ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new InvalidConfigError(
        `tail.${field}`,
        `expected a whole number of at least ${min}, got ${String(value)}`,
      );
    }
  }
  return resolved;
}
