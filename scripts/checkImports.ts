// Enforces STYLE.md's import graph between workspaces, which TypeScript and npm cannot: with
// hoisted workspaces every package can reach every other, so only this check keeps them apart.
// Run: node scripts/checkImports.ts (part of `npm run lint`). Exits 1 naming each bad import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SCOPE = '@outpost/';

/**
 * Which workspaces each workspace's source may import, by folder name; tests included, so a test
 * that needs a real server next to a client belongs in e2e/, not in client/ or sync-server/.
 */
const ALLOWED = {
  'shared-schema': [],
  storage: ['shared-schema'],
  'sync-server': ['shared-schema', 'storage'],
  client: ['shared-schema'],
  web: ['client', 'shared-schema'],
  // bench and e2e drive the system from outside: any package, through public entry points only.
  bench: ['shared-schema', 'storage', 'sync-server', 'client'],
  e2e: ['shared-schema', 'storage', 'sync-server', 'client'],
} as const satisfies Record<string, readonly string[]>;

const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage']);

type Workspace = { folder: string; name: string; exportKeys: readonly string[] };
type Problem = { file: string; line: number; specifier?: string; reason: string };

const root = path.resolve(import.meta.dirname, '..');

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function loadWorkspaces(): Workspace[] {
  const folders = readJson(path.join(root, 'package.json')).workspaces;
  if (!Array.isArray(folders)) throw new Error('package.json has no "workspaces" array');
  return folders.map((folder: string) => {
    const pkg = readJson(path.join(root, folder, 'package.json'));
    const exp = pkg.exports;
    const exportKeys =
      typeof exp === 'string' ? ['.'] : exp && typeof exp === 'object' ? Object.keys(exp) : ['.'];
    return { folder, name: String(pkg.name), exportKeys };
  });
}

function listSourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    // A workspace without src/ yet has nothing to check; anything else is a real failure.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (!SKIP_DIRS.has(entry)) files.push(...listSourceFiles(full));
    } else if (SOURCE_FILE.test(entry) && !entry.endsWith('.d.ts')) {
      files.push(full);
    }
  }
  return files;
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Returns why `specifier`, imported from `file` in workspace `from`, breaks the rules, or null. */
function checkSpecifier(
  file: string,
  specifier: string,
  from: Workspace,
  byName: Map<string, Workspace>,
): string | null {
  if (specifier.startsWith('.')) {
    const target = path.resolve(path.dirname(file), specifier);
    const inside = path.relative(path.join(root, from.folder), target);
    if (inside.startsWith('..') || path.isAbsolute(inside)) {
      return `relative import leaves ${from.folder}/; import the other package by name (${SCOPE}…)`;
    }
    return null;
  }
  if (specifier.startsWith('/') || specifier.startsWith('file:')) {
    return 'absolute path import; use a relative import inside the package or a package name';
  }
  if (!specifier.startsWith(SCOPE)) return null; // a third-party package or a node: builtin

  const [scope, bare, ...rest] = specifier.split('/');
  const target = byName.get(`${scope}/${bare}`);
  if (!target) return `no workspace is named ${scope}/${bare}`;
  if (target.folder === from.folder) {
    return `${from.folder} imports itself by package name; use a relative import`;
  }
  const subpath = rest.length === 0 ? '.' : `./${rest.join('/')}`;
  if (!target.exportKeys.includes(subpath)) {
    return `'${subpath}' is not an entry point in ${target.folder}/package.json "exports" (${target.exportKeys.join(', ')})`;
  }
  const allowed: readonly string[] = ALLOWED[from.folder as keyof typeof ALLOWED];
  if (allowed.includes(target.folder)) return null;
  const list = allowed.length > 0 ? allowed.join(', ') : 'no other workspace';
  return `${from.folder} may not import ${target.folder} (allowed: ${list}; see STYLE.md)`;
}

function main(): number {
  const workspaces = loadWorkspaces();
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const problems: Problem[] = [];
  let fileCount = 0;

  for (const ws of workspaces) {
    if (!(ws.folder in ALLOWED)) {
      problems.push({
        file: `${ws.folder}/package.json`,
        line: 1,
        reason: `new workspace ${ws.folder}: add it to ALLOWED in scripts/checkImports.ts`,
      });
      continue;
    }
    for (const file of listSourceFiles(path.join(root, ws.folder, 'src'))) {
      fileCount++;
      const text = readFileSync(file, 'utf8');
      // preProcessFile sees static, type-only, re-export, dynamic and require imports, and
      // skips comments and strings; type-only imports count too (they are still a dependency).
      for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
        const reason = checkSpecifier(file, ref.fileName, ws, byName);
        if (reason) {
          problems.push({
            file: path.relative(root, file),
            line: lineOf(text, ref.pos),
            specifier: ref.fileName,
            reason,
          });
        }
      }
    }
  }

  for (const p of problems) {
    const what = p.specifier === undefined ? '' : ` import '${p.specifier}':`;
    console.error(`${p.file}:${p.line}:${what} ${p.reason}`);
  }
  if (problems.length > 0) {
    console.error(`checkImports: ${problems.length} forbidden import(s) in ${fileCount} files`);
    return 1;
  }
  console.log(`checkImports: ${fileCount} files in ${workspaces.length} workspaces follow the import graph`);
  return 0;
}

process.exitCode = main();
