import type { Pool } from 'pg';

export interface PostedSlackMessage {
  notificationId: string;
  destination: string;
  actionId: string;
  channel: string;
  ts: string;
}

export async function findSlackMessage(pool: Pick<Pool, 'query'>, notificationId: string, destination: string): Promise<PostedSlackMessage | undefined> {
  const { rows } = await pool.query(
    'SELECT notification_id, destination, action_id, channel, ts FROM slack_messages WHERE notification_id = $1 AND destination = $2',
    [notificationId, destination],
  );
  return rows[0] ? toMessage(rows[0]) : undefined;
}

/** Remembers a posted message; the first record wins if a retry raced an earlier attempt. */
export async function recordSlackMessage(pool: Pick<Pool, 'query'>, message: PostedSlackMessage): Promise<void> {
  await pool.query(
    `INSERT INTO slack_messages (notification_id, destination, action_id, channel, ts) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (notification_id, destination) DO NOTHING`,
    [message.notificationId, message.destination, message.actionId, message.channel, message.ts],
  );
}

/** Every message posted for the action, oldest first. */
export async function listSlackMessages(pool: Pick<Pool, 'query'>, actionId: string): Promise<PostedSlackMessage[]> {
  const { rows } = await pool.query(
    'SELECT notification_id, destination, action_id, channel, ts FROM slack_messages WHERE action_id = $1 ORDER BY posted_at, ts',
    [actionId],
  );
  return rows.map(toMessage);
}

function toMessage(row: Record<string, string>): PostedSlackMessage {
  return { notificationId: row.notification_id!, destination: row.destination!, actionId: row.action_id!, channel: row.channel!, ts: row.ts! };
}
