// A load generator process (forked by the orchestrator, see GeneratorPool): answers the commands
// of commands.ts for its share of the simulated clients, and exits when its parent goes away.
import type { Command, Request, Response } from './commands.ts';
import { LoadGenerator } from './LoadGenerator.ts';
import { ServerKinds } from './servers.ts';

let generator: LoadGenerator | null = null;

function current(): LoadGenerator {
  if (!generator) throw new Error('init first');
  return generator;
}

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'init':
      generator = new LoadGenerator(ServerKinds[command.server].protocol, command.urls, command.clients);
      return null;
    case 'connect':
      return current().connect();
    case 'dropIdle':
      return current().dropIdle();
    case 'join':
      return current().join();
    case 'run':
      return current().run(command.phase, command.mode, command.mode === 'open' ? command.rate : 0, command.durationMs);
    case 'progress':
      return current().progress();
    case 'collect':
      return current().collect(command.phase);
    case 'records':
      return current().records();
    case 'close':
      generator?.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (request: Request) => {
  void handle(request.command).then(
    (result) => process.send?.({ id: request.id, ok: true, result } satisfies Response),
    (error: unknown) => process.send?.({ id: request.id, ok: false, error: (error as Error).stack ?? String(error) } satisfies Response),
  );
});
// The orchestrator is gone (finished, crashed or interrupted): so is the load.
process.on('disconnect', () => {
  generator?.close();
  process.exit(0);
});
