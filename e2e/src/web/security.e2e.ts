// Account security and administration in real Chromium against a real server: two-factor
// enrolment (QR, key, first code, recovery codes once), the sign-in code step, the device list
// with signing a device out (that browser returns to sign-in), and the administrator
// deactivating someone, whose browser is signed out at once. Screenshots land in
// test-results/screenshots/; axe-core finds no serious or critical violation on these screens.
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import { webNode, Person, shoot, until } from './ui.ts';

const web = webNode('security');

const codeFor = (secret: string, steps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });

describe('account security and administration in the browser', () => {
  it('two-factor enrolment and sign-in, signing a device out, an administrator deactivating someone', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada'); // the first account: administrator
    const bob = await Person.register(web.browser, web.url, 'Bob');

    // Ada turns on two-factor sign-in.
    await ada.page.getByRole('button', { name: 'Account' }).click();
    await ada.page.getByRole('heading', { name: 'Account security' }).waitFor();
    await ada.page.getByRole('list', { name: 'Signed-in devices' }).getByText('This device').waitFor();
    await ada.page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await ada.page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const secret = ((await ada.page.locator('.secret').first().textContent()) ?? '').trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await shoot(ada.page, 'account-two-factor-enrol');
    await expectAccessible(ada.page, 'account screen, enrolling');
    await ada.page.getByLabel('Code from the app').fill(codeFor(secret));
    await ada.page.getByRole('button', { name: 'Turn on', exact: true }).click();
    const codes = ada.page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await until('ten recovery codes show', async () => (await codes.count()) === 10);
    await shoot(ada.page, 'account-recovery-codes');
    await ada.page.getByRole('button', { name: 'I have saved them' }).click();
    await ada.page.getByText(/^On\. 10 recovery codes left\./).waitFor();

    // Ada signs in on a second browser: after the password, the code step.
    const laptop = await web.browser.newContext({ baseURL: web.url, viewport: { width: 1280, height: 800 } });
    const second = await laptop.newPage();
    await second.goto('/');
    await second.getByLabel('Username').fill(ada.username);
    await second.getByLabel('Password').fill('correct horse battery');
    await second.getByRole('button', { name: 'Sign in' }).click();
    await second.getByLabel('Authentication code').waitFor();
    await shoot(second, 'sign-in-code-step');
    await expectAccessible(second, 'sign-in code step');
    await second.getByLabel('Authentication code').fill(codeFor(secret, 1));
    await second.getByRole('button', { name: 'Sign in' }).click();
    await second.getByRole('button', { name: 'New message' }).waitFor();

    // Ada's first browser lists both devices and signs the laptop out; the laptop shows sign-in.
    await ada.page.reload();
    const devices = ada.page.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem');
    await until('two devices are listed', async () => (await devices.count()) === 2);
    expect(await devices.first().textContent()).toMatch(/Chrome|Chromium/);
    await shoot(ada.page, 'account-devices');
    await ada.page.getByRole('button', { name: /^Sign out .* \(last seen/ }).click();
    await ada.page.getByRole('status').getByText(/is signed out\.$/).waitFor();
    await second.getByText(/This device was signed out/).waitFor({ timeout: 30_000 });
    await laptop.close();

    // The administrator deactivates Bob: his browser is signed out at once.
    await ada.page.getByRole('link', { name: 'Server administration' }).click();
    await ada.page.getByRole('heading', { name: 'Server administration' }).waitFor();
    await ada.page.getByRole('button', { name: `Deactivate ${bob.username}` }).click();
    await ada.page.getByText(new RegExp(`@${bob.username} is deactivated`)).waitFor();
    await bob.page.getByText(/This device was signed out/).waitFor({ timeout: 30_000 });
    await bob.page.getByLabel('Username').fill(bob.username);
    await bob.page.getByLabel('Password').fill('correct horse battery');
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.page.getByText(/this account is deactivated/).waitFor();

    // The audit log on the admin screen, filtered to Bob.
    await ada.page.getByRole('button', { name: `Events of ${bob.username}` }).click();
    const rows = ada.page.getByRole('table', { name: 'Audit events, newest first' }).getByRole('row');
    await until('bob’s events show, newest first', async () => /signIn\.failed/.test((await rows.nth(1).textContent()) ?? ''));
    const kinds = await rows.evaluateAll((all) => all.slice(1).map((row) => row.children[1]?.textContent ?? ''));
    expect(kinds.slice(0, 2)).toEqual(['signIn.failed', 'user.deactivated']);
    await shoot(ada.page, 'admin-screen');
    await expectAccessible(ada.page, 'server administration');
  });
});
