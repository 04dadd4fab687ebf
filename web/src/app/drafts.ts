// Unsent text per conversation, kept across reloads. The user document has a `drafts` map the SDK
// does not expose yet; until it does, drafts stay on this device (localStorage).
const key = (userId: string, conversationId: string) => `outpost.draft.${userId}.${conversationId}`;

export function loadDraft(userId: string, conversationId: string): string {
  return localStorage.getItem(key(userId, conversationId)) ?? '';
}

export function saveDraft(userId: string, conversationId: string, text: string): void {
  if (text.trim() === '') localStorage.removeItem(key(userId, conversationId));
  else localStorage.setItem(key(userId, conversationId), text);
}

/** Drops every draft of `userId` (on logout). */
export function forgetDrafts(userId: string): void {
  for (const name of Object.keys(localStorage)) if (name.startsWith(`outpost.draft.${userId}.`)) localStorage.removeItem(name);
}
