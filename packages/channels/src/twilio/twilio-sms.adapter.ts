// SMS through Twilio: E.164 numbers as they are.
import { TwilioTextAdapter } from './twilio-text.adapter';

export class TwilioSmsAdapter extends TwilioTextAdapter {
  readonly channel = 'sms' as const;
  protected address(number: string): string {
    return number;
  }
}
