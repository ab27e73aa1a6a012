// Who or what asked for a change: a user of the API, a directory event, or a timer. Every
// capability records it in the activity log, so it is vocabulary they share.

export type ActivityCause =
  /** `scope`: the token's folder and account ids, when it was limited to them. */
  | { kind: 'user'; identity: string; scope?: string[] }
  | { kind: 'event'; eventId: string; eventName?: string }
  | { kind: 'timer'; trigger?: string };

/** Who or what asked, and the request id for the activity log. */
export interface Caller {
  cause: ActivityCause;
  requestId?: string;
}

/** One line naming the cause, e.g. `user:alice`, `event:<id>`, `timer:reconcile`. */
export function describeCause(cause: ActivityCause): string {
  switch (cause.kind) {
    case 'user':
      return `user:${cause.identity}`;
    case 'event':
      return `event:${cause.eventId}`;
    case 'timer':
      return `timer:${cause.trigger ?? 'reconcile'}`;
  }
}
