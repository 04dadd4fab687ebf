// Baseline 2: plain Hocuspocus 4 with no extensions (documents in memory, nothing stored, no
// checks), wired to a `ws` server the way Outpost's node wires it, so the difference between the
// two is Outpost's own work. Run as a child process: PORT=n node bench/src/baselines/plainHocuspocus.ts.
import { createServer, type IncomingMessage } from 'node:http';
import { Hocuspocus } from '@hocuspocus/server';
import { WebSocketServer, type RawData } from 'ws';

const hocuspocus = new Hocuspocus({ quiet: true });

function toRequest(req: IncomingMessage): Request {
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`);
}

function bytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const http = createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(req.url === '/health' ? '{"ok":true}' : '{}');
});
const wss = new WebSocketServer({ noServer: true });
http.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const connection = hocuspocus.handleConnection(ws, toRequest(req));
    ws.on('message', (data) => connection.handleMessage(bytes(data)));
    ws.on('close', (code, reason) => connection.handleClose({ code, reason: reason.toString() }));
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.once('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  http.close(() => process.exit(0));
});
