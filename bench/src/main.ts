// Entry point of `npm run bench`: runs each scenario and prints its measurements beside baselines
// measured in the same run. MESSAGES=n changes the replica's size; BROWSER=0 skips Chromium.
import { browserColdStart } from './scenarios/browserColdStart.ts';
import { replicaColdStart } from './scenarios/replicaColdStart.ts';

const messages = Number(process.env.MESSAGES ?? 100_000);
const segmentSize = 1000;
await replicaColdStart(messages, segmentSize);
if (process.env.BROWSER !== '0') await browserColdStart(messages, segmentSize);
