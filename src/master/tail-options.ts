import { InvalidConfigError } from "../errors.js";

/**
 * The least `ringBytes` and `maxQueueBytes` accepted: a worker's default batch (maxBatchBytes,
 * 256 KiB). Under it a tail reading at full speed would still skip records, because a queue that
 * cannot hold two ordinary batches drops the older one as the next arrives.
 */
export const MIN_TAIL_BYTES = 256 * 1024;
/**
 * The most kept records: a query looks at up to `ring` records in one event-loop turn when a tail
 * attaches, on the thread every worker depends on. A `--where` filter costs about 200 ns a record
 * (docs/cli.md, "What it costs the master"), so this is a pause of about 20 ms at most.
 */
export const MAX_TAIL_RING = 100_000;
/** The most `maxTails` accepted: each tail may hold `maxQueueBytes` and costs its own filtering. */
export const MAX_TAILS = 1000;

/** The `tail` option of {@link MasterLoggerOptions}. */
export interface TailOptions {
  /**
   * How many of the last records routed the master keeps for `logmux tail -n`/`--since` (0: none),
   * at most 100,000 (a tail that attaches looks at all of them in one event-loop turn).
   * @default 1000
   * @example { ring: 10_000 }
   */
  ring?: number;
  /**
   * Wire bytes the kept batches may hold at most, at least 262144 (256 KiB, a default batch): a
   * kept batch pins its whole frame, so a few huge records must not pin hundreds of MiB. The oldest
   * batches go first.
   * @default 8388608 (8 MiB)
   * @example { ringBytes: 32 * 1024 * 1024 }
   */
  ringBytes?: number;
  /**
   * Wire bytes of batches that may wait for one tail that reads too slowly, at least 262144
   * (256 KiB, a default batch); past it the oldest are dropped, counted, and the tail is told how
   * many. The batch that just arrived is never dropped, even when it alone is larger.
   * @default 4194304 (4 MiB)
   * @example { maxQueueBytes: 1024 * 1024 }
   */
  maxQueueBytes?: number;
  /**
   * How many tails may be connected at once (1 to 1000); one more is refused with a reason. Each
   * may hold up to `maxQueueBytes` and costs the master its own filtering.
   * @default 16
   * @example { maxTails: 4 }
   */
  maxTails?: number;
}

/** {@link TailOptions} with every default applied. */
export interface ResolvedTailOptions {
  readonly ring: number;
  readonly ringBytes: number;
  readonly maxQueueBytes: number;
  readonly maxTails: number;
}

/** Accepted range of each field. */
const RANGES: Readonly<Record<keyof ResolvedTailOptions, readonly [number, number]>> = {
  ring: [0, MAX_TAIL_RING],
  ringBytes: [MIN_TAIL_BYTES, Number.MAX_SAFE_INTEGER],
  maxQueueBytes: [MIN_TAIL_BYTES, Number.MAX_SAFE_INTEGER],
  maxTails: [1, MAX_TAILS],
};

/** Applies the defaults of `tail`; throws InvalidConfigError naming `tail.<field>`. */
export function resolveTail(tail: TailOptions | false | undefined): ResolvedTailOptions | undefined {
  if (tail === false) return undefined;
  if (tail !== undefined && (tail === null || typeof tail !== "object")) {
    throw new InvalidConfigError(
      "tail",
      `expected false or an object { ring, ringBytes, maxQueueBytes, maxTails }, got ${String(tail)}`,
    );
  }
  const resolved = {
    ring: tail?.ring ?? 1000,
    ringBytes: tail?.ringBytes ?? 8 * 1024 * 1024,
    maxQueueBytes: tail?.maxQueueBytes ?? 4 * 1024 * 1024,
    maxTails: tail?.maxTails ?? 16,
  };
  for (const field of ["ring", "ringBytes", "maxQueueBytes", "maxTails"] as const) {
    const value = resolved[field];
    const [min, max] = RANGES[field];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidConfigError(
        `tail.${field}`,
        max === Number.MAX_SAFE_INTEGER
          ? `expected a whole number of at least ${min}, got ${String(value)}`
          : `expected a whole number from ${min} to ${max}, got ${String(value)}`,
      );
    }
  }
  return resolved;
}
