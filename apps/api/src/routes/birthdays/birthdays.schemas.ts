import Joi from 'joi';
import { answer, name, pastDate, uuid } from '../../http/schemas';

export const birthdayOut = answer({
  id: uuid(),
  user_id: uuid().allow(null),
  workspace_id: uuid(),
  name: Joi.string(),
  date_of_birth: Joi.string(),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});
export const birthdayList = Joi.array().items(birthdayOut);
export const upcomingList = Joi.array().items(
  birthdayOut.keys({ next_birthday: Joi.string().required(), turning_age: Joi.number().integer().required() }),
);

/** A standalone birthday: no user_id (a user's row follows the user). The platform admin names the workspace. */
export const createBirthdayBody = Joi.object({
  name: name().required(),
  date_of_birth: pastDate().required(),
  workspace_id: uuid(),
});
export const updateBirthdayBody = Joi.object({ name: name(), date_of_birth: pastDate() }).min(1);
export const upcomingQuery = Joi.object({ days: Joi.number().integer().min(1).max(366).default(7) });
