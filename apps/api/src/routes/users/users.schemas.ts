import Joi from 'joi';
import { answer, email, idParams, name, password, pastDate, timezone, uuid } from '../../http/schemas';
export type { RegisterInput } from '../../services/auth.service';

const role = () => Joi.string().valid('owner', 'admin', 'member');

export const userOut = answer({
  id: uuid(),
  email: Joi.string(),
  name: Joi.string().allow(null),
  date_of_birth: Joi.string().allow(null),
  timezone: Joi.string(),
  workspace_id: uuid().allow(null),
  role: role().allow(null),
  is_active: Joi.boolean(),
  is_superuser: Joi.boolean(),
  is_verified: Joi.boolean(),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});
export const userList = Joi.array().items(userOut);

/** What a user may change of their own account; PATCH /users/{id} adds the fields only others may set. */
const ownFields = {
  name: name().allow(null),
  date_of_birth: pastDate().allow(null),
  timezone: timezone(),
  email: email(),
  password: password(),
};

/** PATCH /users/me: a new email or password needs the current password. */
export const updateMeBody = Joi.object({
  ...ownFields,
  // Required here, not as an object-level peer rule, so that the 422 names current_password itself.
  current_password: Joi.string()
    .max(1024)
    .when('email', { is: Joi.exist(), then: Joi.required() })
    .when('password', { is: Joi.exist(), then: Joi.required() }),
});

/**
 * PATCH /users/{id}: every field that exists. Which of them the caller may set is decided by the service, which
 * answers 403 for a known field the caller may not change; an unknown field is a 422 here.
 */
export const updateUserBody = Joi.object({
  ...ownFields,
  role: role().allow(null),
  is_active: Joi.boolean(),
  is_superuser: Joi.boolean(),
  is_verified: Joi.boolean(),
  workspace_id: uuid().allow(null),
  token_version: Joi.number().integer(),
});

export { idParams };
