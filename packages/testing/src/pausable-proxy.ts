// A TCP proxy a test can pause: while paused it keeps every connection open but forwards nothing, which is how a
// Redis (or any server) that "stops answering" looks to a client, without dropping a connection (which clients
// notice at once). Bytes sent meanwhile are held, not lost, and delivered in order on resume, so a client that
// matches replies to commands in order (ioredis) stays in step.
import net from 'node:net';

export class PausableProxy {
  private paused = false;
  private readonly sockets = new Set<net.Socket>();
  /** What arrived while paused, in arrival order, with where it goes. */
  private held: [net.Socket, Buffer][] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host?: string; port: number }): Promise<PausableProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new PausableProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => proxy.connect(client, target));
    return proxy;
  }

  private connect(client: net.Socket, target: { host?: string; port: number }): void {
    const upstream = net.connect(target.port, target.host ?? '127.0.0.1');
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (this.paused) this.held.push([to, chunk]);
        else to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    for (const [s, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        other.destroy();
      });
    }
  }

  url(scheme = 'redis'): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Stops forwarding in both directions; connections stay open. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const [to, chunk] of held) if (!to.destroyed) to.write(chunk);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
