// Generates .nudge/secrets.env (JWT_SECRET, ENCRYPTION_KEYS, SEARCH_HASH_KEY) if missing, as `npm start` does before anything else.
// For set-ups that do not go through `npm start`, such as docker compose's release step.
import { ensureSecretsFile } from './common.mjs';

if (process.env.ENV !== 'production') ensureSecretsFile((m) => console.log(m));
