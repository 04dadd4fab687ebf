// The wire protocol version. The SDK sends it as `?protocol=` on the /sync URL; the server
// refuses a connection that names another version, telling the user to reload or update.
export const PROTOCOL_VERSION = 1;

/** The query parameter that carries it. */
export const PROTOCOL_PARAM = 'protocol';
