// A local event collector for the sink tests, speaking Segment's /v1/batch, JSON lines and Eppo's event ingestion
// (`{ eppo_events, context }`, events keyed by uuid), that can fail (500, 429), reset connections, stall past the
// client's timeout (with or without having kept the batch), report events as not ingested, and restart.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';

export type CollectorFault = 'ok' | '500' | '429' | '400' | 'reset' | 'stall' | 'late' | 'partial';

export interface Collector {
  url: string;
  port: number;
  /** messageId → times it arrived in an acknowledged-or-kept batch. */
  ids: Map<string, number>;
  /** The kept events, first arrival of each messageId. */
  events: Record<string, unknown>[];
  /** Eppo ingestion requests: the `context` and `x-eppo-token` of each acknowledged one. */
  ingestion: { context: unknown; token: string | undefined }[];
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
  const stalls = new Set<ReturnType<typeof setTimeout>>();
  const c: Collector = {
    url: '', port: 0, ids: new Map(), events: [], ingestion: [], requests: 0,
    faults: { ok: 0, 500: 0, 429: 0, 400: 0, reset: 0, stall: 0, late: 0, partial: 0 },
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
  const keep = (body: string, req: IncomingMessage, skip = 0): string[] => {
    let items: Record<string, unknown>[];
    if (body.startsWith('{"eppo_events"')) {
      const parsed = JSON.parse(body);
      items = parsed.eppo_events;
      c.ingestion.push({ context: parsed.context, token: req.headers['x-eppo-token'] as string | undefined });
    } else items = body.startsWith('{"batch"') ? JSON.parse(body).batch : body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const refused = items.slice(0, skip).map((item) => String(item.uuid));
    for (const item of items.slice(skip)) {
      const id = String(item.messageId ?? item.uuid);
      const n = c.ids.get(id) ?? 0;
      if (n === 0) c.events.push(item);
      c.ids.set(id, n + 1);
    }
    return refused;
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => void (body += d));
    req.on('end', () => {
      const fault = c.plan(c.requests++);
      c.faults[fault]++;
      if (fault === 'ok') {
        keep(body, req);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      } else if (fault === 'partial') {
        // Eppo's ingestion: 200, with the uuids it did not ingest (here the batch's first event).
        const failed = keep(body, req, 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ failed_events: failed }));
      } else if (fault === '500') res.writeHead(500).end('oops');
      else if (fault === '429') res.writeHead(429, { 'retry-after': '0' }).end('slow down');
      else if (fault === '400') res.writeHead(400).end('bad batch');
      else if (fault === 'reset') req.socket.destroy();
      else {
        // 'late' keeps the batch but answers after the client gave up: its retry is a duplicate the messageId reveals.
        if (fault === 'late') keep(body, req);
        const timer = setTimeout(() => {
          stalls.delete(timer);
          req.socket.destroy();
        }, c.stallMs);
        stalls.add(timer);
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
    for (const timer of stalls) clearTimeout(timer);
    stalls.clear();
    server.close(() => resolve());
  });
  await listen(port);
  return c;
}
