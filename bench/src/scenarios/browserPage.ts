// The page of the Chromium bench: `?populate=N` writes a replica of N messages into this
// origin's IndexedDB; `?measure=N` is the cold start, timed from navigation start (so it counts
// loading and parsing the SDK too); `&history=replica` starts the SDK as the web app does. The search
// index is in a worker (/search-worker.js), as in the web app.
import { measureColdStart, populate, type ColdStartResult } from './coldStartMeasure.ts';

declare global {
  interface Window {
    benchDone: Promise<{ result?: ColdStartResult; usage?: number } | undefined>;
  }
}

const params = new URLSearchParams(location.search);
const segmentSize = Number(params.get('segmentSize') ?? 1000);
window.benchDone = (async () => {
  if (params.has('populate')) {
    await populate(Number(params.get('populate')), segmentSize);
    return undefined;
  }
  if (params.has('measure')) {
    // Started first, as the web app does, so its script loads while the replica opens.
    const worker = new Worker('/search-worker.js', { type: 'module' });
    const searchWorker = () => worker;
    const history = params.get('history') === 'replica' ? 'replica' : 'all';
    const result = await measureColdStart(Number(params.get('measure')), segmentSize, 0, () => new Promise((resolve) => setTimeout(resolve, 0)), undefined, searchWorker, history);
    return { result, usage: (await navigator.storage.estimate()).usage };
  }
  // The app opened before: the browser has the worker's script cached as it has the page's.
  const worker = new Worker('/search-worker.js', { type: 'module' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  worker.terminate();
  return undefined;
})();
