// The page of the Chromium bench: `?populate=N` writes a replica of N messages into this
// origin's IndexedDB; `?measure=N` is the cold start, timed from navigation start (so it counts
// loading and parsing the SDK too).
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
    const result = await measureColdStart(Number(params.get('measure')), segmentSize, 0, () => new Promise((resolve) => setTimeout(resolve, 0)));
    return { result, usage: (await navigator.storage.estimate()).usage };
  }
  return undefined;
})();
