// `./outpost cluster`: the many-node topology of docker-compose.yml as plain processes on this
// machine — a throwaway Postgres and redis-server, three Outpost nodes and nginx in front —
// so a person can try it (Ctrl-C stops and removes everything). NODES=n, PORT=p to change.
import { startCluster } from '../e2e/src/cluster.ts';

const cluster = await startCluster({ nodes: Number(process.env.NODES ?? 3), port: Number(process.env.PORT ?? 8080) });
console.log(`Outpost cluster: ${cluster.url} (nginx) → ${cluster.nodes.map((n) => n.url).join(', ')}`);
console.log(`  Postgres ${cluster.databaseUrl}, Redis ${cluster.redis.url}`);
console.log('  Ctrl-C stops every process and deletes their data.');
const stop = async () => {
  await cluster.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
