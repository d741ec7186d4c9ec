// Checks that a webhook came from Twilio (status callbacks, inbound messages), with the SDK's own algorithm.
// The URL must be the public one Twilio called (PUBLIC_BASE_URL + path + query string), never one built from the
// Host header, which the caller controls.
import twilio from 'twilio';

/**
 * Whether `signature` (the X-Twilio-Signature header) is Twilio's for this URL and these form parameters. A missing
 * or empty signature is false; the caller answers 400 for a missing one and 401 for a wrong one.
 */
export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  if (!signature || !authToken) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    // An unparsable URL cannot have been signed.
    return false;
  }
}
