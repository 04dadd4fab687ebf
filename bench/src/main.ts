// Entry point of `npm run bench`: runs each scenario and prints its measurements beside baselines
// measured in the same run. MESSAGES=n changes the replica's size; BROWSER=0 skips Chromium.
// `npm run bench -- validation` runs only the write path's validation cost.
import { browserColdStart } from './scenarios/browserColdStart.ts';
import { replicaColdStart } from './scenarios/replicaColdStart.ts';
import { validationCost } from './scenarios/validationCost.ts';

const only = process.argv[2];
const messages = Number(process.env.MESSAGES ?? 100_000);
const segmentSize = 1000;
validationCost();
if (only !== 'validation') {
  await replicaColdStart(messages, segmentSize);
  if (process.env.BROWSER !== '0') await browserColdStart(messages, segmentSize);
}
