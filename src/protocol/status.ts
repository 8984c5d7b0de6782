// The STATUS reply's JSON body (docs/protocol.md, STATUS): what a master reports about itself, its
// handlers and its workers, for `logmux status`, the demo's view and MasterLogger.status().

/** One handler's queue as the master reports it. */
export interface HandlerStats {
  name: string;
  queuedBatches: number;
  /** Wire bytes held for the handler: queued, plus the slice it is writing. */
  queuedBytes: number;
  /** Records handed to the handler and settled (written, or failed and reported). */
  delivered: number;
  /** Records dropped because the handler was stalled and its queue was full. */
  dropped: number;
  failures: number;
  stalled: boolean;
}

/** Health of one worker as {@link MasterLogger.workers} reports it. */
export interface WorkerHealth {
  name: string;
  pid: number;
  /** Random per-process id the worker chose, stable across its reconnects. */
  instanceId: string;
  connected: boolean;
  /** "connected", "disconnected" (closed without shutdown), "shutdown" (said goodbye), or "unresponsive" (missed a check-in). */
  state: "connected" | "disconnected" | "shutdown" | "unresponsive";
  /** Wall-clock ms of the last check-in (HELLO or heartbeat), or null. */
  lastHeartbeat: number | null;
  /** Wall-clock ms by which the next check-in is due, or null when not connected. */
  nextCheckIn: number | null;
  recordsReceived: number;
  /** Records the worker itself reports it dropped (backpressure policy "drop"). */
  recordsDropped: number;
}

/** One connected `logmux tail` as the master reports it. */
export interface TailStats {
  /** Records sent to the tail (kept and live, after the master's filters). */
  sent: number;
  /** Records that matched but were dropped because the tail read too slowly. */
  skipped: number;
  /** Wire bytes of batches queued for it. */
  queuedBytes: number;
}

/** Totals for `logmux status` and the demo's live view. */
export interface MasterStatus {
  pid: number;
  path: string;
  uptimeMs: number;
  recordsReceived: number;
  protocolErrors: number;
  handlers: HandlerStats[];
  workers: WorkerHealth[];
  /** Connected tails, and the records all tails (gone ones too) have skipped. */
  tails: { connected: TailStats[]; skipped: number };
}
