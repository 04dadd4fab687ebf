// Attachments in the web app, in real Chromium against a real server (SQLite) serving a fresh
// build: Ada attaches a plan and a PDF (picker, paste, drop), Bob sees the thumbnail at its
// aspect ratio, opens the viewer and downloads the originals (the PDF byte for byte, the PNG
// pixel for pixel). Offline, Ada attaches a photo: it shows pending with a thumbnail drawn on her
// device, is still there after an offline reload, and when the network returns it uploads once,
// is numbered, and Bob sees it and opens it full screen. Screenshots at 1280 and 390 px.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Locator, Page } from 'playwright-core';
import { gpsOf, gradientPng, pdf, photoWithGps } from '../fileFixtures.ts';
import { expectAccessible } from './axe.ts';
import { Person, shoot, until, webNode } from './ui.ts';

const web = webNode('files');
let ada: Person;
let bob: Person;

beforeAll(async () => {
  ada = await Person.register(web.browser, web.url, 'Ada');
  bob = await Person.register(web.browser, web.url, 'Bob');
  await ada.startDirect(bob);
  await bob.open('Ada');
}, 120_000);


/** Files into the composer through the hidden picker (what the paperclip and the phone's camera fill). */
async function pick(page: Page, files: { name: string; mimeType: string; bytes: Uint8Array }[]): Promise<void> {
  await page.getByTestId('file-picker').setInputFiles(files.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: Buffer.from(f.bytes) })));
}

/** A file pasted into the message field, as Ctrl+V of a copied image does. */
async function paste(page: Page, name: string, type: string, bytes: Uint8Array): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).evaluate(
    (field, [fileName, fileType, data]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data as number[])], fileName as string, { type: fileType as string }));
      field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    [name, type, [...bytes]] as const,
  );
}

/** A file dropped on the conversation, as from the desktop. */
async function drop(page: Page, name: string, type: string, bytes: Uint8Array): Promise<void> {
  await page.locator('section.conversation').evaluate(
    (target, [fileName, fileType, data]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data as number[])], fileName as string, { type: fileType as string }));
      for (const kind of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    [name, type, [...bytes]] as const,
  );
}

/** True once the thumbnail image inside `row` has loaded real pixels. */
async function thumbnailLoaded(row: Locator): Promise<boolean> {
  return row.locator('.thumbnail img.thumb').evaluateAll((images) => images.length > 0 && images.every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0));
}

async function box(locator: Locator): Promise<{ width: number; height: number }> {
  const found = await locator.boundingBox();
  if (!found) throw new Error('not on screen');
  return found;
}

describe('attachments in the web app', () => {
  it('attaches a plan and a PDF online; the other member sees the thumbnail, opens the viewer and downloads both originals', async () => {
    const plan = await gradientPng(600, 300);
    // The picker, paste and drop all add to the tray; one is removed again before sending.
    await pick(ada.page, [{ name: 'site plan.png', mimeType: 'image/png', bytes: plan }]);
    await paste(ada.page, 'report.pdf', 'application/pdf', pdf);
    await drop(ada.page, 'extra.txt', 'text/plain', new TextEncoder().encode('not this one\n'));
    const tray = ada.page.getByRole('list', { name: 'Files to send' });
    await tray.getByText('extra.txt').waitFor();
    await ada.page.getByRole('button', { name: 'Remove extra.txt' }).click();
    expect(await tray.locator('.tray-item').count()).toBe(2);
    await expectAccessible(ada.page, 'the composer with files');
    await ada.screenshots('attach-tray');
    await ada.type('Site plan and the pump report');

    const row = bob.message('Site plan and the pump report');
    await row.waitFor();
    await until('bob’s thumbnail loads', () => thumbnailLoaded(row));
    // Shown at the image's own ratio (2:1), the space held before it loaded.
    const shown = await box(row.locator('.thumbnail'));
    expect(Math.abs(shown.width / shown.height - 2)).toBeLessThan(0.05);
    await row.locator('.file-card', { hasText: 'report.pdf' }).getByText(`PDF · ${pdf.byteLength} B`).waitFor();

    const pdfDownload = bob.page.waitForEvent('download');
    await row.getByRole('button', { name: 'Download report.pdf' }).click();
    const savedPdf = await (await pdfDownload).path();
    expect(new Uint8Array(await readFile(savedPdf))).toEqual(pdf);

    await row.getByRole('button', { name: 'Open image site plan.png' }).click();
    const viewer = bob.page.locator('dialog.image-viewer');
    await viewer.locator('img.full').waitFor();
    await expectAccessible(bob.page, 'the image viewer');
    await bob.screenshots('image-viewer');
    const planDownload = bob.page.waitForEvent('download');
    await viewer.getByRole('button', { name: /^Download site plan.png/ }).click();
    const savedPlan = await readFile(await (await planDownload).path());
    const pixels = (bytes: Uint8Array | Buffer) => sharp(bytes).removeAlpha().raw().toBuffer();
    expect((await pixels(savedPlan)).equals(await pixels(plan))).toBe(true);
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    await expectAccessible(bob.page, 'a conversation with files');
    await bob.screenshots('attachments');
  });

  it('offline: the photo shows pending with a device-made thumbnail, survives a reload, uploads once when online, and bob opens it', async () => {
    await ada.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const uploads: string[] = [];
    ada.context.on('request', (request) => {
      if (request.method() === 'PUT' && request.url().includes('/files/')) uploads.push(request.url());
    });
    await ada.context.setOffline(true);
    await ada.page.getByTestId('connection-banner').getByText("You're offline").waitFor();

    const photo = await photoWithGps(1200, 800); // EXIF orientation 6: shown 800 × 1200
    await pick(ada.page, [{ name: 'pump.jpg', mimeType: 'image/jpeg', bytes: photo }]);
    await ada.type('Pump seal is leaking');
    const row = ada.message('Pump seal is leaking');
    await row.waitFor();
    await until('ada sees her own thumbnail, drawn on her device', () => thumbnailLoaded(row));
    await row.getByText(/Waiting for network to upload/).waitFor();
    expect(await row.getAttribute('class')).toContain('pending');
    // Counted with the rest of the unsent work (the banner; logging out would ask first).
    await ada.page.getByText(/1 change waiting to be sent/).waitFor();
    const portrait = await box(row.locator('.thumbnail'));
    expect(portrait.height).toBeGreaterThan(portrait.width);
    await ada.screenshots('attach-offline');

    await ada.page.reload();
    await row.waitFor();
    await until('after an offline reload the thumbnail is still there', () => thumbnailLoaded(row));
    await row.getByText(/Waiting for network to upload/).waitFor();
    expect(uploads).toEqual([]);

    await ada.context.setOffline(false);
    await until('ada’s message is numbered', async () => (await row.getAttribute('class'))?.includes('sent') ?? false, () => row.getAttribute('class'));
    expect(uploads.length).toBe(1);
    const bobs = bob.message('Pump seal is leaking');
    await bobs.waitFor();
    await until('bob’s thumbnail loads', () => thumbnailLoaded(bobs));
    const seen = await box(bobs.locator('.thumbnail'));
    expect(Math.abs(seen.width / seen.height - 800 / 1200)).toBeLessThan(0.05);

    // The viewer steps between the conversation's images with the arrow keys.
    await bobs.getByRole('button', { name: 'Open image pump.jpg' }).click();
    const viewer = bob.page.locator('dialog.image-viewer');
    await viewer.locator('img.full').waitFor();
    expect(await viewer.getAttribute('aria-label')).toBe('Image 2 of 2: pump.jpg');
    await bob.page.keyboard.press('ArrowLeft');
    await until('the previous image shows', async () => (await viewer.getAttribute('aria-label')) === 'Image 1 of 2: site plan.png');
    await bob.page.keyboard.press('ArrowRight');
    await until('back to the photo', async () => (await viewer.getAttribute('aria-label')) === 'Image 2 of 2: pump.jpg');
    const download = bob.page.waitForEvent('download');
    await viewer.getByRole('button', { name: /^Download pump.jpg/ }).click();
    expect(await gpsOf(await readFile(await (await download).path()))).toBeNull();
    await shoot(bob.page, 'image-viewer-photo');
    await bob.page.keyboard.press('Escape');

    // Shared images and files, from the conversation's header.
    await bob.page.getByRole('button', { name: 'Files', exact: true }).click();
    const panel = bob.page.getByRole('region', { name: 'Shared images and files' });
    await panel.getByRole('button', { name: 'Open image pump.jpg' }).waitFor();
    await panel.getByRole('button', { name: 'Download report.pdf' }).waitFor();
    // What the device keeps for offline use, and its budget.
    await panel.getByText(/On this device, for offline use: 2 thumbnails .* pictures and files you opened .* of 200.0 MB/).waitFor();
    await expectAccessible(bob.page, 'shared images and files');
    await bob.screenshots('shared-files');
    await bob.page.getByRole('button', { name: 'Close shared files' }).click();
  });
});
