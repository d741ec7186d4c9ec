// The Knex CLI's entry point; the configuration itself lives in packages/db. Evaluated only by the CLI, so
// importing @nudge/db never reads the configuration as a side effect.
import { knexConfig } from '@nudge/db';

export default knexConfig();
