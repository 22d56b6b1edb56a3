import { Client, type Pool } from 'pg';
import type { ActionState } from '../../shared/action-state';

/** What a waiter needs of an action: its stored status and the read model (the state as stored). */
export interface StoredAction {
  status: string;
  state: ActionState | null;
}

interface Waiter {
  reached: (row: StoredAction) => boolean;
  resolve: (row: StoredAction | undefined) => void;
}

export interface ActionChangeFeedOptions {
  /** A slow re-check of every waited action, for a notification lost with a dropped connection. */
  recheckMs?: number;
  /** Delay before reconnecting the listening connection after it dropped. */
  reconnectMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export const ACTION_CHANGED_CHANNEL = 'holdpoint_action_changed';

/**
 * Waiting for an action without holding anything in Temporal. Every write of an action's status or
 * state sends a NOTIFY in its own transaction (migration 006); one listening connection per process
 * fans each change out to the waiters of that action, with one read of the row however many wait.
 */
export class ActionChangeFeed {
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Actions being read; a change that arrives meanwhile reads again once the read is done. */
  private readonly reading = new Map<string, boolean>();
  private listener: Client | undefined;
  private connecting: Promise<void> | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly options: ActionChangeFeedOptions = {},
  ) {}

  /** The stored action, read now (undefined: not stored yet). */
  async read(actionId: string): Promise<StoredAction | undefined> {
    const { rows } = await this.pool.query<StoredAction>('SELECT status, state FROM actions WHERE id = $1', [actionId]);
    return rows[0];
  }

  /**
   * Resolves with the stored action as soon as `reached` holds for it, or with its latest stored
   * form (undefined if none) once `timeoutMs` passes or `signal` aborts.
   */
  async waitFor(actionId: string, reached: (row: StoredAction) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<StoredAction | undefined> {
    this.ensureListening();
    let waiter!: Waiter;
    const settled = new Promise<StoredAction | undefined>((resolve) => {
      waiter = { reached, resolve };
    });
    const set = this.waiters.get(actionId) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(actionId, set);
    const timer = setTimeout(() => void this.settle(actionId, waiter), Math.max(0, timeoutMs));
    const onAbort = () => void this.settle(actionId, waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Registered first, read second: a change committed in between wakes the waiter anyway.
      const current = await this.read(actionId);
      if (current && reached(current)) this.resolveWaiter(actionId, waiter, current);
      return await settled;
    } catch (err) {
      this.remove(actionId, waiter);
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** How many waiters this process holds (for metrics and tests). */
  get waiting(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.recheckTimer);
    for (const [actionId, set] of this.waiters) for (const waiter of set) void this.settle(actionId, waiter);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Ends a wait that ran out: with the latest stored form, so the answer is as fresh as it can be. */
  private async settle(actionId: string, waiter: Waiter): Promise<void> {
    if (!this.remove(actionId, waiter)) return;
    waiter.resolve(await this.read(actionId).catch(() => undefined));
  }

  private resolveWaiter(actionId: string, waiter: Waiter, row: StoredAction) {
    if (this.remove(actionId, waiter)) waiter.resolve(row);
  }

  private remove(actionId: string, waiter: Waiter): boolean {
    const set = this.waiters.get(actionId);
    if (!set?.delete(waiter)) return false;
    if (set.size === 0) this.waiters.delete(actionId);
    return true;
  }

  private changed(actionId: string) {
    if (!this.waiters.has(actionId)) return;
    if (this.reading.has(actionId)) {
      this.reading.set(actionId, true);
      return;
    }
    this.reading.set(actionId, false);
    void this.read(actionId)
      .then((row) => {
        if (!row) return;
        for (const waiter of [...(this.waiters.get(actionId) ?? [])]) if (waiter.reached(row)) this.resolveWaiter(actionId, waiter, row);
      })
      .catch((err: unknown) => this.options.logger?.warn({ err, actionId }, 'could not read a changed action; the periodic re-check will'))
      .finally(() => {
        const again = this.reading.get(actionId);
        this.reading.delete(actionId);
        if (again) this.changed(actionId);
      });
  }

  private recheckAll() {
    for (const actionId of this.waiters.keys()) this.changed(actionId);
  }

  private ensureListening() {
    if (this.closed || this.listener || this.connecting) return;
    this.recheckTimer ??= setInterval(() => this.recheckAll(), this.options.recheckMs ?? 5_000).unref();
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    const client = new Client(this.pool.options);
    client.on('notification', (message) => {
      if (message.channel === ACTION_CHANGED_CHANNEL && message.payload) this.changed(message.payload);
    });
    const dropped = (err?: unknown) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      if (err) this.options.logger?.warn({ err }, 'action change feed disconnected; reconnecting');
      client.end().catch(() => undefined);
      if (this.closed) return;
      const retry = setTimeout(() => {
        if (this.waiters.size > 0) this.ensureListening();
      }, this.options.reconnectMs ?? 1_000);
      retry.unref();
    };
    client.on('error', dropped);
    client.on('end', () => dropped());
    try {
      await client.connect();
      await client.query(`LISTEN ${ACTION_CHANGED_CHANNEL}`);
    } catch (err) {
      this.options.logger?.warn({ err }, 'action change feed could not listen; waits fall back to the periodic re-check');
      client.end().catch(() => undefined);
      const retry = setTimeout(() => this.waiters.size > 0 && this.ensureListening(), this.options.reconnectMs ?? 1_000);
      retry.unref();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    // The connection must not keep a process (or a test run) alive on its own.
    (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    this.listener = client;
    // Changes made while no connection listened are found by reading every waited action once.
    this.recheckAll();
  }
}
