import { expect } from 'chai';
import { rejectionOf } from '@nudge/testing';
import { ProviderError } from '@nudge/channels';

/** The ProviderError an adapter call rejects with; fails the test when it resolves or throws anything else. */
export async function providerFailure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await rejectionOf(p);
  expect(err).to.be.instanceOf(ProviderError);
  return err as ProviderError;
}
