// Entry point of `npm run bench`: runs each scenario and prints its measurements beside baselines
// measured in the same run.
//   npm run bench                      the write path's validation cost, then cold start from a replica
//                                      (MESSAGES=n changes its size; BROWSER=0 skips Chromium)
//   npm run bench -- validation        only the validation cost
//   npm run bench -- files             only what attached files cost (re-encoding, uploads)
//   npm run bench -- coldstart         only the cold start from a replica (MESSAGES, BROWSER as above;
//                                      CPU_PROF=file writes Chromium's profiles of it, CACHE=0 loads
//                                      the page without the browser's cache)
//   npm run bench -- server [--quick]  server load: raw relay, plain Hocuspocus and Outpost, then Outpost
//                                      on one node and on two over Postgres and Redis (docs/bench.md);
//                                      --nodes-only runs only the latter, --no-nodes only the former,
//                                      --only=outpost (or relay, hocuspocus) only those columns;
//                                      CPU_PROF=dir writes each server's CPU profile there;
//                                      HEAP_SNAPSHOT=dir a heap snapshot before and after the idle
//                                      clients connect, and prints the live heap per connection;
//                                      ALLOC_PROF=dir what each server's main thread allocates in
//                                      the steady phase (collected or not), per message, by function
//   npm run bench -- webstart          only the web app's cold start in Chromium (its boot screen; MESSAGES,
//                                      TRACE=file as in coldstart)
//   npm run bench -- search            server search p50/p95 over 1,000,000 messages on SQLite and Postgres
//                                      (MESSAGES=n changes the size; BACKENDS=sqlite or postgres runs one)
//   npm run bench -- memory            client memory, 100 conversations × 10,000 messages
//                                      (CONVERSATIONS=n, PER_CONVERSATION=n change it)
//   npm run bench -- commit            the SQLite commit of new messages against a raw insert (ROUNDS=n)
import { browserColdStart } from './scenarios/browserColdStart.ts';
import { clientMemory } from './scenarios/clientMemory.ts';
import { commitCost } from './scenarios/commitCost.ts';
import { fileUploads } from './scenarios/fileUploads.ts';
import { replicaColdStart } from './scenarios/replicaColdStart.ts';
import { webColdStart } from './scenarios/webColdStart.ts';
import { serverLoad } from './scenarios/serverLoad.ts';
import { serverSearch } from './scenarios/serverSearch.ts';
import { plans } from './scenarios/serverLoadPlan.ts';
import { validationCost } from './scenarios/validationCost.ts';

const [scenario, ...flags] = process.argv.slice(2);

if (scenario === 'server') {
  // Ctrl-C and kill end the run through process.exit, which kills every child (load/children.ts).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const sized = plans[flags.includes('--tiny') ? 'tiny' : flags.includes('--quick') ? 'quick' : 'full'];
  // --only=outpost,hocuspocus runs only those single-server columns (profiling one of them).
  const only = flags.find((flag) => flag.startsWith('--only='))?.slice('--only='.length).split(',');
  const servers = flags.includes('--nodes-only') ? [] : sized.servers.filter((key) => !only || only.includes(key));
  const plan = { ...sized, servers };
  const outcome = await serverLoad(plan, { cluster: !flags.includes('--no-nodes') });
  if (!outcome.ok) {
    console.log('\nThe run FAILED: a server stopped early or a message was lost, duplicated or misnumbered (see above).');
    process.exitCode = 1;
  }
} else if (scenario === 'validation') {
  validationCost();
} else if (scenario === 'files') {
  await fileUploads();
} else if (scenario === 'search') {
  const backends = (process.env.BACKENDS ?? 'sqlite,postgres').split(',').filter((b): b is 'sqlite' | 'postgres' => b === 'sqlite' || b === 'postgres');
  const results = await serverSearch({ messages: Number(process.env.MESSAGES ?? 1_000_000), queries: Number(process.env.QUERIES ?? 400), backends });
  if (results.some((result) => !result.scoped)) {
    console.log('\nThe run FAILED: a search found a message outside the searcher\'s membership.');
    process.exitCode = 1;
  }
} else if (scenario === 'webstart') {
  await webColdStart(Number(process.env.MESSAGES ?? 100_000), 1000);
} else if (scenario === 'commit') {
  await commitCost();
} else if (scenario === 'memory') {
  await clientMemory(Number(process.env.CONVERSATIONS ?? 100), Number(process.env.PER_CONVERSATION ?? 10_000), 1000);
} else if (scenario === undefined || scenario === 'coldstart') {
  if (scenario === undefined) {
    validationCost();
    await fileUploads();
  }
  const messages = Number(process.env.MESSAGES ?? 100_000);
  const segmentSize = 1000;
  await replicaColdStart(messages, segmentSize);
  if (process.env.BROWSER !== '0') {
    await browserColdStart(messages, segmentSize);
    await webColdStart(messages, segmentSize);
  }
} else {
  console.error(`unknown scenario ${scenario}: use no argument (validation, files and cold start), "validation", "files", "coldstart", "webstart", "search", "memory", "commit" or "server" [--quick]`);
  process.exitCode = 2;
}
