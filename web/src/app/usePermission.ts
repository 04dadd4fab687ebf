// The browser's notification permission, kept current (it can change in the browser's settings).
import { useCallback, useEffect, useState } from 'react';
import { notificationsSupported } from './notifications.ts';

export type Permission = NotificationPermission | 'unsupported';

const current = (): Permission => (notificationsSupported() ? Notification.permission : 'unsupported');

export function usePermission(): { permission: Permission; request(): Promise<void> } {
  const [permission, setPermission] = useState<Permission>(current);
  useEffect(() => {
    const update = () => setPermission(current());
    document.addEventListener('visibilitychange', update);
    let status: PermissionStatus | undefined;
    navigator.permissions
      ?.query({ name: 'notifications' })
      .then((s) => {
        status = s;
        s.addEventListener('change', update);
      })
      .catch((error: unknown) => console.debug('outpost: cannot watch the notification permission', error));
    return () => {
      document.removeEventListener('visibilitychange', update);
      status?.removeEventListener('change', update);
    };
  }, []);
  // Asked only from a click: browsers ignore (or hold against the site) a request on load.
  const request = useCallback(async () => {
    if (!notificationsSupported()) return;
    setPermission(await Notification.requestPermission());
  }, []);
  return { permission, request };
}
