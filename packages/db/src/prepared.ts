// The dispatch path's batched statements run thousands of times a minute with the same text (their rows travel as
// one jsonb and one uuid[] parameter, whatever the batch size). Named, each is parsed and planned once per pooled
// connection instead of on every call: planning was a quarter of a 33-row claim's time in PostgreSQL
// (bench/dispatch.ts). PostgreSQL keeps custom plans for the first five runs, then a generic plan only when it costs
// no more, so the ids' primary-key lookups stay as planned.
//
// A name must always carry one text: pg refuses a name reused with another text on a connection. Only statements
// whose text cannot vary may be named, which is why every name is declared here, next to the others. Behind a
// connection pooler, named statements need protocol-level support for them (PgBouncer 1.21 and later with
// max_prepared_statements; docs/scaling.md).

/** Every named statement, so that no two share a name. */
export const PREPARED = {
  claimNotifications: 'nudge_claim_notifications',
  recordAttempts: 'nudge_record_attempts',
  loadReminderDispatches: 'nudge_load_reminder_dispatches',
} as const;

/** Runs `query` (a raw statement or a builder of fixed text) as the named prepared statement `name`. */
export function prepared<Q extends { options(options: Readonly<Record<string, unknown>>): Q }>(
  name: (typeof PREPARED)[keyof typeof PREPARED],
  query: Q,
): Q {
  return query.options({ name });
}
