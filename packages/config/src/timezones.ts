// The IANA names Nudge accepts: what Node's Intl knows, plus the tzdb "backward" aliases that Intl accepts but does
// not list (Node lists Asia/Calcutta but not Asia/Kolkata, and has no UTC at all).
const BACKWARD_ALIASES = [
  'Africa/Asmera', 'Africa/Timbuktu', 'America/Argentina/ComodRivadavia', 'America/Atka', 'America/Buenos_Aires',
  'America/Catamarca', 'America/Coral_Harbour', 'America/Cordoba', 'America/Ensenada', 'America/Fort_Wayne',
  'America/Godthab', 'America/Indianapolis', 'America/Jujuy', 'America/Knox_IN', 'America/Louisville',
  'America/Mendoza', 'America/Montreal', 'America/Nuuk', 'America/Porto_Acre', 'America/Rosario',
  'America/Santa_Isabel', 'America/Shiprock', 'America/Virgin', 'America/Ciudad_Juarez', 'Antarctica/South_Pole',
  'Asia/Ashkhabad', 'Asia/Calcutta', 'Asia/Chongqing', 'Asia/Chungking', 'Asia/Dacca', 'Asia/Harbin',
  'Asia/Ho_Chi_Minh', 'Asia/Istanbul', 'Asia/Kashgar', 'Asia/Kathmandu', 'Asia/Katmandu', 'Asia/Kolkata',
  'Asia/Macao', 'Asia/Rangoon', 'Asia/Saigon', 'Asia/Tel_Aviv', 'Asia/Thimbu', 'Asia/Ujung_Pandang',
  'Asia/Ulan_Bator', 'Asia/Yangon', 'Atlantic/Faeroe', 'Atlantic/Faroe', 'Atlantic/Jan_Mayen', 'Australia/ACT',
  'Australia/Canberra', 'Australia/Currie', 'Australia/LHI', 'Australia/NSW', 'Australia/North',
  'Australia/Queensland', 'Australia/South', 'Australia/Tasmania', 'Australia/Victoria', 'Australia/West',
  'Australia/Yancowinna', 'Brazil/Acre', 'Brazil/DeNoronha', 'Brazil/East', 'Brazil/West', 'Canada/Atlantic',
  'Canada/Central', 'Canada/Eastern', 'Canada/Mountain', 'Canada/Newfoundland', 'Canada/Pacific',
  'Canada/Saskatchewan', 'Canada/Yukon', 'CET', 'Chile/Continental', 'Chile/EasterIsland', 'CST6CDT', 'Cuba',
  'EET', 'Egypt', 'Eire', 'EST', 'EST5EDT', 'Etc/GMT', 'Etc/GMT+0', 'Etc/GMT-0', 'Etc/GMT0', 'Etc/Greenwich',
  'Etc/UCT', 'Etc/Universal', 'Etc/UTC', 'Etc/Zulu', 'Europe/Belfast', 'Europe/Kiev', 'Europe/Kyiv',
  'Europe/Nicosia', 'Europe/Tiraspol', 'GB', 'GB-Eire', 'GMT', 'GMT+0', 'GMT-0', 'GMT0', 'Greenwich', 'Hongkong',
  'HST', 'Iceland', 'Iran', 'Israel', 'Jamaica', 'Japan', 'Kwajalein', 'Libya', 'MET', 'Mexico/BajaNorte',
  'Mexico/BajaSur', 'Mexico/General', 'MST', 'MST7MDT', 'Navajo', 'NZ', 'NZ-CHAT', 'Pacific/Chuuk',
  'Pacific/Enderbury', 'Pacific/Johnston', 'Pacific/Kanton', 'Pacific/Pohnpei', 'Pacific/Ponape', 'Pacific/Samoa',
  'Pacific/Truk', 'Pacific/Yap', 'Poland', 'Portugal', 'PRC', 'PST8PDT', 'ROC', 'ROK', 'Singapore', 'Turkey',
  'UCT', 'Universal', 'US/Alaska', 'US/Aleutian', 'US/Arizona', 'US/Central', 'US/East-Indiana', 'US/Eastern',
  'US/Hawaii', 'US/Indiana-Starke', 'US/Michigan', 'US/Mountain', 'US/Pacific', 'US/Samoa', 'UTC', 'W-SU', 'WET',
  'Zulu',
];

function acceptedByIntl(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function loadTimezones(): string[] {
  const names = new Set<string>(Intl.supportedValuesOf('timeZone'));
  for (const alias of BACKWARD_ALIASES) if (acceptedByIntl(alias)) names.add(alias);
  for (const always of ['UTC', 'Etc/UTC', 'GMT']) names.add(always);
  return [...names].sort();
}

/** Sorted with JavaScript's default sort, as clients of Birthday Buddy expect. */
export const timezones: readonly string[] = Object.freeze(loadTimezones());
const known = new Set(timezones);

/** Exact-case membership: `utc` is not `UTC`, and a stored name is echoed back as it was sent. */
export function isTimezone(name: string): boolean {
  return known.has(name);
}
