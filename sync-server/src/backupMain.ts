// `./outpost backup <dir>` and `./outpost restore <dir>`: the node's settings come from the
// environment and `.env`, as for `./outpost start`. A backup runs beside the live node; a restore
// into a stopped node with an empty DATA_DIR or database (docs/operations.md).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.ts';
import { BackupError, backupNode, backupSize, restoreNode } from './backup.ts';

const usage = 'usage: ./outpost backup <directory> | ./outpost restore <directory>';
const [command, target] = process.argv.slice(2);
if ((command !== 'backup' && command !== 'restore') || !target) {
  console.error(usage);
  process.exit(2);
}

const envFile = path.resolve('.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

try {
  const config = loadConfig();
  const dir = path.resolve(target);
  const started = Date.now();
  if (command === 'backup') {
    const manifest = await backupNode(config, dir);
    const mb = ((await backupSize(dir)) / 1024 ** 2).toFixed(1);
    console.log(`outpost: backed up the ${manifest.storage} node into ${dir} (${mb} MB, ${Date.now() - started} ms)`);
    if (manifest.signingKey) console.log('outpost: the backup holds the token signing key: keep it as secret as the data');
  } else {
    const manifest = await restoreNode(config, dir);
    console.log(`outpost: restored the backup of ${manifest.createdAt} into ${config.databaseUrl ? 'the database in DATABASE_URL' : config.dataDir}; start the node`);
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof BackupError) {
    console.error(`outpost: ${command} failed: ${error.message}`);
    process.exit(1);
  }
  console.error(`outpost: ${command} failed: ${(error as Error).message}`);
  process.exit(1);
}
