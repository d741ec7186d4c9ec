// WhatsApp through Twilio: the same Messages API, with both numbers written `whatsapp:+<E.164>`.
import { TwilioTextAdapter } from './twilio-text.adapter';

const WHATSAPP = /^whatsapp:/i;

export class TwilioWhatsappAdapter extends TwilioTextAdapter {
  readonly channel = 'whatsapp' as const;
  protected address(number: string): string {
    return `whatsapp:${number.replace(WHATSAPP, '')}`;
  }
}
