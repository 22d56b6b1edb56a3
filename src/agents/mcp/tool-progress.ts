import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';

/** The parts of a request handler's `extra` needed to report progress. */
export interface ProgressChannel {
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: ServerNotification) => Promise<void>;
}

/**
 * Sends `notifications/progress` for one request, when its caller asked for them (a
 * progressToken). Progress only ever increases, as the spec requires; a failed send is ignored:
 * progress is a courtesy, the result is what counts.
 */
export function progressReporter(channel: ProgressChannel): (message: string) => void {
  const token = channel._meta?.progressToken;
  let progress = 0;
  return (message) => {
    if (token === undefined) return;
    progress += 1;
    channel.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } }).catch(() => undefined);
  };
}
