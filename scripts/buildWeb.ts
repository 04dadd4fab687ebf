// Builds the web app into web/dist with Vite. `--if-stale` builds only when web/dist is missing or
// older than the app's sources, so `npm start` (and `./outpost start`) serve a current app on a
// fresh clone without rebuilding on every start. Run: node scripts/buildWeb.ts [--if-stale]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const web = path.join(root, 'web');
const built = path.join(web, 'dist', 'index.html');

/** Newest modification time under `target` (a file or a folder). */
function newest(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce((max, entry) => Math.max(max, newest(path.join(target, entry))), stat.mtimeMs);
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'serviceWorkerPlugin.ts', 'precompressPlugin.ts'].map((entry) => path.join(web, entry));
// The app bundles the SDK, so a changed SDK is a changed app.
sources.push(path.join(root, 'client', 'src'), path.join(root, 'shared-schema', 'src'));

if (process.argv.includes('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) {
  process.exit(0);
}
console.error('outpost: building the web app (web/dist)…');
const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
process.exit(result.status ?? 1);
