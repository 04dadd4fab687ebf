// Two-factor sign-in through a real server, with codes made as an authenticator app makes them:
// enrolment, sign-in without a code (refused, asked for), with a wrong one, with a right one (once),
// with a recovery code (once), other devices signed out on enrolment, and turning it off.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import type { UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { listeningWebSocket } from './refusalLog.ts';

afterAll(teardown);

const PASSWORD = 'correct horse battery';

/** The code an authenticator app shows for `secret`, `steps` periods from now. */
function codeFor(secret: string, steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });
}

async function loginRaw(url: string, body: Record<string, string>): Promise<{ status: number; body: { error?: { kind: string; details?: Record<string, unknown> } } }> {
  const response = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { error?: { kind: string; details?: Record<string, unknown> } } };
}

describe.each(backends)('two-factor sign-in on %s', (backend) => {
  it('enrols with a QR code, then signs in only with a fresh code or an unused recovery code', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const username = ada.user.username;
    const wire = listeningWebSocket();
    const laptop = await secondDevice(server.url, ada, { WebSocket: wire.WebSocket });
    await until('the laptop is connected', () => laptop.status().get() === 'connected');

    expect(await ada.account.twoFactor()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    const enrolment = await ada.account.beginTwoFactor();
    // (Sign-ins per user are limited too: this test stays within ten.)
    expect(enrolment.uri).toMatch(/^otpauth:\/\/totp\/Outpost:.+secret=/);
    expect(enrolment.uri).toContain(enrolment.secret);
    expect(Buffer.from(enrolment.qrCode.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toMatch(/^<svg/);
    // Until confirmed nothing changes: a sign-in needs no code yet.
    (await OutpostClient.login({ url: server.url }, { username, password: PASSWORD })).close();

    await expect(ada.account.confirmTwoFactor('000000' === codeFor(enrolment.secret) ? '111111' : '000000')).rejects.toMatchObject({ kind: 'invalidInput' });
    const confirmed = codeFor(enrolment.secret);
    const { recoveryCodes, signedOut } = await ada.account.confirmTwoFactor(confirmed);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(signedOut).toBe(2); // the laptop and the device signed in above
    await until('the laptop is signed out at once', () => wire.refusals.some((r) => r.docName === '*' && r.reason.startsWith('socket closed with 4401')));
    expect(await ada.account.twoFactor()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    await expect(ada.account.beginTwoFactor()).rejects.toMatchObject({ kind: 'conflict' });
    // The device that enrolled stays signed in, and keeps refreshing.
    expect((await ada.account.devices()).map((d) => d.id)).toEqual([ada.deviceId]);

    // Without a code: asked for one (only once the password is right).
    const without = await loginRaw(server.url, { username, password: PASSWORD });
    expect(without).toMatchObject({ status: 401, body: { error: { kind: 'unauthorized', details: { secondFactor: 'required' } } } });
    const wrongPassword = await loginRaw(server.url, { username, password: 'wrong password' });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.error?.details).toBeUndefined();

    // A code works once: the one that confirmed enrolment is spent; the next one (what the app
    // shows 30 s later, accepted early for clock drift) signs in, and is spent then too.
    await expect(OutpostClient.login({ url: server.url }, { username, password: PASSWORD, code: confirmed })).rejects.toMatchObject({ details: { secondFactor: 'invalid' } });
    const code = codeFor(enrolment.secret, 1);
    const phone = await OutpostClient.login({ url: server.url }, { username, password: PASSWORD, code });
    expect(phone.user.id).toBe(ada.user.id);
    await expect(OutpostClient.login({ url: server.url }, { username, password: PASSWORD, code })).rejects.toMatchObject({ details: { secondFactor: 'invalid' } });
    // The device that passed the second factor keeps refreshing its session.
    const refreshed = await fetch(`${server.url}/api/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: phone.session.refreshToken }),
    });
    expect(refreshed.status).toBe(200);
    phone.close();

    // A recovery code works once, typed any way.
    const recovery = recoveryCodes[3]!;
    const tablet = await OutpostClient.login({ url: server.url }, { username, password: PASSWORD, code: ` ${recovery.toUpperCase()} ` });
    tablet.close();
    await expect(OutpostClient.login({ url: server.url }, { username, password: PASSWORD, code: recovery })).rejects.toMatchObject({ details: { secondFactor: 'invalid' } });
    expect(await ada.account.twoFactor()).toEqual({ enabled: true, recoveryCodesLeft: 9 });

    // Turning it off takes the password and a code.
    await expect(ada.account.disableTwoFactor('wrong password', recoveryCodes[0]!)).rejects.toMatchObject({ kind: 'forbidden' });
    await ada.account.disableTwoFactor(PASSWORD, recoveryCodes[0]!);
    expect(await ada.account.twoFactor()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    (await OutpostClient.login({ url: server.url }, { username, password: PASSWORD })).close();

    const kinds = (await server.storage.audit.list({ involving: ada.user.id, limit: 100 })).map((e) => e.kind).reverse();
    expect(kinds.filter((k) => k.startsWith('secondFactor.'))).toEqual(['secondFactor.enabled', 'secondFactor.recoveryCodeUsed', 'secondFactor.recoveryCodeUsed', 'secondFactor.disabled']);
    const failures = (await server.storage.audit.list({ kinds: ['signIn.failed'], involving: ada.user.id, limit: 100 })).map((e) => e.details.reason).reverse();
    expect(failures).toEqual(['secondFactorMissing', 'password', 'secondFactorWrong', 'secondFactorWrong', 'secondFactorWrong']);
  });

  it('signs out at its next refresh a device whose session never passed the second factor', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const { secret } = await ada.account.beginTwoFactor();
    await ada.account.confirmTwoFactor(codeFor(secret));
    // A sign-in that raced the enrolment: its session began without the second factor.
    const token = randomBytes(32).toString('base64url');
    const deviceId = randomUUID();
    const now = Date.now();
    await server.storage.devices.addDevice({ id: deviceId, userId: ada.user.id as UserId, name: 'raced', address: '127.0.0.1', createdAt: now, lastSeenAt: now, secondFactorAt: null });
    await server.storage.accounts.createRefreshToken({
      id: randomUUID(), familyId: deviceId, userId: ada.user.id as UserId, tokenHash: createHash('sha256').update(token).digest('hex'), expiresAt: now + 60_000, createdAt: now,
    });
    const refresh = async () =>
      fetch(`${server.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: token }) });
    const refused = await refresh();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { kind: 'unauthorized', details: { secondFactor: 'required' } } });
    expect((await ada.account.devices()).map((d) => d.id)).toEqual([ada.deviceId]);
    // The device that enrolled keeps refreshing.
    const ok = await fetch(`${server.url}/api/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: ada.session.refreshToken }),
    });
    expect(ok.status).toBe(200);
    ada.close();
  });

  it('limits how many codes an account can be tried with', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const { secret } = await ada.account.beginTwoFactor();
    await ada.account.confirmTwoFactor(codeFor(secret));
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const wrong = String((Number(codeFor(secret)) + 500_000 + i) % 1_000_000).padStart(6, '0');
      statuses.push((await loginRaw(server.url, { username: ada.user.username, password: PASSWORD, code: wrong })).status);
    }
    expect(statuses.slice(0, 9).every((s) => s === 401)).toBe(true); // the enrolment used one try
    expect(statuses.at(-1)).toBe(429);
    // Rate limited even with the right code, until the window passes.
    expect((await loginRaw(server.url, { username: ada.user.username, password: PASSWORD, code: codeFor(secret, 1) })).status).toBe(429);
  });
});
