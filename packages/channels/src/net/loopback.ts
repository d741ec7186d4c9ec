// The one definition of "loopback" for the rules that relax outside production toward local fakes (plain http to the
// fake Slack, SMTP without STARTTLS to the fake SMTP server): a host name as written in a URL, never resolved.

/** `localhost`, `127.x.y.z`, or `::1` (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
