import net from 'node:net';
import tls from 'node:tls';

/**
 * The HTTP/1.1 client of callback deliveries: keep-alive connections per target (address, port, TLS
 * name) that write each request as one buffer and parse just what an attempt needs from the answer (the
 * status, the start of the body, whether the connection can be reused). node:http's client costs about
 * twice the CPU per request (a ClientRequest, an IncomingMessage, the agent's bookkeeping and stream
 * machinery), which on a busy dispatcher was the largest single cost after the signature.
 *
 * Answers are framed as RFC 9112 §6.3 says: no body for 1xx (skipped), 204 and 304; chunked transfer
 * coding; Content-Length; otherwise until the server closes. A connection is reused only after a
 * complete HTTP/1.1 answer without `Connection: close`. TLS verifies the certificate against the SNI name,
 * or the IP address when the URL named one, exactly as `tls.connect` does.
 */

/** Where one request goes: the checked address, never a name resolved again. */
export interface ClientTarget {
  secure: boolean;
  address: string;
  port: number;
  /** SNI and certificate name; undefined for an IP literal (checked against `address`). */
  servername: string | undefined;
}

/** What came back. */
export interface ClientAnswer {
  status: number;
  /** The start of the body (at most the client's excerpt size). */
  excerpt: Buffer;
}

/** Options of {@link CallbackHttpClient}. */
export interface CallbackHttpClientOptions {
  /** Trust for TLS targets. @default Node's roots */
  secureContext?: tls.SecureContext | undefined;
  /** Verify certificates. @default true */
  rejectUnauthorized?: boolean;
  /** Connections per target, busy and idle together; more requests wait for one. @default 32 */
  maxSockets?: number;
  /**
   * Idle keep-alive connections are closed after this long: below the 5 s after which Node's HTTP
   * servers (and many proxies) close an idle connection, so a request is not sent on a connection the
   * receiver is closing at that moment. @default 4000
   */
  idleTimeoutMs?: number;
  /** Bytes of the body kept for the excerpt. @default 1024 */
  excerptBytes?: number;
}

/** Largest response head accepted (status line and headers). */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** A request in progress: resolve or reject once. */
interface Pending {
  resolve(answer: ClientAnswer): void;
  reject(err: Error): void;
}

type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; remaining: number }
  | { kind: 'close' };

/** One keep-alive connection and the parser of the answer it waits for. */
class Connection {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private status = 0;
  private framing: BodyFraming | undefined;
  private reusable = false;
  private excerpt: Buffer[] = [];
  private kept = 0;
  private readonly idleTimeoutMs: number;
  private readonly excerptBytes: number;

  constructor(
    private readonly pool: Pool,
    target: ClientTarget,
    options: Required<Omit<CallbackHttpClientOptions, 'secureContext'>> & {
      secureContext: tls.SecureContext | undefined;
    },
  ) {
    this.socket = target.secure
      ? tls.connect({
          host: target.address,
          port: target.port,
          ...(target.servername ? { servername: target.servername } : {}),
          ...(options.secureContext ? { secureContext: options.secureContext } : {}),
          rejectUnauthorized: options.rejectUnauthorized,
        })
      : net.connect({ host: target.address, port: target.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onEnd());
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('timeout', () => this.socket.destroy());
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.excerptBytes = options.excerptBytes;
  }

  /** Sends one request; the connection must be idle. */
  send(request: Buffer, pending: Pending): void {
    this.pending = pending;
    this.status = 0;
    this.framing = undefined;
    this.reusable = false;
    this.excerpt = [];
    this.kept = 0;
    this.socket.ref();
    this.socket.setTimeout(0);
    this.socket.write(request);
  }

  /** Whether an idle connection can take another request. */
  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable && this.pending === undefined;
  }

  /** Ends the request in progress (the attempt's timeout) and the connection with it. */
  abort(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.pending === undefined) {
      // Bytes nobody asked for: the connection's framing is lost.
      this.socket.destroy();
      return;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.parse();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private parse(): void {
    for (;;) {
      if (this.framing === undefined) {
        const end = this.buffer.indexOf(HEAD_END);
        if (end < 0) {
          if (this.buffer.length > MAX_HEAD_BYTES) throw new Error('Parse Error: response headers too large');
          return;
        }
        const head = this.buffer.toString('latin1', 0, end);
        this.buffer = this.buffer.subarray(end + 4);
        this.readHead(head);
        if (this.framing === undefined) continue; // an interim 1xx answer: the real one follows
      }
      const framing = this.framing as BodyFraming;
      if (framing.kind === 'none') {
        this.complete();
        return;
      }
      if (framing.kind === 'close') {
        this.keep(this.buffer);
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (framing.kind === 'length') {
        const take = Math.min(framing.remaining, this.buffer.length);
        this.keep(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        framing.remaining -= take;
        if (framing.remaining > 0) return;
        this.complete();
        return;
      }
      // Chunked.
      if (framing.state === 'data') {
        const take = Math.min(framing.remaining, this.buffer.length);
        this.keep(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        framing.remaining -= take;
        if (framing.remaining > 0) return;
        framing.state = 'data-end';
        continue;
      }
      const lineEnd = this.buffer.indexOf(CRLF);
      if (lineEnd < 0) {
        if (this.buffer.length > MAX_HEAD_BYTES) throw new Error('Parse Error: chunk line too long');
        return;
      }
      const line = this.buffer.toString('latin1', 0, lineEnd);
      this.buffer = this.buffer.subarray(lineEnd + 2);
      if (framing.state === 'data-end') {
        if (line !== '') throw new Error('Parse Error: missing CRLF after chunk data');
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(line);
        if (!size) throw new Error('Parse Error: invalid chunk size');
        framing.remaining = Number.parseInt(size[1] as string, 16);
        framing.state = framing.remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.complete(); // the empty line after the last chunk's trailer fields
        return;
      }
    }
  }

  /** Reads a status line and headers and decides how the body is framed. */
  private readHead(head: string): void {
    const lines = head.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!statusLine) throw new Error('Parse Error: invalid status line');
    const status = Number(statusLine[2]);
    if (status >= 100 && status < 200) {
      if (status === 101) throw new Error('Parse Error: unexpected protocol switch');
      return;
    }
    let contentLength: number | undefined;
    let chunked = false;
    let otherCoding = false;
    let close = statusLine[1] === '0';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('Parse Error: invalid header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value)))
          throw new Error('Parse Error: invalid Content-Length');
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        // Chunked must be the last coding; with another one last the body runs until the close.
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        otherCoding = !chunked;
      } else if (name === 'connection') {
        const tokens = value.toLowerCase().split(/\s*,\s*/);
        if (tokens.includes('close')) close = true;
        else if (statusLine[1] === '0' && tokens.includes('keep-alive')) close = false;
      }
    }
    this.status = status;
    this.reusable = !close;
    if (status === 204 || status === 304) this.framing = { kind: 'none' };
    else if (chunked) this.framing = { kind: 'chunked', state: 'size', remaining: 0 };
    else if (contentLength !== undefined && !otherCoding) {
      this.framing = contentLength === 0 ? { kind: 'none' } : { kind: 'length', remaining: contentLength };
    } else {
      this.framing = { kind: 'close' };
      this.reusable = false;
    }
  }

  private keep(bytes: Buffer): void {
    if (this.kept >= this.excerptBytes || bytes.length === 0) return;
    const part = bytes.subarray(0, this.excerptBytes - this.kept);
    this.excerpt.push(Buffer.from(part));
    this.kept += part.length;
  }

  private complete(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    // Anything after the answer was never asked for: do not reuse a connection out of step.
    const reuse = this.reusable && this.buffer.length === 0 && !this.socket.destroyed;
    this.buffer = Buffer.alloc(0);
    if (reuse) {
      this.socket.unref();
      this.socket.setTimeout(this.idleTimeoutMs);
    } else this.socket.destroy();
    this.pool.release(this, reuse);
    pending.resolve({ status: this.status, excerpt: Buffer.concat(this.excerpt) });
  }

  private onEnd(): void {
    if (this.pending !== undefined && this.framing?.kind === 'close') {
      this.complete();
      return;
    }
    this.fail(new Error('socket hang up'));
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    this.socket.destroy();
    this.pool.release(this, false);
    pending?.reject(err);
  }
}

/** The connections of one target. */
class Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Array<(c: Connection) => void> = [];

  constructor(
    private readonly target: ClientTarget,
    private readonly options: ConstructorParameters<typeof Connection>[2],
    /** Called when the last connection closed and nobody waits: the client forgets the pool. */
    private readonly onEmpty: () => void,
  ) {}

  /** An idle connection, a new one, or the next one freed when the target is at its limit. */
  acquire(): Connection | Promise<Connection> {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) if (c.usable) return c;
    if (this.all.size < this.options.maxSockets) {
      const c = new Connection(this, this.target, this.options);
      this.all.add(c);
      return c;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A connection finished its request (reusable or not). */
  release(c: Connection, reusable: boolean): void {
    if (!this.all.has(c)) return;
    if (!reusable) {
      this.all.delete(c);
      const idleAt = this.idle.indexOf(c);
      if (idleAt >= 0) this.idle.splice(idleAt, 1);
      const next = this.waiting.shift();
      if (next) {
        const fresh = new Connection(this, this.target, this.options);
        this.all.add(fresh);
        next(fresh);
      } else if (this.all.size === 0) this.onEmpty();
      return;
    }
    const next = this.waiting.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  close(): void {
    for (const c of this.all) c.abort();
  }
}

/** Keep-alive HTTP/1.1 connections to callback targets. */
export class CallbackHttpClient {
  private readonly pools = new Map<string, Pool>();
  private readonly options: ConstructorParameters<typeof Connection>[2];

  constructor(options: CallbackHttpClientOptions = {}) {
    this.options = {
      secureContext: options.secureContext,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      maxSockets: options.maxSockets ?? 32,
      idleTimeoutMs: options.idleTimeoutMs ?? 4000,
      excerptBytes: options.excerptBytes ?? 1024,
    };
  }

  /**
   * Sends `request` (a whole HTTP/1.1 request: head and body) to the target. The returned `abort` ends
   * it (and its connection); the promise then rejects.
   */
  send(target: ClientTarget, request: Buffer): { answer: Promise<ClientAnswer>; abort(): void } {
    const key = `${target.secure ? 's' : 'p'}|${target.address}|${target.port}|${target.servername ?? ''}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      const made = new Pool(target, this.options, () => {
        if (this.pools.get(key) === made) this.pools.delete(key);
      });
      pool = made;
      this.pools.set(key, made);
    }
    let connection: Connection | undefined;
    let aborted = false;
    const answer = new Promise<ClientAnswer>((resolve, reject) => {
      const start = (c: Connection) => {
        connection = c;
        if (aborted) {
          c.abort();
          reject(new Error('aborted'));
        } else c.send(request, { resolve, reject });
      };
      const acquired = (pool as Pool).acquire();
      if (acquired instanceof Connection) start(acquired);
      else void acquired.then(start);
    });
    return {
      answer,
      abort: () => {
        aborted = true;
        connection?.abort();
      },
    };
  }

  /** Closes every connection. */
  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
