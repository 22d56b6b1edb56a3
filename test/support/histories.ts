import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/** One JSON history per workflow path, replayed by test/workflow/replay.test.ts. */
export const HISTORIES_DIR = path.join(__dirname, '../histories');

/*
 * Why not `historyToJSON` / `historyFromJSON` from @temporalio/common/lib/proto-utils: in this
 * install @temporalio/common and @temporalio/proto each get their own nested copy of protobufjs 8
 * (the root holds protobufjs 7 for @grpc/proto-loader), so protojson's `instanceof Type` check fails
 * with "type must be a Type" (also inside Worker.runReplayHistories for string eventIds). We use the
 * protojson that belongs to @temporalio/proto's protobufjs, which writes the same ProtoJSON format
 * (`temporal workflow show --output json`), and hand the worker decoded History messages.
 */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved next to @temporalio/proto on purpose (see above)
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve('@temporalio/proto'))] })) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history?.events?.length) throw new TypeError('not a workflow history (no events)');
  return history;
}

export function historySlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Saves the finished workflow's history as `test/histories/<slug>.json` when RECORD_HISTORIES=1;
 * otherwise does nothing, so ordinary test runs never touch the stored histories.
 */
export async function recordHistory(name: string, handle: Pick<WorkflowHandle, 'fetchHistory'>): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${historySlug(name)}.json`), `${JSON.stringify(historyToJson(history), null, 2)}\n`);
}

/**
 * Every stored history, as paths relative to HISTORIES_DIR. Subdirectories keep histories of
 * older workflow code (recorded before a `patched()` change) so both branches stay replayable.
 */
export function storedHistoryFiles(): string[] {
  if (!fs.existsSync(HISTORIES_DIR)) return [];
  return (fs.readdirSync(HISTORIES_DIR, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.json'))
    .sort();
}

export function loadStoredHistory(file: string): History {
  return historyFromJson(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
}
