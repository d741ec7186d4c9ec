// GET /audit/: the security events of the caller's workspace (all of them for the platform admin), newest first.
import { pageRequest, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { pageQuery } from '../../http/schemas';
import { auditPage } from './audit.schemas';
import { serializeAuditEntry } from './audit.serializers';

export function auditRoutes({ audit }: Services): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/audit/',
      summary: "The audit trail of the caller's workspace (owners and admins), or every entry (platform admin)",
      tags: ['audit'],
      access: 'user',
      schemas: { query: pageQuery() },
      responses: {
        200: { description: 'A page of audit entries, newest first', schema: auditPage },
        403: { description: 'A member, or a user without a workspace' },
      },
      handler: async (req, res) => {
        const page = await audit.list(principalOf(req), pageRequest(req));
        res.json({ items: page.items.map(serializeAuditEntry), next_cursor: page.next_cursor });
      },
    },
  ];
}
