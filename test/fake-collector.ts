// A local event collector for the sink tests, speaking Segment's /v1/batch and JSON lines, that can fail (500, 429),
// reset connections, stall past the client's timeout (with or without having kept the batch), and restart.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';

export type CollectorFault = 'ok' | '500' | '429' | '400' | 'reset' | 'stall' | 'late';

export interface Collector {
  url: string;
  port: number;
  /** messageId → times it arrived in an acknowledged-or-kept batch. */
  ids: Map<string, number>;
  /** The kept events, first arrival of each messageId. */
  events: Record<string, unknown>[];
  requests: number;
  faults: Record<CollectorFault, number>;
  /** Chooses the fault of the n-th request. */
  plan: (n: number) => CollectorFault;
  stallMs: number;
  /** Stop listening (connections cut) for `downMs`, then listen again on the same port. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCollector(port = 0): Promise<Collector> {
  const sockets = new Set<Socket>();
  const c: Collector = {
    url: '', port: 0, ids: new Map(), events: [], requests: 0,
    faults: { ok: 0, 500: 0, 429: 0, 400: 0, reset: 0, stall: 0, late: 0 },
    plan: () => 'ok',
    stallMs: 1_000,
    async restart(downMs) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await listen(c.port);
    },
    close: () => stop(),
  };
  let server: Server;
  const keep = (body: string) => {
    const items: Record<string, unknown>[] = body.startsWith('{"batch"') ? JSON.parse(body).batch : body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const item of items) {
      const id = String(item.messageId);
      const n = c.ids.get(id) ?? 0;
      if (n === 0) c.events.push(item);
      c.ids.set(id, n + 1);
    }
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => void (body += d));
    req.on('end', () => {
      const fault = c.plan(c.requests++);
      c.faults[fault]++;
      if (fault === 'ok') {
        keep(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      } else if (fault === '500') res.writeHead(500).end('oops');
      else if (fault === '429') res.writeHead(429, { 'retry-after': '0' }).end('slow down');
      else if (fault === '400') res.writeHead(400).end('bad batch');
      else if (fault === 'reset') req.socket.destroy();
      else {
        // 'late' keeps the batch but answers after the client gave up: its retry is a duplicate the messageId reveals.
        if (fault === 'late') keep(body);
        setTimeout(() => req.socket.destroy(), c.stallMs);
      }
    });
  };
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server = createServer(handle);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => {
      c.port = (server.address() as { port: number }).port;
      c.url = `http://127.0.0.1:${c.port}/v1/batch`;
      resolve();
    });
  });
  const stop = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  await listen(port);
  return c;
}
