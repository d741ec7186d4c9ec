import Joi from 'joi';
import { answer, email, name, password, pastDate, timezone } from '../../http/schemas';

export const registerBody = Joi.object({
  email: email().required(),
  password: password().required(),
  name: name().allow(null),
  date_of_birth: pastDate().required(),
  timezone: timezone(),
  invite_token: Joi.string().max(200),
  workspace_name: name(),
}).oxor('invite_token', 'workspace_name');

/** JSON `{username | email, password}` or the OAuth2 password form (`username`, `password`, grant_type...). */
export const loginBody = Joi.object({
  username: Joi.string().trim().max(254),
  email: Joi.string().trim().max(254),
  password: Joi.string().max(1024).required(),
  grant_type: Joi.string().valid('password'),
  scope: Joi.string().allow(''),
  client_id: Joi.string().allow(''),
  client_secret: Joi.string().allow(''),
}).xor('username', 'email');

export const refreshBody = Joi.object({ refresh_token: Joi.string().max(500).required() });
export const logoutBody = Joi.object({ refresh_token: Joi.string().max(500) });
export const forgotBody = Joi.object({ email: email().required() });
export const resetBody = Joi.object({ token: Joi.string().max(500).required(), password: password().required() });

export const tokenPair = answer({
  access_token: Joi.string(),
  refresh_token: Joi.string(),
  token_type: Joi.string().valid('bearer'),
});
/** The answer of a request whose outcome is a sentence, `{detail}`. */
export const detailOut = answer({ detail: Joi.string() });
