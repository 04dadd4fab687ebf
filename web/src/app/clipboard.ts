// Copying text for the user. The Clipboard API needs a secure context (HTTPS or localhost) and
// the document's focus; where it is missing or refused the caller shows the text to copy by hand.
export async function copyText(text: string): Promise<boolean> {
  if (!navigator.clipboard) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    console.warn('outpost: the clipboard refused', error);
    return false;
  }
}
