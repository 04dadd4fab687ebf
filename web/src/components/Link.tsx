// An in-app link: a real <a href> (so it can be opened in a new tab, copied, focused) that
// navigates without reloading the page.
import type { AnchorHTMLAttributes, MouseEvent } from 'react';
import { navigate, routePath, type Route } from '../app/route.ts';

interface Props extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: Route;
}

export function Link({ to, onClick, ...rest }: Props) {
  const go = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={routePath(to)} onClick={go} {...rest} />;
}
