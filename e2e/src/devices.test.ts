// Devices through a real server: a user lists where they are signed in, signs one device out
// (its socket closes at once), or every other; changing the password signs the others out.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { listeningWebSocket } from './refusalLog.ts';

afterAll(teardown);

const connected = (client: OutpostClient) => client.status().get() === 'connected' && client.conversations().get() !== undefined;
const socketClosedSignedOut = (heard: { docName: string; reason: string }[]) => heard.some((r) => r.docName === '*' && r.reason.startsWith('socket closed with 4401'));

describe.each(backends)('devices on %s', (backend) => {
  it('lists devices, signs one out at once, then all others; its refresh token is dead', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const phoneWire = listeningWebSocket();
    const phone = await secondDevice(server.url, ada, { WebSocket: phoneWire.WebSocket });
    const tabletWire = listeningWebSocket();
    const tablet = await secondDevice(server.url, ada, { WebSocket: tabletWire.WebSocket });
    await until('both other devices are connected', () => connected(phone) && connected(tablet));

    const devices = await ada.account.devices();
    expect(devices.map((d) => d.id).sort()).toEqual([ada.deviceId, phone.deviceId, tablet.deviceId].sort());
    expect(devices.filter((d) => d.current).map((d) => d.id)).toEqual([ada.deviceId]);
    expect(devices.every((d) => d.address === '127.0.0.1' && d.name === 'node' && d.lastSeenAt >= d.createdAt)).toBe(true);
    expect((await phone.account.devices()).find((d) => d.current)?.id).toBe(phone.deviceId);

    await ada.account.signOutDevice(phone.deviceId);
    await until('the phone’s socket is closed as signed out', () => socketClosedSignedOut(phoneWire.refusals), () => phoneWire.refusals);
    await until('the phone knows it is signed out', () => phone.failures().some((f) => f.code === 'signedOut'));
    expect(socketClosedSignedOut(tabletWire.refusals)).toBe(false);
    const refreshed = await fetch(`${server.url}/api/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: phone.session.refreshToken }),
    });
    expect(refreshed.status).toBe(401);
    await expect(phone.account.devices()).rejects.toMatchObject({ kind: 'unauthorized' });
    expect((await ada.account.devices()).map((d) => d.id).sort()).toEqual([ada.deviceId, tablet.deviceId].sort());
    // Someone else's device, or one already out, is not found.
    await expect(ada.account.signOutDevice(phone.deviceId)).rejects.toMatchObject({ kind: 'notFound' });
    const bob = await signUp(server.url, 'bob');
    await expect(bob.account.signOutDevice(tablet.deviceId)).rejects.toMatchObject({ kind: 'notFound' });

    expect(await ada.account.signOutOtherDevices()).toBe(1);
    await until('the tablet’s socket is closed as signed out', () => socketClosedSignedOut(tabletWire.refusals), () => tabletWire.refusals);
    expect((await ada.account.devices()).map((d) => d.id)).toEqual([ada.deviceId]);
    expect(connected(ada)).toBe(true);

    const audited = await server.storage.audit.list({ kinds: ['device.signedOut'], limit: 10 });
    // A signed-out device that presents its refresh token again is audited as such (actor null).
    expect(audited.filter((e) => e.actor !== null).map((e) => [e.actor, e.subject, e.details.reason]).reverse()).toEqual([
      [ada.user.id, phone.deviceId, 'signedOutByOwner'],
      [ada.user.id, tablet.deviceId, 'signedOutByOwner'],
    ]);
    const replays = audited.filter((e) => e.actor === null);
    expect(replays.map((e) => e.details.reason).filter((r) => r !== 'refreshTokenReused')).toEqual([]);
    expect(replays.map((e) => e.subject).filter((d) => d !== phone.deviceId && d !== tablet.deviceId)).toEqual([]);
  });

  it('changing the password signs every other device out and keeps this one', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const wire = listeningWebSocket();
    const laptop = await secondDevice(server.url, ada, { WebSocket: wire.WebSocket });
    await until('the laptop is connected', () => connected(laptop));

    await expect(ada.account.changePassword('wrong password', 'a new long password')).rejects.toMatchObject({ kind: 'forbidden' });
    expect(await ada.account.changePassword('correct horse battery', 'a new long password')).toBe(1);
    await until('the laptop’s socket is closed as signed out', () => socketClosedSignedOut(wire.refusals), () => wire.refusals);
    expect((await ada.account.devices()).map((d) => d.id)).toEqual([ada.deviceId]);
    const group = await ada.createGroup('still here', []);
    expect(group).toBeTruthy();

    await expect(OutpostClient.login({ url: server.url }, { username: ada.user.username, password: 'correct horse battery' })).rejects.toMatchObject({ kind: 'unauthorized' });
    const again = await OutpostClient.login({ url: server.url }, { username: ada.user.username, password: 'a new long password' });
    expect(again.user.id).toBe(ada.user.id);
    again.close();
    const changed = await server.storage.audit.list({ kinds: ['password.changed'], limit: 5 });
    expect(changed.map((e) => [e.actor, e.details.devicesSignedOut])).toEqual([[ada.user.id, 1]]);
  });
});
