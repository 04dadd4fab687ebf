// The three servers the load bench compares, each with the process that runs it, its protocol for
// the generators and its setup and checks for the orchestrator.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hocuspocusProtocol, hocuspocusSetup } from './hocuspocusProtocol.ts';
import { outpostProtocol, outpostSetup } from './outpostProtocol.ts';
import type { LoadProtocol, ServerSetup } from './protocol.ts';
import { rawRelayProtocol, rawRelaySetup } from './rawRelayProtocol.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServerKind {
  label: string;
  /** The script a child process runs, and its environment besides PORT. */
  script: string;
  env(dataDir: string, options: { segmentSize: number | null }): Record<string, string>;
  protocol: LoadProtocol;
  setup: ServerSetup;
}

export const ServerKinds = {
  relay: {
    label: 'raw ws relay',
    script: path.join(repoRoot, 'bench/src/baselines/rawRelay.ts'),
    env: () => ({}),
    protocol: rawRelayProtocol,
    setup: rawRelaySetup,
  },
  hocuspocus: {
    label: 'plain Hocuspocus 4',
    script: path.join(repoRoot, 'bench/src/baselines/plainHocuspocus.ts'),
    env: () => ({}),
    protocol: hocuspocusProtocol,
    setup: hocuspocusSetup,
  },
  outpost: {
    label: 'Outpost',
    script: path.join(repoRoot, 'sync-server/src/main.ts'),
    env: (dataDir, { segmentSize }) => ({
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Tokens outlive the run, so a reconnect never needs a refresh; sign-ups all come from 127.0.0.1.
      ACCESS_TOKEN_TTL: '86400',
      AUTH_ATTEMPTS_PER_ADDRESS: '1000000',
      ...(segmentSize ? { SEGMENT_SIZE: String(segmentSize) } : {}),
    }),
    protocol: outpostProtocol,
    setup: outpostSetup,
  },
} as const satisfies Record<string, ServerKind>;

export type ServerKey = keyof typeof ServerKinds;
export const serverKeys = Object.keys(ServerKinds) as ServerKey[];
