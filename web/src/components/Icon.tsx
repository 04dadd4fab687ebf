// The few icons the app draws itself (inline SVG, so they need no emoji font or icon file).
const FILLED = {
  search: 'M10.5 3a7.5 7.5 0 0 1 5.96 12.05l4.24 4.25-1.41 1.41-4.25-4.24A7.5 7.5 0 1 1 10.5 3Zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11Z',
  link: 'M10.6 13.4a1 1 0 0 1 0-1.4l3.5-3.5a1 1 0 1 1 1.4 1.4L12 13.4a1 1 0 0 1-1.4 0ZM8.5 11.3l-2.1 2.1a3 3 0 0 0 4.2 4.2l2.1-2.1 1.4 1.4-2.1 2.1a5 5 0 0 1-7.1-7.1l2.1-2.1 1.5 1.5Zm7-7a5 5 0 0 1 7.1 7.1l-2.1 2.1-1.4-1.4 2.1-2.1a3 3 0 0 0-4.2-4.2l-2.1 2.1-1.5-1.5 2.1-2.1Z',
} as const;

/** Drawn as 2 px lines. */
const STROKED = {
  bell: 'M6 16v-5a6 6 0 0 1 12 0v5l2 2H4l2-2Z M10 21a2 2 0 0 0 4 0',
  bellOff: 'M6 16v-5a6 6 0 0 1 12 0v5l2 2H4l2-2Z M10 21a2 2 0 0 0 4 0 M3 3l18 18',
  moon: 'M20 14.5A8.5 8.5 0 1 1 9.5 4a7 7 0 0 0 10.5 10.5Z',
  smile: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z M8.5 14.5a4.5 4.5 0 0 0 7 0 M9 9.5h.01 M15 9.5h.01',
  paperclip: 'M20.5 11.5l-8.3 8.3a5 5 0 0 1-7.1-7.1l8.5-8.5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-2.8-2.8l7.8-7.8',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5Z M14 3v5h5',
  image: 'M5 4h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1Z M4 16l5-5 4 4 2-2 5 5 M15.5 8.5h.01',
} as const;

export type IconName = keyof typeof FILLED | keyof typeof STROKED;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      {name in FILLED ? (
        <path d={FILLED[name as keyof typeof FILLED]} fill="currentColor" />
      ) : (
        <path d={STROKED[name as keyof typeof STROKED]} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
      )}
    </svg>
  );
}
