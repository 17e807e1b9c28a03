// Simulated outages of real services: the service keeps running, the path to it is cut and restored.
import { createServer, type AddressInfo, type Server, type Socket, connect } from 'node:net';
import { once } from 'node:events';

/** A TCP relay in front of a real server (PostgreSQL, Redis) that a test can cut and restore on the same port. */
export class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private hung = false;
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.upstream.port, this.upstream.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      }
      // Forwarded by hand rather than piped, so that hang() can hold bytes (in order) without pipe() resuming.
      client.on('data', (chunk: Buffer) => upstream.write(chunk));
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      if (this.hung) {
        client.pause();
        upstream.pause();
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /**
   * A hung server: connections stay open and new ones are accepted, but nothing is forwarded either way until
   * resume() (then everything held is delivered in order, as from a server that was stopped, not restarted).
   */
  hang(): void {
    this.hung = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.hung = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Refuses new connections and drops the open ones, like a server restart. */
  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
