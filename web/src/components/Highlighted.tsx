// Text with the given words (and words starting with them) marked, as search results show them.
function escape(term: string): string {
  return term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function Highlighted({ text, terms }: { text: string; terms: readonly string[] }) {
  const words = terms.filter((t) => t.trim()).map(escape);
  if (words.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(${words.join('|')})`, 'giu');
  // A long message is cut around its first match so the match is visible.
  const first = text.search(pattern);
  const start = first > 80 ? text.lastIndexOf(' ', first - 40) + 1 : 0;
  const shown = (start > 0 ? '…' : '') + text.slice(start, start + 300) + (text.length > start + 300 ? '…' : '');
  return (
    <>
      {shown.split(pattern).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}
    </>
  );
}
