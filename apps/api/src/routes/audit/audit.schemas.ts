// The audit trail's wire shapes.
import Joi from 'joi';
import { answer, pageOf, uuid } from '../../http/schemas';

export const auditEntryOut = answer({
  id: uuid(),
  workspace_id: uuid().allow(null).description('null once the workspace was deleted'),
  actor_id: uuid().allow(null).description('null when unknown (a lockout) or the actor was deleted'),
  action: Joi.string(),
  target_type: Joi.string().allow(null),
  target_id: uuid().allow(null),
  details: Joi.object().unknown(true),
  ip: Joi.string().allow(null),
  created_at: Joi.date(),
});
export const auditPage = pageOf(auditEntryOut);
