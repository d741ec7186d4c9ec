// A Twilio account's credentials, checked by fetching the account with the official SDK: what a channel account's
// test send does for SMS and WhatsApp until the dispatch issue brings a Twilio adapter that really sends.
import twilio from 'twilio';
import {
  PermanentProviderError,
  providerErrorFromNetwork,
  providerErrorFromStatus,
  type ProviderError,
} from '../errors';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
  /** Replaces https://api.twilio.com (tests, local demos). */
  apiUrl?: string;
  /** Per-request timeout (10 s). */
  timeoutMs?: number;
}

/** A Twilio client with our credentials, pointed at `apiUrl` when given. */
export function twilioClient({ accountSid, authToken, apiUrl, timeoutMs }: TwilioCredentials): twilio.Twilio {
  const base = new twilio.RequestClient({ timeout: timeoutMs ?? 10_000 });
  const httpClient = apiUrl
    ? {
        request: (o: Parameters<typeof base.request>[0]) =>
          base.request({ ...o, uri: o.uri.replace(/^https:\/\/api\.twilio\.com/, apiUrl.replace(/\/+$/, '')) }),
      }
    : base;
  return twilio(accountSid, authToken, { httpClient: httpClient as typeof base });
}

interface TwilioRestError {
  status?: number;
  code?: number;
  message?: string;
}

/** The provider error for what the SDK threw: Twilio's own code (20003...) kept as `providerCode`. */
export function twilioError(err: unknown, secrets: string[]): ProviderError {
  const network = providerErrorFromNetwork('twilio', err);
  if (network) return network;
  const e = (err ?? {}) as TwilioRestError;
  if (typeof e.status === 'number')
    return providerErrorFromStatus('twilio', e.status, { providerCode: e.code, detail: e.message, secrets });
  return new PermanentProviderError('twilio request failed before it was sent', {
    provider: 'twilio',
    code: 'invalid_request',
  });
}

/** Resolves when Twilio accepts the credentials and the account is active; throws a ProviderError otherwise. */
export async function verifyTwilioAccount(creds: TwilioCredentials): Promise<void> {
  let status: string;
  try {
    status = (await twilioClient(creds).api.v2010.accounts(creds.accountSid).fetch()).status;
  } catch (err) {
    throw twilioError(err, [creds.authToken, creds.accountSid]);
  }
  if (status !== 'active')
    throw new PermanentProviderError(`twilio account is ${status}`, {
      provider: 'twilio',
      code: 'account_inactive',
      providerCode: status,
    });
}
