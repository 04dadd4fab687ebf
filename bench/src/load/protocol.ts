// What the load generator needs from a server's protocol, so one generator drives the raw relay,
// plain Hocuspocus and Outpost alike; each protocol lives in its own small module.
import type { WebSocket } from 'ws';

/** A simulated user's credentials, as the server's setup made them. */
export interface Account {
  userId: string;
  /** What the client presents when it connects (empty where the server asks for nothing). */
  token: string;
}

/** One simulated client: a user on one socket, optionally a member of one group. */
export interface ClientPlan {
  index: number;
  account: Account;
  /** The group's id on the server and its size, or null for a client that only sits idle. */
  group: { id: string; size: number } | null;
  /** Position in the group (0..size-1): deliveries are tracked per member. */
  slot: number;
  /** Which of the generator's server URLs this client connects to (0 where there is one server). */
  node: number;
}

/** What a client reports back to the generator. */
export interface ClientEvents {
  /** Another member's message arrived at this client. */
  delivered(messageId: string): void;
  /** A message became acknowledged, with its number where the server gives one. Reported for any
   *  message the client sees acknowledged; the generator keeps only the author's. */
  acknowledged(messageId: string, seq: number | null): void;
  /** The server refused or closed something this client had open. */
  refused(what: string, reason: string): void;
}

export interface ClientEnvironment {
  /** http(s)://host:port of the server. */
  url: string;
  /** The WebSocket class to use: it counts the frames and bytes clients receive. */
  WebSocket: typeof WebSocket;
}

export interface LoadClient {
  /** Opens the socket and whatever an idle client keeps open; resolves once in sync. */
  connect(): Promise<void>;
  /** Opens the group's conversation; resolves once in sync. */
  join(): Promise<void>;
  /** Sends a 100-character chat message to the group. */
  send(messageId: string, body: string): void;
  close(): void;
}

export interface LoadProtocol {
  createClient(plan: ClientPlan, environment: ClientEnvironment, events: ClientEvents): LoadClient;
}

/** Where a stopped server's storage is: its data directory, and its Postgres database if it used one. */
export interface StorageLocation {
  dataDir: string;
  databaseUrl?: string;
}

/** The orchestrator's side of a protocol: accounts and groups before the load, checks after. */
export interface ServerSetup {
  /** Creates `users` accounts and the groups (lists of user indices) on a running server. */
  prepare(url: string, users: number, groups: number[][]): Promise<{ accounts: Account[]; groupIds: string[] }>;
  /** True when acknowledgements carry a per-group number that must run 1..N. */
  numbers: boolean;
  /**
   * Checks what the stopped server stored against what clients saw acknowledged: how many
   * messages storage holds exactly as acknowledged, and the problems found (none when storage
   * agrees). Absent for servers that store nothing.
   */
  verifyStorage?(where: StorageLocation, groups: { id: string; messages: { id: string; seq: number | null }[] }[]): Promise<{ agreeing: number; problems: string[] }>;
}
