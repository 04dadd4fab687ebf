// The wire protocol version. The SDK sends it as `?protocol=` on the /sync URL; the server
// refuses a connection that names another version, telling the user to reload or update.
// 2: sequence numbers live in the segment (`seq`), server-owned documents carry epochs.
export const PROTOCOL_VERSION = 2;

/** The query parameter that carries it. */
export const PROTOCOL_PARAM = 'protocol';
