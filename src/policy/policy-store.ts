import { watch, type FSWatcher } from 'node:fs';
import type { LoadedPolicy } from './loaded-policy';
import { PolicyLoadError } from './policy-load-error';
import { loadPolicy } from './policy-loader';

/** The subset of a pino logger the store uses. */
export interface PolicyLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface PolicyStoreOptions {
  logger?: PolicyLogger;
  /** Quiet period after the last file event before reloading; editors write in several steps. */
  debounceMs?: number;
  /** Injected for tests; defaults to loadPolicy. */
  load?: (dir: string) => LoadedPolicy;
}

export type PolicyReloadResult =
  | { ok: true; changed: boolean; policyVersion: string }
  | { ok: false; error: PolicyLoadError; policyVersion: string };

const SILENT_LOGGER: PolicyLogger = { info() {}, warn() {}, error() {} };

function asLoadError(error: unknown): PolicyLoadError {
  if (error instanceof PolicyLoadError) return error;
  return new PolicyLoadError([{ message: error instanceof Error ? error.message : String(error) }]);
}

/**
 * Holds the last good policy. The constructor loads synchronously and throws PolicyLoadError, so a
 * process never starts on a bad policy; afterwards a bad policy is logged and kept in `lastError`
 * but never replaces the good one.
 */
export class PolicyStore {
  private policy: LoadedPolicy;
  private failure: PolicyLoadError | undefined;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly logger: PolicyLogger;
  private readonly debounceMs: number;
  private readonly load: (dir: string) => LoadedPolicy;
  private readonly onHangup = (): void => {
    this.logger.info({ dir: this.dir }, 'SIGHUP received, reloading policy');
    this.reload();
  };

  constructor(
    readonly dir: string,
    options: PolicyStoreOptions = {},
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.debounceMs = options.debounceMs ?? 250;
    this.load = options.load ?? loadPolicy;
    this.policy = this.load(dir);
    this.logger.info({ dir, policyVersion: this.policy.policyVersion, rules: this.policy.rules.length }, 'policy loaded');
  }

  current(): LoadedPolicy {
    return this.policy;
  }

  /** The failure of the most recent reload; cleared by the next successful one. */
  get lastError(): PolicyLoadError | undefined {
    return this.failure;
  }

  reload(): PolicyReloadResult {
    const previousVersion = this.policy.policyVersion;
    try {
      const next = this.load(this.dir);
      this.failure = undefined;
      const changed = next.policyVersion !== previousVersion;
      if (changed) {
        this.policy = next;
        this.logger.info({ dir: this.dir, previousVersion, policyVersion: next.policyVersion, rules: next.rules.length }, 'policy reloaded');
      }
      return { ok: true, changed, policyVersion: this.policy.policyVersion };
    } catch (thrown) {
      const error = asLoadError(thrown);
      this.failure = error;
      this.logger.error(
        { dir: this.dir, policyVersion: previousVersion, issues: error.issues },
        'policy reload refused; keeping the last good policy',
      );
      return { ok: false, error, policyVersion: previousVersion };
    }
  }

  /** Reloads on file changes in the directory (debounced) and on SIGHUP. Idempotent. */
  watch(): this {
    if (this.watcher !== undefined) return this;
    this.watcher = watch(this.dir, { persistent: false }, () => this.scheduleReload());
    this.watcher.on('error', (error) => this.logger.warn({ dir: this.dir, err: error }, 'policy directory watch failed'));
    process.on('SIGHUP', this.onHangup);
    return this;
  }

  close(): void {
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    process.off('SIGHUP', this.onHangup);
  }

  private scheduleReload(): void {
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.reload();
    }, this.debounceMs);
    this.debounceTimer.unref();
  }
}
