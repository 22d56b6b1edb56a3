import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CommandOutput {
  write(text: string): unknown;
}

export interface CommandIo {
  stdout?: CommandOutput;
  stderr?: CommandOutput;
  /** The environment to read configuration from (tests point DATABASE_URL at their schema). */
  env?: NodeJS.ProcessEnv;
  /** Tests fix the clock for --since and retention. */
  now?: Date;
}

/** Bad input: printed with the usage, exit code 2. The message names the flag and says what it takes. */
export class UsageError extends Error {}

/** Maps an error a command expects (bad key, unreadable policy) to its exit code; undefined: not one of them. */
export type ExitCodeOf = (err: unknown) => number | undefined;

/** One sub-command: `run` gets the words after its name and returns the exit code. */
export interface Command {
  run(argv: string[], io: CommandIo): Promise<number> | number;
  /** Printed for --help and after a usage error; default: its group's. */
  usage?: string;
  exitCodeOf?: ExitCodeOf;
}

/** `holdpoint <command> <sub-command> [flags]`: a name, its usage listing and what each word runs. */
export interface CommandGroup {
  /** The words typed so far, e.g. `holdpoint keys`: the prefix of every error line. */
  name: string;
  usage: string;
  commands: Readonly<Record<string, Command | CommandGroup>>;
  /** Errors every command of the group expects, printed without the usage. */
  exitCodeOf?: ExitCodeOf;
}

const HELP_WORDS = ['help', '--help', '-h'];

/**
 * Runs the command `argv` names in `group`: usage on stdout and 0 for help; usage on stderr and 2
 * for a missing or unknown word or bad flags; otherwise the command's own exit code.
 */
export async function dispatch(group: CommandGroup, argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const [word, ...rest] = argv;
  if (word !== undefined && HELP_WORDS.includes(word)) {
    (io.stdout ?? process.stdout).write(group.usage);
    return 0;
  }
  const entry = word !== undefined && Object.hasOwn(group.commands, word) ? group.commands[word] : undefined;
  if (entry === undefined) {
    const problem = word === undefined ? 'missing command' : `unknown command ${word}`;
    (io.stderr ?? process.stderr).write(`${group.name}: ${problem}\n\n${group.usage}`);
    return 2;
  }
  const exitCodeOf = firstOf(entry.exitCodeOf, group.exitCodeOf);
  if ('commands' in entry) return dispatch({ ...entry, exitCodeOf }, rest, io);
  return runCommand(`${group.name} ${word}`, { usage: group.usage, ...entry, exitCodeOf }, rest, io);
}

/** Runs one command by itself, e.g. `policyReplayCommand` (what `dispatch` does once it has found it). */
export async function runCommand(name: string, command: Command, argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  const usage = command.usage ?? '';
  if (asksForHelp(argv)) {
    (io.stdout ?? process.stdout).write(usage);
    return 0;
  }
  try {
    return await command.run([...argv], io);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    const code = command.exitCodeOf?.(err);
    if (code === undefined) throw err;
    stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return code;
  }
}

/** --help or -h among the flags; after `--` the words belong to a wrapped command (`mcp gateway -- server --help`). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

function firstOf(first: ExitCodeOf | undefined, second: ExitCodeOf | undefined): ExitCodeOf | undefined {
  if (!first || !second) return first ?? second;
  return (err) => first(err) ?? second(err);
}

/** Strict flags (no positionals unless asked): parseArgs' errors (unknown flag, missing value) become usage errors. */
export function parseFlags<T extends ParseArgsConfig['options']>(argv: string[], options: T) {
  return parseCommandLine(argv, options, false).values;
}

/** Strict flags and positional words. */
export function parseCommandLine<T extends ParseArgsConfig['options'], P extends boolean>(argv: string[], options: T, allowPositionals: P) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals, options });
  } catch (err) {
    // A TypeError with a code such as ERR_PARSE_ARGS_UNKNOWN_OPTION (not always of this realm's Error, e.g. under jest).
    const message = (err as { message?: unknown } | undefined)?.message;
    throw new UsageError(typeof message === 'string' ? message : String(err));
  }
}
