// Loaded into a server under test (`node --import`) when ALLOC_PROF names a directory: V8's
// sampling heap profiler on the main thread, counting what was allocated whether or not it was
// collected since (a CPU profile cannot tell what feeds the collector). SIGUSR2 starts it; the
// next SIGUSR2 stops it and writes `alloc.<pid>.heapprofile` into the directory (DevTools opens it).
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

const dir = process.env.ALLOC_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    const turn = sampling ? stop(dir) : start();
    sampling = !sampling;
    turn.catch((error: unknown) => console.error('allocation profile:', error));
  });
  const start = async () => {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  };
  const stop = async (into: string) => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const file = join(into, `alloc.${process.pid}.heapprofile`);
    writeFileSync(`${file}.partial`, JSON.stringify(profile));
    // Renamed once complete, so the bench never reads half a file.
    renameSync(`${file}.partial`, file);
  };
}
