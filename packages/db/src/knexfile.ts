// What the Knex CLI loads (through the root knexfile.ts). Evaluated only by the CLI, so importing @nudge/db
// never reads the configuration as a side effect.
import { knexConfig } from './knex-config';

export default knexConfig();
