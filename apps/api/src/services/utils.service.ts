// The platform admin's maintenance operations behind /utils: triggering the birthday job and reading the listing
// cache. Kept out of the router so that routes reach no repository or queue themselves.
import { findWorkspaceById, type Db } from '@nudge/db';
import { QUEUES, type Producers } from '@nudge/queue';
import type { ListingCache, ListingKind } from '@nudge/cache';
import { NotFound } from '../errors/domain-errors';

export class UtilsService {
  constructor(private readonly deps: { db: Db; producers: Producers; cache: ListingCache }) {}

  /** Enqueues today's birthday scan, for every workspace or one that must exist. */
  async runBirthdayJob(workspaceId?: string): Promise<void> {
    if (workspaceId && !(await findWorkspaceById(this.deps.db, workspaceId))) throw new NotFound('No such workspace');
    // The claim row in birthday_posts makes a repeat harmless; the job never blocks this request on Slack.
    await this.deps.producers.add(QUEUES.birthdayScan, { manual: true, ...(workspaceId ? { workspaceId } : {}) });
  }

  /** Every cached listing of a kind, joined across workspaces; null when none is cached. */
  cachedListings(kind: ListingKind): Promise<unknown[] | null> {
    return this.deps.cache.dump(kind);
  }
}
