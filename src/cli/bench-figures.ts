// pino's figure for scale in the demo's burst phase. These are measured numbers, copied from
// docs/benchmarks.md, section 2 ("End to end: P worker processes x M records into one file"), row
// "pino, every process appends (sync: false)": `npm run bench` on a 2-core Intel Xeon VM, Node.js
// v20.20.2, pino 10.4.0, 2026-12-02. test/cli/bench-figures.test.ts checks them against that doc,
// so a rerun of the benchmark that changes them fails until they are copied again.

/** A benchmark row: P processes each appending to one file, and the lines/s pino reached. */
export interface BenchRow {
  processes: number;
  linesPerSecond: number;
}

/** One row per process count the benchmark runs, in that order. */
export const PINO_END_TO_END: readonly BenchRow[] = [
  { processes: 1, linesPerSecond: 304_000 },
  { processes: 2, linesPerSecond: 614_000 },
  { processes: 4, linesPerSecond: 505_000 },
  { processes: 8, linesPerSecond: 450_000 },
  { processes: 16, linesPerSecond: 356_000 },
];

/** Where the figures come from, as the view cites them. */
export const BENCH_SOURCE = "docs/benchmarks.md: npm run bench, 2-core Intel Xeon";

/** The row for the most processes that are not more than `workers` (the first row below one). */
export function pinoRowFor(workers: number): BenchRow {
  let row = PINO_END_TO_END[0]!;
  for (const candidate of PINO_END_TO_END) if (candidate.processes <= workers) row = candidate;
  return row;
}

/** `389 k` or `1.66 M`, as the benchmark doc writes rates. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${Math.round(perSecond / 1e3)} k`;
  return `${Math.round(perSecond)}`;
}
