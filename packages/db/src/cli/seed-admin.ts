// Seeds the platform admin from ADMIN_EMAIL, ADMIN_PASSWORD and ADMIN_DOB. Without a password it generates one
// and prints it once; an existing admin is left as it is, so a restart never resets a changed password.
import { loadConfigOrExit } from '@nudge/config';
import { hashPassword, randomPassword } from '@nudge/crypto';
import { getDb, closeDb } from '../connection';
import { findUserByEmail, insertUser } from '../repositories/users.repository';

const config = loadConfigOrExit();
const db = getDb();
try {
  const existing = await findUserByEmail(db, config.admin.email);
  if (existing) {
    console.log(`Platform admin ${config.admin.email} already exists`);
  } else {
    const generated = config.admin.password ? undefined : randomPassword();
    const password = config.admin.password ?? generated ?? '';
    await insertUser(db, {
      email: config.admin.email,
      password_hash: await hashPassword(password, config.bcryptCost),
      name: 'Admin',
      date_of_birth: config.admin.dob,
      is_superuser: true,
      is_active: true,
      is_verified: true,
    });
    console.log(`Seeded platform admin ${config.admin.email}`);
    // Printed once, to the operator's terminal; it is never logged to a file.
    if (generated) console.log(`Generated admin password (shown once): ${generated}`);
  }
} finally {
  await closeDb();
}
