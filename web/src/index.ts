// Placeholder so the web workspace is wired into lint and the import check; the web app (React + Vite PWA) arrives with issue 5.
export const WEB_APP_PENDING = true;
