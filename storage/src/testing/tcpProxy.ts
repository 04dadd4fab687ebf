// A TCP proxy for fault tests: put between a real client and a real server, it stalls, cuts or
// refuses their connections on command — faults a mock cannot produce in a real driver.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Where a {@link TcpProxy} forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** A running proxy on 127.0.0.1. Each control takes effect at once and may be repeated. */
export interface TcpProxy {
  /** The proxy's port on 127.0.0.1: point clients here instead of at the target. */
  readonly port: number;
  /** Connections open through the proxy now (each a client socket with its upstream socket). */
  readonly liveConnections: number;
  /** Connections forwarded since the start, including closed ones; refused ones excluded. */
  readonly totalConnections: number;
  /** Bytes written to clients (what the target sent that reached them) since the start. */
  readonly bytesToClients: number;
  /** `url` with its host and port replaced by the proxy's, e.g. a database or Redis URL. */
  urlThrough(url: string): string;
  /**
   * Stops forwarding in both directions. Sockets stay open; bytes already sent wait in the kernel
   * buffers, and the proxy reads nothing more. Connections made meanwhile are stalled too.
   */
  stall(): void;
  /** Forwards again after stall(), delivering what waited. */
  resume(): void;
  /**
   * Stalls (as stall() does) as soon as a client sends bytes that contain `pattern`, holding that
   * chunk too, so a statement naming something can be caught in flight; resume() sends it on.
   * Resolves when it happened. One pattern at a time; a pattern split across two reads is missed.
   */
  stallOn(pattern: string): Promise<void>;
  /**
   * Limits what the target sends to clients to `bytesPerSecond` (a slow link: GPRS, satellite),
   * and what clients send to `upBytesPerSecond`, on every connection, open and new; null lifts a
   * limit (what clients send is not limited unless asked).
   */
  throttle(bytesPerSecond: number | null, upBytesPerSecond?: number | null): void;
  /**
   * Delivers everything `ms` later than it arrives, both ways, in order (a satellite link: its
   * round trip is twice that); 0 delivers at once again. Not combined with throttle().
   */
  delay(ms: number): void;
  /** Resets every connection through the proxy, both ends, as a network failure would. New ones are still accepted. */
  cut(): void;
  /**
   * Every connection open now goes silent for good, both ways, with no reset (a phone that changed
   * networks: its old connections lead nowhere); new ones are forwarded as usual.
   */
  forsakeOpen(): void;
  /** Resets every new connection as soon as it arrives, as if nothing listened. Open ones stay. */
  refuse(): void;
  /** Accepts and forwards new connections again after refuse(). */
  accept(): void;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1, on a free port, that forwards every connection to `target`.
 *
 * @example
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * const storage = await openStorage({ databaseUrl: proxy.urlThrough(server.url), dataDir });
 * proxy.stall(); // queries now wait on a silent network
 * proxy.resume();
 * await proxy.close();
 */
export async function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  const proxy = new Proxy(target);
  await proxy.listen();
  return proxy;
}

/** One connection through the proxy: the client's socket and ours to the target. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** Silent for good (forsakeOpen): nothing more is forwarded either way. */
  forsaken?: boolean;
}

class Proxy implements TcpProxy {
  readonly #target: ProxyTarget;
  readonly #server: Server;
  readonly #links = new Set<Link>();
  #stalled = false;
  #refusing = false;
  #total = 0;
  #trigger: { pattern: Buffer; fired: () => void } | null = null;
  /** Bytes a second to clients, and to the target; null: as fast as it goes. */
  #rates: { toClients: number | null; toTarget: number | null } = { toClients: null, toTarget: null };
  #bytesToClients = 0;
  #delayMs = 0;
  /** Chunks read but not forwarded because the proxy stalled meanwhile, in order. */
  readonly #held: { to: Socket; chunk: Buffer; toClient: boolean }[] = [];

  constructor(target: ProxyTarget) {
    this.#target = target;
    // Half-open allowed: one side's FIN is passed on, and the other direction keeps flowing.
    this.#server = createServer({ allowHalfOpen: true }, (client) => this.#onConnection(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get liveConnections(): number {
    return this.#links.size;
  }

  get totalConnections(): number {
    return this.#total;
  }

  get bytesToClients(): number {
    return this.#bytesToClients;
  }

  urlThrough(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  stall(): void {
    this.#stalled = true;
    for (const { client, upstream } of this.#links) {
      client.pause();
      upstream.pause();
    }
  }

  resume(): void {
    this.#stalled = false;
    for (const { to, chunk, toClient } of this.#held.splice(0)) {
      if (to.destroyed) continue;
      if (toClient) this.#bytesToClients += chunk.length;
      to.write(chunk);
    }
    for (const { client, upstream, forsaken } of this.#links) {
      if (forsaken) continue;
      client.resume();
      upstream.resume();
    }
  }

  stallOn(pattern: string): Promise<void> {
    return new Promise((fired) => (this.#trigger = { pattern: Buffer.from(pattern), fired }));
  }

  throttle(bytesPerSecond: number | null, upBytesPerSecond: number | null = null): void {
    for (const rate of [bytesPerSecond, upBytesPerSecond]) if (rate !== null && !(rate > 0)) throw new Error(`throttle: ${rate} bytes a second is not a rate`);
    this.#rates = { toClients: bytesPerSecond, toTarget: upBytesPerSecond };
  }

  delay(ms: number): void {
    if (!(ms >= 0)) throw new Error(`delay: ${ms} ms is not a delay`);
    this.#delayMs = ms;
  }

  cut(): void {
    for (const link of this.#links) reset(link);
  }

  forsakeOpen(): void {
    for (const link of this.#links) {
      link.forsaken = true;
      link.client.pause();
      link.upstream.pause();
    }
  }

  refuse(): void {
    this.#refusing = true;
  }

  accept(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
    this.cut();
    await closed;
  }

  #onConnection(client: Socket): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
    const link: Link = { client, upstream };
    this.#links.add(link);
    this.#total += 1;
    // A reset, or the target refusing or dropping the connection: the other side sees it too.
    client.on('error', () => reset(link));
    upstream.on('error', () => reset(link));
    const onClose = (): void => {
      this.#links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
    this.#forward(link, true);
    this.#forward(link, false);
    if (this.#stalled) {
      client.pause();
      upstream.pause();
    }
  }

  /** Copies `from` to `to`, pausing `from` while `to` is full (and not resuming it while stalled). */
  #forward(link: Link, fromClient: boolean): void {
    const [from, to] = fromClient ? [link.client, link.upstream] : [link.upstream, link.client];
    from.on('data', (chunk: Buffer) => {
      if (link.forsaken) return;
      const trigger = this.#trigger;
      if (fromClient && trigger && chunk.includes(trigger.pattern)) {
        this.#trigger = null;
        this.stall();
        trigger.fired();
      }
      if (this.#stalled) {
        this.#held.push({ to, chunk, toClient: !fromClient });
        return;
      }
      if ((fromClient ? this.#rates.toTarget : this.#rates.toClients) !== null) {
        from.pause();
        void this.#trickle(chunk, from, to, !fromClient);
        return;
      }
      if (this.#delayMs > 0) {
        // Timers of one duration fire in the order they were set: the stream keeps its order.
        setTimeout(() => {
          if (to.destroyed) return;
          if (!fromClient) this.#bytesToClients += chunk.length;
          to.write(chunk);
        }, this.#delayMs);
        return;
      }
      if (!fromClient) this.#bytesToClients += chunk.length;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!this.#stalled && !link.forsaken) from.resume();
    });
    from.on('end', () => to.end());
  }

  /** Writes `chunk` to `to` at the throttled rate, a tenth of a second's worth at a time, then reads on. */
  async #trickle(chunk: Buffer, from: Socket, to: Socket, toClient: boolean): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      const rate = toClient ? this.#rates.toClients : this.#rates.toTarget;
      if (this.#stalled) {
        this.#held.push({ to, chunk: rest, toClient });
        return;
      }
      if (to.destroyed) return;
      if (rate === null) {
        if (toClient) this.#bytesToClients += rest.length;
        to.write(rest);
        break;
      }
      const slice = rest.subarray(0, Math.max(1, Math.floor(rate / 10)));
      rest = rest.subarray(slice.length);
      if (toClient) this.#bytesToClients += slice.length;
      to.write(slice);
      await new Promise((resolve) => setTimeout(resolve, (slice.length / rate) * 1000));
    }
    if (!this.#stalled && !from.destroyed) from.resume();
  }
}

/** Resets both sockets of a link (an RST, not a FIN), so each peer sees its connection fail. */
function reset(link: Link): void {
  for (const socket of [link.client, link.upstream]) {
    if (socket.destroyed) continue;
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  }
}
