// Writing a message: a text field with a formatting toolbar and its shortcuts (see FORMATS),
// @mention suggestions from the members, reply and edit modes, the draft kept across reloads,
// the typing signal, and files to send with it (the paperclip, pasting, or dropping them on the
// conversation; on a phone the picker offers the camera), the text then being their caption.
// Enter sends, Shift+Enter starts a new line, Escape closes the suggestions or cancels a mode.
// (Ctrl/⌘+K belongs to the conversation switcher.)
import { useEffect, useId, useMemo, useRef, useState, type ClipboardEvent, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { formatSize } from '../app/files.ts';
import type { MessageItem } from '@outpost/client';
import { loadDraft, saveDraft } from '../app/drafts.ts';
import { plainText, prefixLines, wrapSelection } from '../app/markup.ts';
import { nameOf, type Person } from '../app/people.ts';
import { commandKey, MOD } from '../app/keys.ts';
import { Icon } from './Icon.tsx';

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: MessageItem } | { kind: 'edit'; message: MessageItem };

interface Props {
  userId: string;
  conversationId: string;
  mode: ComposerMode;
  onCancelMode(): void;
  /** Sends (or saves an edit) with `files`; returns an error message to show, or null. */
  onSubmit(text: string, files: readonly File[]): string | null;
  /** Files chosen to go with the next message (kept by the screen, which also takes dropped ones). */
  files: readonly File[];
  onFiles(files: readonly File[]): void;
  onTyping(typing: boolean): void;
  /** Asks to edit your latest message (ArrowUp in an empty field). */
  onEditLast(): void;
  mentionable: readonly Person[];
  disabled?: string | undefined;
  /** The text field, for the screen to focus (on open, on Escape from the messages). */
  fieldRef: RefObject<HTMLTextAreaElement | null>;
}

interface Format {
  label: string;
  icon: ReactNode;
  /** The shortcut's key, with the command key (and Shift when `shift`). */
  key: string;
  shift?: boolean;
  /** Wraps the selection in before/after, or starts each selected line with `prefix`. */
  before?: string;
  after?: string;
  prefix?: string;
  placeholder?: string;
}

const FORMATS: Record<string, Format> = {
  bold: { label: 'Bold', icon: 'B', key: 'b', before: '**', after: '**' },
  italic: { label: 'Italic', icon: 'I', key: 'i', before: '_', after: '_' },
  strike: { label: 'Strikethrough', icon: 'S', key: 'x', shift: true, before: '~~', after: '~~' },
  code: { label: 'Inline code', icon: '</>', key: 'e', before: '`', after: '`' },
  codeBlock: { label: 'Code block', icon: '{ }', key: 'e', shift: true, before: '```\n', after: '\n```', placeholder: 'code' },
  quote: { label: 'Quote', icon: '❝', key: '9', shift: true, prefix: '> ' },
  bullets: { label: 'Bulleted list', icon: '•', key: '8', shift: true, prefix: '- ' },
  numbers: { label: 'Numbered list', icon: '1.', key: '7', shift: true, prefix: '1. ' },
  link: { label: 'Link', icon: <Icon name="link" />, key: 'u', shift: true, before: '[', after: '](https://)', placeholder: 'link text' },
};

const hint = (f: Format) => `${f.label} (${MOD}${f.shift ? 'Shift+' : ''}${f.key.toUpperCase()})`;

/** One file waiting in the composer: its name, size and (for an image) a small preview. */
function TrayItem({ file, onRemove }: { file: File; onRemove(): void }) {
  const url = useMemo(() => (file.type.startsWith('image/') ? URL.createObjectURL(file) : null), [file]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  return (
    <li className="tray-item">
      {url ? <img src={url} alt="" /> : <Icon name="file" />}
      <span className="tray-name" title={file.name}>
        {file.name}
      </span>
      <span className="muted">{formatSize(file.size)}</span>
      <button type="button" className="icon-button small" aria-label={`Remove ${file.name}`} onClick={onRemove}>
        ✕
      </button>
    </li>
  );
}

export function Composer({ userId, conversationId, mode, onCancelMode, onSubmit, files, onFiles, onTyping, onEditLast, mentionable, disabled, fieldRef: field }: Props) {
  const picker = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(() => loadDraft(userId, conversationId));
  const [error, setError] = useState<string | null>(null);
  const [caret, setCaret] = useState(0);
  const [choice, setChoice] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const listId = useId();
  const savedDraft = useRef(text);

  // Entering edit mode puts the message's text in the field; leaving it brings the draft back.
  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.body);
    else setText(savedDraft.current);
    if (mode.kind !== 'new') field.current?.focus();
  }, [mode, field]);

  useEffect(() => () => clearTimeout(typingTimer.current), []);

  // @mention suggestions for the word being typed at the caret.
  const before = text.slice(0, caret);
  const mentionMatch = /(?:^|\s)@([a-z0-9_.-]*)$/i.exec(before);
  const partial = mentionMatch?.[1]?.toLowerCase();
  const suggestions =
    partial === undefined
      ? []
      : mentionable
          .filter((p) => p.username && (p.username.startsWith(partial) || p.displayName.toLowerCase().startsWith(partial)))
          .slice(0, 6);
  // Escape closes the suggestions until the caret moves to another word.
  const wordStart = mentionMatch ? caret - (mentionMatch[1]?.length ?? 0) : null;
  const open = suggestions.length > 0 && dismissed !== wordStart;

  const update = (next: string, selection?: { start: number; end: number }) => {
    setText(next);
    setError(null);
    if (mode.kind !== 'edit') {
      savedDraft.current = next;
      saveDraft(userId, conversationId, next);
    }
    clearTimeout(typingTimer.current);
    if (next.trim() && mode.kind !== 'edit') {
      onTyping(true);
      typingTimer.current = setTimeout(() => onTyping(false), 3000);
    } else onTyping(false);
    if (selection) {
      requestAnimationFrame(() => {
        field.current?.setSelectionRange(selection.start, selection.end);
        setCaret(selection.end);
      });
    }
  };

  const format = (f: Format) => {
    const el = field.current;
    if (!el) return;
    const result = f.prefix
      ? prefixLines(text, el.selectionStart, el.selectionEnd, f.prefix)
      : wrapSelection(text, el.selectionStart, el.selectionEnd, f.before ?? '', f.after ?? '', f.placeholder ?? 'text');
    update(result.text, result);
    el.focus();
  };

  const pick = (person: Person) => {
    if (!mentionMatch || !person.username) return;
    const start = caret - (mentionMatch[1]?.length ?? 0);
    const next = `${text.slice(0, start)}${person.username} ${text.slice(caret)}`;
    update(next, { start: start + person.username.length + 1, end: start + person.username.length + 1 });
    setChoice(0);
  };

  const submit = () => {
    if ((!text.trim() && files.length === 0) || disabled) return;
    const problem = onSubmit(text, mode.kind === 'edit' ? [] : files);
    if (problem) {
      setError(problem);
      return;
    }
    clearTimeout(typingTimer.current);
    if (mode.kind === 'edit') {
      setText(savedDraft.current);
    } else {
      savedDraft.current = '';
      saveDraft(userId, conversationId, '');
      setText('');
      onFiles([]);
    }
    setCaret(0);
  };

  const addFiles = (added: readonly File[]) => {
    if (added.length === 0) return;
    setError(null);
    onFiles([...files, ...added]);
    field.current?.focus();
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...event.clipboardData.files];
    if (pasted.length === 0 || mode.kind === 'edit') return;
    event.preventDefault();
    addFiles(pasted);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        setChoice((c) => (c + (event.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        const chosen = suggestions[Math.min(choice, suggestions.length - 1)];
        if (chosen) pick(chosen);
        return;
      }
    }
    if (open && event.key === 'Escape') {
      event.preventDefault();
      setDismissed(wordStart);
      return;
    }
    if (commandKey(event)) {
      // With Shift, event.key is the shifted character ("(" for 9): match the physical key.
      const pressed = event.code.startsWith('Digit') ? event.code.slice(5) : event.key.toLowerCase();
      const f = Object.values(FORMATS).find((candidate) => candidate.key === pressed && !!candidate.shift === event.shiftKey);
      if (f) {
        event.preventDefault();
        format(f);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && mode.kind !== 'new') {
      event.preventDefault();
      onCancelMode();
    } else if (event.key === 'ArrowUp' && text === '' && mode.kind === 'new') {
      event.preventDefault();
      onEditLast();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      {mode.kind !== 'new' && (
        <div className="composer-mode">
          <span>
            {mode.kind === 'reply' ? (
              <>
                Replying to <strong>{mode.to.mine ? 'yourself' : nameOf(mode.to.author)}</strong>: <span className="muted">{plainText(mode.to.body).slice(0, 100)}</span>
              </>
            ) : (
              <strong>Editing your message</strong>
            )}
          </span>
          <button type="button" className="icon-button small" aria-label={mode.kind === 'reply' ? 'Cancel reply' : 'Cancel editing'} onClick={onCancelMode}>
            ✕
          </button>
        </div>
      )}
      <div className="toolbar" role="toolbar" aria-label="Formatting">
        {Object.entries(FORMATS).map(([name, f]) => (
          <button
            key={name}
            type="button"
            className={`format ${name}`}
            title={hint(f)}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => format(f)}
            disabled={!!disabled}
          >
            {/* Named by the hidden words, not the symbol (which a screen reader would spell out). */}
            <span aria-hidden="true">{f.icon}</span>
            <span className="visually-hidden">{hint(f)}</span>
          </button>
        ))}
      </div>
      {files.length > 0 && (
        <ul className="attach-tray" aria-label="Files to send">
          {files.map((file, i) => (
            <TrayItem key={`${file.name}-${file.size}-${file.lastModified}-${i}`} file={file} onRemove={() => onFiles(files.filter((_, j) => j !== i))} />
          ))}
        </ul>
      )}
      <div className="composer-row">
        <input
          ref={picker}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-picker"
          onChange={(e) => {
            addFiles([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        <button
          type="button"
          className="icon-button attach"
          aria-label="Attach files"
          title="Attach files (or paste or drop them)"
          disabled={!!disabled || mode.kind === 'edit'}
          onClick={() => picker.current?.click()}
        >
          <Icon name="paperclip" />
        </button>
        <textarea
          ref={field}
          className="composer-field"
          aria-label={mode.kind === 'edit' ? 'Edit message' : 'Message'}
          placeholder={disabled ?? (files.length > 0 ? 'Add a caption…' : 'Write a message…')}
          rows={Math.min(8, Math.max(1, text.split('\n').length))}
          value={text}
          disabled={!!disabled}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open ? `${listId}-${Math.min(choice, suggestions.length - 1)}` : undefined}
          onChange={(e) => {
            setCaret(e.target.selectionStart);
            update(e.target.value);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => onTyping(false)}
        />
        <button type="submit" className="primary send" disabled={(!text.trim() && files.length === 0) || !!disabled}>
          {mode.kind === 'edit' ? 'Save' : 'Send'}
        </button>
      </div>
      <ul id={listId} role="listbox" className={`mentions-list${open ? '' : ' hidden'}`} aria-label="People to mention">
        {suggestions.map((person, i) => (
          <li
            key={person.id}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === choice}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(person);
            }}
          >
            <strong>{person.displayName}</strong> <span className="muted">@{person.username}</span>
          </li>
        ))}
      </ul>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
