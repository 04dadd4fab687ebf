// The wire protocol version; the SDK sends it and the server refuses what it cannot speak.
export const PROTOCOL_VERSION = 1;
