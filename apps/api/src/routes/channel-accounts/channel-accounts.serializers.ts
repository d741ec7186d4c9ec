// The wire shape of a channel account: which secrets are set, never their values.
import type { ChannelAccountView } from '../../services/channel-accounts.service';

export function serializeAccount(a: ChannelAccountView) {
  return {
    id: a.id,
    workspace_id: a.workspace_id,
    channel: a.channel,
    provider: a.provider,
    name: a.name,
    from_email: a.from_email,
    from_name: a.from_name,
    account_sid: a.account_sid,
    sms_from: a.sms_from,
    whatsapp_from: a.whatsapp_from,
    smtp_url: a.smtp_url,
    has_api_key: a.has_api_key,
    has_smtp_password: a.has_smtp_password,
    has_auth_token: a.has_auth_token,
    is_active: a.is_active,
    last_test_at: a.last_test_at,
    last_test_status: a.last_test_status,
    last_test_error: a.last_test_error,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}
