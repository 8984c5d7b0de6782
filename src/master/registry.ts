import type { WorkerHealth } from "../protocol/status.js";
import type { Session } from "./session.js";
import type { WorkerCounts } from "./worker-counts.js";

/** Per-instance state that outlives a connection, so a reconnecting worker is not re-delivered. */
export interface Instance {
  id: string;
  name: string;
  pid: number;
  session: Session | undefined;
  /** Highest batch seq handed to the handlers; a resent batch at or below it is a duplicate. */
  dispatchedSeq: number;
  /** Highest seq acknowledged (all handlers have it). */
  committedSeq: number;
  recordsReceived: number;
  recordsDropped: number;
  lastHeartbeat: number | null;
  nextCheckIn: number | null;
  state: WorkerHealth["state"];
  /**
   * (ticket, seq) of batches dispatched but not yet committed, in order. Kept on the instance,
   * not the connection: a batch whose connection dropped still commits when its handlers finish,
   * and the acknowledgement goes to whichever connection the worker has by then.
   */
  pendingAcks: { ticket: number; seq: number }[];
  ackHead: number;
}

/** How many ended workers' health entries are remembered for `workers()` and status. */
const MAX_REMEMBERED_INSTANCES = 1024;

export interface RegistryOptions {
  deadWorkerGraceMs: number;
  /** The committed seq a restarted master knows from its journal (0 when it knows none). */
  committed(instanceId: string): number;
  /** Whether an instance still has batches waiting for their handlers (it must not be forgotten). */
  awaitingAck(instance: Instance): boolean;
  /** The master's WARNING, for "appears dead". */
  warning(message: string): void;
  /** Per worker name counts for the metrics endpoint, when it is on. */
  counts?: WorkerCounts | undefined;
}

/**
 * Every worker instance the master has seen, by the random id it chose: its seqs, health and
 * counters, the check-in timers that tell when one appears dead, and `workers()` for status.
 */
export class Registry {
  readonly #instances = new Map<string, Instance>();
  readonly #options: RegistryOptions;
  /** Records received from every worker, socket and spool, since the master started. */
  recordsReceived = 0;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /** The instance record for an id, created (and seeded from the journal) on first sight. */
  instanceFor(id: string, name: string, pid: number): Instance {
    let instance = this.#instances.get(id);
    if (instance === undefined) {
      const committed = this.#options.committed(id);
      instance = {
        id,
        name,
        pid,
        session: undefined,
        dispatchedSeq: committed,
        committedSeq: committed,
        recordsReceived: 0,
        recordsDropped: 0,
        lastHeartbeat: null,
        nextCheckIn: null,
        state: "disconnected",
        pendingAcks: [],
        ackHead: 0,
      };
      this.#instances.set(id, instance);
      this.#forgetOld();
    }
    return instance;
  }

  /** A batch's records handed to the handlers, from the worker's socket or its spool. */
  received(instance: Instance, records: number): void {
    instance.recordsReceived += records;
    this.recordsReceived += records;
    this.#options.counts?.received(instance.name, records);
  }

  /** The worker's DROPS report (a running total); returns how many records it adds. */
  workerDropped(instance: Instance, total: number): number {
    const added = total - instance.recordsDropped;
    if (added <= 0) return 0;
    instance.recordsDropped = total;
    this.#options.counts?.dropped(instance.name, added);
    return added;
  }

  get(id: string): Instance | undefined {
    return this.#instances.get(id);
  }

  /** Whether the instance has a live connection (then a spool of its is still its own). */
  isConnected(id: string): boolean {
    const session = this.#instances.get(id)?.session;
    return session !== undefined && !session.closed;
  }

  #forgetOld(): void {
    if (this.#instances.size <= MAX_REMEMBERED_INSTANCES) return;
    for (const [id, instance] of this.#instances) {
      if (
        (instance.session === undefined || instance.session.closed) &&
        !this.#options.awaitingAck(instance)
      ) {
        this.#instances.delete(id);
        if (this.#instances.size <= MAX_REMEMBERED_INSTANCES) return;
      }
    }
  }

  /** A HELLO or HEARTBEAT: the next check-in is due in `nextCheckInMs`. */
  checkedIn(session: Session, instance: Instance, nextCheckInMs: number): void {
    const now = Date.now();
    instance.lastHeartbeat = now;
    instance.nextCheckIn = now + nextCheckInMs;
    if (instance.state === "unresponsive") instance.state = "connected";
    session.clearDeadTimer();
    const grace = this.#options.deadWorkerGraceMs;
    session.deadTimer = setTimeout(() => {
      session.deadTimer = undefined;
      if (session.closed || session.end !== undefined) return;
      instance.state = "unresponsive";
      this.#options.warning(
        `${session.label()} appears dead: missed its check-in due at ${new Date(instance.nextCheckIn ?? now).toISOString()} by more than ${grace} ms`,
      );
    }, nextCheckInMs + grace);
    session.deadTimer.unref();
  }

  /** Health of every worker seen (connected ones and recently ended ones). */
  workers(): WorkerHealth[] {
    return [...this.#instances.values()].map((instance) => ({
      name: instance.name,
      pid: instance.pid,
      instanceId: instance.id,
      connected: instance.session !== undefined && !instance.session.closed,
      state: instance.state,
      lastHeartbeat: instance.lastHeartbeat,
      nextCheckIn: instance.nextCheckIn,
      recordsReceived: instance.recordsReceived,
      recordsDropped: instance.recordsDropped,
    }));
  }
}
