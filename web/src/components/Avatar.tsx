// A round initial with a colour derived from the name, so people are told apart at a glance.
import type { CSSProperties } from 'react';

interface Props {
  name: string;
  group?: boolean;
  online?: boolean;
  size?: 'small' | 'normal';
}

function hue(name: string): number {
  let h = 0;
  for (const char of name) h = (h * 31 + char.codePointAt(0)!) % 360;
  return h;
}

export function Avatar({ name, group = false, online, size = 'normal' }: Props) {
  const initial = [...name.trim()][0]?.toUpperCase() ?? '?';
  return (
    <span className={`avatar ${size}${group ? ' group' : ''}`} style={{ '--avatar-hue': hue(name) } as CSSProperties} aria-hidden="true">
      {group ? '#' : initial}
      {online !== undefined && <span className={`presence ${online ? 'online' : 'offline'}`} />}
    </span>
  );
}
