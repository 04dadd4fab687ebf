// The server's event loop probed from outside: GET /health four times a second, one at a time,
// each allowed 10 s. A server whose loop is blocked answers late or not at all.
import { LatencyHistogram } from './LatencyHistogram.ts';

const INTERVAL_MS = 250;
const TIMEOUT_MS = 10_000;

export interface HealthSummary {
  probes: number;
  p50: number;
  p99: number;
  max: number;
  /** Probes that got no answer within 10 s (or an error). */
  failed: number;
}

export class HealthProbe {
  readonly #latency = new LatencyHistogram();
  #failed = 0;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(url: string) {
    this.#loop = (async () => {
      while (this.#running) {
        const started = performance.now();
        try {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
          await response.arrayBuffer();
          if (response.ok) this.#latency.record(performance.now() - started);
          else this.#failed += 1;
        } catch {
          // A timeout or refused connection is the measurement: counted, not thrown.
          this.#failed += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
      }
    })();
  }

  async stop(): Promise<HealthSummary> {
    this.#running = false;
    await this.#loop;
    return {
      probes: this.#latency.count + this.#failed,
      p50: this.#latency.percentile(0.5),
      p99: this.#latency.percentile(0.99),
      max: this.#latency.max,
      failed: this.#failed,
    };
  }
}
