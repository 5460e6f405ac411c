/**
 * Where a workflow run's time went, read from its history: each activity's time in its queue (scheduled →
 * started) and running (started → completed), and the rest — workflow tasks and round trips between steps.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface Timeline {
  seconds: number;
  /** Per activity type, summed over its calls: seconds queued and seconds running. */
  activities: Array<{ type: string; calls: number; queued: number; running: number }>;
  /** Seconds of the run during which no activity was queued or running: workflow tasks and hand-offs. */
  between: number;
}

/** A history event's time, in seconds. */
export function secondsOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;
}

export async function timeline(client: Client, workflowId: string): Promise<Timeline> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = events.map((e) => secondsOf(e.eventTime));
  const scheduled = new Map<string, { type: string; at: number; started?: number }>();
  const byType = new Map<string, { calls: number; queued: number; running: number }>();
  const busy: Array<[number, number]> = [];
  events.forEach((e, i) => {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(String(e.eventId), { type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at: at[i] });
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const s = scheduled.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId));
      if (s) s.started = at[i];
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (!s || s.started === undefined) return;
      const total = byType.get(s.type) ?? { calls: 0, queued: 0, running: 0 };
      total.calls++;
      total.queued += s.started - s.at;
      total.running += at[i] - s.started;
      byType.set(s.type, total);
      busy.push([s.at, at[i]]);
    }
  });
  // The union of the activities' intervals; what is left of the run is between them.
  busy.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let end = -Infinity;
  for (const [from, to] of busy) {
    if (to <= end) continue;
    covered += to - Math.max(from, end);
    end = to;
  }
  const seconds = at[at.length - 1] - at[0];
  return { seconds, activities: [...byType].map(([type, t]) => ({ type, ...t })), between: seconds - covered };
}

/** The timeline as lines: `plan 1× 0.012 s queued, 0.213 s running`. */
export function formatTimeline(t: Timeline): string[] {
  return [
    ...t.activities.map((a) => `  ${`${a.type} ${a.calls}×`.padEnd(24)} ${a.queued.toFixed(3)} s queued, ${a.running.toFixed(3)} s running`),
    `  ${'between activities'.padEnd(24)} ${t.between.toFixed(3)} s (workflow tasks, hand-offs)`,
    `  ${'whole run'.padEnd(24)} ${t.seconds.toFixed(3)} s`,
  ];
}
