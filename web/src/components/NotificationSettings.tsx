// Notifications for all your devices: whether this browser may show them, do not disturb for a
// while, and the sound. The last two live in your user document, so every device agrees.
import { useEffect, useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { usePermission } from '../app/usePermission.ts';
import { playChime } from '../app/chime.ts';
import { fullTime, now as clockNow } from '../app/time.ts';
import { Dialog } from './Dialog.tsx';

const HOUR = 3_600_000;

/** Tomorrow at 08:00, local time. */
function tomorrowMorning(now: number): number {
  const d = new Date(now);
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return d.getTime();
}

/** Re-renders when `at` passes, so "until 14:00" clears itself. */
export function useNow(until: number): number {
  const [now, setNow] = useState(clockNow);
  useEffect(() => {
    if (until <= now) return;
    const timer = setTimeout(() => setNow(clockNow()), Math.min(until - now + 50, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [until, now]);
  return now;
}

export function PermissionNote() {
  const { permission, request } = usePermission();
  switch (permission) {
    case 'granted':
      return <p className="muted">This browser shows Outpost's notifications.</p>;
    case 'denied':
      return <p className="muted">Notifications are blocked for Outpost in this browser's site settings; allow them there to be notified.</p>;
    case 'unsupported':
      return <p className="muted">This browser cannot show notifications.</p>;
    case 'default':
      return (
        <p>
          <button type="button" className="primary" onClick={() => void request()}>
            Turn on notifications in this browser
          </button>
        </p>
      );
  }
}

export function NotificationSettings({ onClose }: { onClose(): void }) {
  const client = useClient();
  const { dndUntil, sound } = useLive(client.preferences(), { dndUntil: 0, sound: false });
  const now = useNow(dndUntil);
  const dnd = dndUntil > now;
  const snooze = (until: number) => client.setPreference('dndUntil', until);

  return (
    <Dialog title="Notifications" onClose={onClose}>
      <div className="stack settings">
        <PermissionNote />
        <p className="muted">You are notified of direct messages and of mentions of you while Outpost is in the background. Each conversation's details can change that, or mute it.</p>
        <h3>Do not disturb</h3>
        {dnd ? (
          <p className="dnd-state">
            On until {fullTime(dndUntil)}.{' '}
            <button type="button" className="small" onClick={() => snooze(0)}>
              Turn off
            </button>
          </p>
        ) : (
          <div className="choices" role="group" aria-label="Pause notifications">
            <button type="button" className="small" onClick={() => snooze(now + HOUR)}>
              For 1 hour
            </button>
            <button type="button" className="small" onClick={() => snooze(now + 8 * HOUR)}>
              For 8 hours
            </button>
            <button type="button" className="small" onClick={() => snooze(tomorrowMorning(now))}>
              Until tomorrow 08:00
            </button>
          </div>
        )}
        <h3>Sound</h3>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={sound}
            onChange={(e) => {
              client.setPreference('sound', e.target.checked);
              if (e.target.checked) playChime();
            }}
          />
          Play a sound with notifications
        </label>
        <p className="muted small-print">These settings apply on all your devices.</p>
      </div>
    </Dialog>
  );
}
