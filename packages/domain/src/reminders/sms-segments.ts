// How many SMS segments a text costs, for the reminder preview: GSM-7 when every character is in the GSM 03.38
// alphabet (160 septets in one segment, 153 each when concatenated; extension characters such as € take two),
// UCS-2 otherwise (70 code units, 67 when concatenated). Twilio's calculator does the counting.
import { SegmentedMessage } from 'sms-segments-calculator';

export interface SmsSegmentCount {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Characters as the encoding counts them: septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

export function countSmsSegments(text: string): SmsSegmentCount {
  if (text === '') return { encoding: 'GSM-7', segments: 0, units: 0 };
  const message = new SegmentedMessage(text, 'auto');
  const encoding = message.getEncodingName() === 'GSM-7' ? 'GSM-7' : 'UCS-2';
  return { encoding, segments: message.segmentsCount, units: message.messageSize / (encoding === 'GSM-7' ? 7 : 16) };
}
