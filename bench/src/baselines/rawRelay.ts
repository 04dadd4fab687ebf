// Baseline 1: the least a chat server can do — a `ws` room relay that forwards each message to the
// room's other members and acknowledges it to the sender with the room's count, in memory. Run as
// a child process: PORT=n node bench/src/baselines/rawRelay.ts; GET /health answers { ok: true }.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, { members: Set<WebSocket>; count: number }>();

const http = createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(req.url === '/health' ? '{"ok":true}' : '{}');
});
const wss = new WebSocketServer({ server: http });

wss.on('connection', (ws) => {
  let joined: { members: Set<WebSocket>; count: number } | undefined;
  ws.on('message', (data) => {
    const text = String(data);
    const frame = JSON.parse(text) as { t: string; r: string; i?: string };
    if (frame.t === 'join') {
      joined = rooms.get(frame.r) ?? { members: new Set(), count: 0 };
      rooms.set(frame.r, joined);
      joined.members.add(ws);
      ws.send('{"t":"joined"}');
    } else if (frame.t === 'm' && joined) {
      joined.count += 1;
      for (const member of joined.members) if (member !== ws) member.send(text);
      ws.send(JSON.stringify({ t: 'a', i: frame.i, s: joined.count }));
    }
  });
  ws.on('close', () => joined?.members.delete(ws));
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.once('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  http.close(() => process.exit(0));
});
