// The Knex CLI's entry point; the configuration itself lives in packages/db.
export { default } from '@nudge/db/knexfile';
