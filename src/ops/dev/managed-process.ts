import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A child process we own: started in its own process group so a terminal's Ctrl-C reaches only
 * the orchestrator, which then stops children in order. `stop` escalates SIGTERM → SIGKILL.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    // If the orchestrator dies abruptly the group would be orphaned; kill it on our way out.
    process.once('exit', this.killGroupSync);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private readonly killGroupSync = () => {
    if (this.running && this.child.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  async stop(graceMs = 10_000): Promise<void> {
    process.removeListener('exit', this.killGroupSync);
    if (!this.running || !this.child.pid) return;
    const pid = this.child.pid;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    signalGroup('SIGKILL'); // grandchildren that ignored SIGTERM
  }
}
