// A message's text as React elements from the parsed markup (never as HTML). Links open in a new
// tab without access to this page; long messages are collapsed behind "Show more".
import { useState, type ReactNode } from 'react';
import { parseMarkup, type MarkupNode } from '../app/markup.ts';

const LONG_CHARS = 700;
const LONG_LINES = 12;

interface Props {
  body: string;
  /** Your username, to mark mentions of you. */
  me: string;
}

function render(nodes: MarkupNode[], me: string): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'bold':
        return <strong key={i}>{render(node.children, me)}</strong>;
      case 'italic':
        return <em key={i}>{render(node.children, me)}</em>;
      case 'code':
        return <code key={i}>{node.text}</code>;
      case 'link':
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer">
            {render(node.children, me)}
          </a>
        );
      case 'mention':
        return (
          <span key={i} className={`mention${node.username === me ? ' me' : ''}`}>
            @{node.username}
          </span>
        );
    }
  });
}

export function MessageBody({ body, me }: Props) {
  const long = body.length > LONG_CHARS || body.split('\n').length > LONG_LINES;
  const [expanded, setExpanded] = useState(false);
  const collapsed = long && !expanded;
  return (
    <>
      <div className={`body${collapsed ? ' collapsed' : ''}`}>{render(parseMarkup(collapsed ? body.slice(0, LONG_CHARS * 2) : body), me)}</div>
      {long && (
        <button type="button" className="link show-more" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show less' : 'Show more'}
        </button>
      )}
    </>
  );
}
