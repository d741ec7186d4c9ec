// The wire shape of a user, applied by the routes to whatever the users service returns.
import type { UserListing } from '../../services/users.service';

/** A user as the API shows it: never the password hash or the token version. */
export function serializeUser(u: UserListing) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    date_of_birth: u.date_of_birth,
    timezone: u.timezone,
    workspace_id: u.workspace_id,
    role: u.role,
    is_active: u.is_active,
    is_superuser: u.is_superuser,
    is_verified: u.is_verified,
    created_at: u.created_at,
    updated_at: u.updated_at,
  };
}
export type UserOut = ReturnType<typeof serializeUser>;
