// Plain-text formatting shared by `logmux status` and the demo's live view.
import type { HandlerStats } from "../protocol/status.js";

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `3s ago`, `2m 05s ago`, `never`. */
export function formatAgo(thenMs: number | null, nowMs: number): string {
  if (thenMs === null) return "never";
  return `${formatDuration(Math.max(0, nowMs - thenMs), true)} ago`;
}

/** `850ms`, `3s` (or `3.2s` with `tenths`), `2m 05s`, `1h 02m 03s`, `2d 03h 04m`. */
export function formatDuration(ms: number, tenths = false): string {
  if (ms < 1000 && !tenths) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return tenths ? `${totalSeconds.toFixed(1)}s` : `${Math.floor(totalSeconds)}s`;
  const s = Math.floor(totalSeconds);
  const pad = (n: number): string => String(n).padStart(2, "0");
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (days > 0) return `${days}d ${pad(hours)}h ${pad(minutes)}m`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
  return `${minutes}m ${pad(seconds)}s`;
}

/** Left-aligned text columns, right-aligned numeric ones (`numeric[i]`), two spaces apart. */
export function table(
  headers: readonly string[],
  rows: readonly string[][],
  numeric: readonly boolean[] = [],
): string[] {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** One handler's table cells: name, queue, delivered, dropped, failures, stalled. */
export function handlerCells(h: HandlerStats): string[] {
  return [
    h.name,
    `${formatCount(h.queuedBatches)} (${formatBytes(h.queuedBytes)})`,
    formatCount(h.delivered),
    formatCount(h.dropped),
    formatCount(h.failures),
    h.stalled ? "STALLED" : "no",
  ];
}
