// A device's name as its owner would recognise it ("Firefox on Linux"), from the User-Agent
// header. Bowser knows the browsers and systems; what it cannot name stays generic.
import Bowser from 'bowser';

export function deviceName(userAgent: string): string {
  if (!userAgent.trim()) return 'Unknown device';
  const { browser, os } = Bowser.parse(userAgent);
  if (!browser.name && !os.name) return userAgent.split(/[\s/]/)[0]?.slice(0, 40) || 'Unknown device';
  if (!os.name) return browser.name ?? 'Unknown browser';
  if (!browser.name) return `A device on ${os.name}`;
  return `${browser.name} on ${os.name}`;
}
