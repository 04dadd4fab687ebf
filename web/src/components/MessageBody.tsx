// A message's text as React elements from the parsed markup (never as HTML). Links open in a new
// tab without access to this page; long messages are collapsed behind "Show more".
import { useState, type ReactNode } from 'react';
import { parseBlocks, type MarkupBlock, type MarkupNode } from '../app/markup.ts';

const LONG_CHARS = 700;
const LONG_LINES = 12;

interface Props {
  body: string;
  /** Your username, to mark mentions of you. */
  me: string;
}

function inline(nodes: readonly MarkupNode[], me: string): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'bold':
        return <strong key={i}>{inline(node.children, me)}</strong>;
      case 'italic':
        return <em key={i}>{inline(node.children, me)}</em>;
      case 'strike':
        return <del key={i}>{inline(node.children, me)}</del>;
      case 'code':
        return <code key={i}>{node.text}</code>;
      case 'link':
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer">
            {inline(node.children, me)}
          </a>
        );
      case 'mention':
        return (
          <span key={i} className={`mention${node.username === me ? ' mention-me' : ''}`}>
            @{node.username}
          </span>
        );
    }
  });
}

function blocks(list: readonly MarkupBlock[], me: string): ReactNode[] {
  return list.map((block, i) => {
    switch (block.type) {
      case 'paragraph':
        return <p key={i}>{inline(block.children, me)}</p>;
      case 'codeBlock':
        return (
          <pre key={i} tabIndex={0}>
            <code>{block.text}</code>
          </pre>
        );
      case 'quote':
        return <blockquote key={i}>{blocks(block.children, me)}</blockquote>;
      case 'list': {
        const items = block.items.map((item, n) => <li key={n}>{inline(item, me)}</li>);
        return block.ordered ? (
          <ol key={i} start={block.start}>
            {items}
          </ol>
        ) : (
          <ul key={i}>{items}</ul>
        );
      }
    }
  });
}

export function MessageBody({ body, me }: Props) {
  const long = body.length > LONG_CHARS || body.split('\n').length > LONG_LINES;
  const [expanded, setExpanded] = useState(false);
  const collapsed = long && !expanded;
  return (
    <>
      <div className={`body${collapsed ? ' collapsed' : ''}`}>{blocks(parseBlocks(collapsed ? body.slice(0, LONG_CHARS * 2) : body), me)}</div>
      {long && (
        <button type="button" className="link show-more" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show less' : 'Show more'}
        </button>
      )}
    </>
  );
}
