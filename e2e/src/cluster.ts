// The production topology as plain processes: a throwaway Postgres and redis-server, several
// Outpost nodes (child processes that can be killed), and Debian's nginx in front of them
// upgrading WebSockets — what docker-compose.yml describes, for tests and for `./outpost cluster`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startPostgres, startRedis, startTcpProxy, type PostgresServer, type RedisServer, type TcpProxy } from '@outpost/storage/testing';
import { spawnNode, type SpawnedNode } from './harness.ts';

export interface Cluster {
  /** The load balancer: what clients use. */
  url: string;
  nodes: SpawnedNode[];
  postgres: PostgresServer;
  redis: RedisServer;
  databaseUrl: string;
  /** With `faultyLinks`: the proxies between the nodes and Postgres, and Redis, to stall or cut. */
  links: { postgres: TcpProxy; redis: TcpProxy } | null;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  segmentSize?: number;
  /** Port of the load balancer (0: a free one). */
  port?: number;
  /** Reuse a Postgres server (a fresh database is made in it). */
  postgres?: PostgresServer;
  /** Put Postgres and Redis each behind a TCP proxy the test can stall or cut (`Cluster.links`). */
  faultyLinks?: boolean;
  /** More settings for every node (e.g. short DATABASE_*_MS deadlines for stalls). */
  env?: Record<string, string>;
}

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

async function nginxBinary(): Promise<string> {
  const { access } = await import('node:fs/promises');
  for (const candidate of NGINX_CANDIDATES) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next place
    }
  }
  throw new Error('nginx not found: install the Debian package nginx-light (apt-get install -y nginx-light); .ci/run does');
}

/** nginx as one foreground process (no workers to switch users), balancing over `ports`. */
async function startNginx(ports: number[], listen: number): Promise<{ port: number; stop(): Promise<void> }> {
  const binary = await nginxBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-nginx-'));
  const port = listen || (await freePort());
  const conf = `
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream outpost_nodes {
    least_conn;
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
  }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 1m;
    # File uploads stream through to a node, which decides their size limit (deploy/nginx.conf).
    location ~ ^/api/conversations/[0-9a-f-]+/files/ {
      client_max_body_size 0;
      proxy_request_buffering off;
      proxy_pass http://outpost_nodes;
      proxy_http_version 1.1;
      proxy_set_header Connection '';
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_connect_timeout 2s;
    }
    location / {
      proxy_pass http://outpost_nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
    }
  }
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Ready once it answers on its port.
  for (let waited = 0; ; waited += 50) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (waited > 10_000) throw new Error(`nginx did not answer: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** Starts Postgres, Redis, `nodes` Outpost nodes sharing them and one signing key, and nginx. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const ownPostgres = !options.postgres;
  const postgres = options.postgres ?? (await startPostgres());
  const redis = await startRedis();
  const databaseUrl = await postgres.createDatabase();
  const links = options.faultyLinks
    ? { postgres: await startTcpProxy(hostAndPort(databaseUrl)), redis: await startTcpProxy(hostAndPort(redis.url)) }
    : null;
  const signingKey = randomBytes(32).toString('base64');
  const nodes: SpawnedNode[] = [];
  const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-cluster-'));
  for (let i = 0; i < (options.nodes ?? 3); i++) {
    // nginx, on loopback, forwards each client's address: rate limits are per client, not per nginx.
    nodes.push(
      await spawnNode({
        dataDir,
        databaseUrl: links ? links.postgres.urlThrough(databaseUrl) : databaseUrl,
        redisUrl: links ? links.redis.urlThrough(redis.url) : redis.url,
        signingKey,
        env: { TRUST_PROXY: 'loopback', ...options.env },
        ...(options.segmentSize ? { segmentSize: options.segmentSize } : {}),
      }),
    );
  }
  const nginx = await startNginx(
    nodes.map((node) => node.port),
    options.port ?? 0,
  );
  return {
    url: `http://127.0.0.1:${nginx.port}`,
    nodes,
    postgres,
    redis,
    databaseUrl,
    links,
    stop: async () => {
      await nginx.stop();
      for (const node of nodes) await node.kill();
      for (const link of links ? [links.postgres, links.redis] : []) await link.close();
      await redis.stop();
      if (ownPostgres) await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
