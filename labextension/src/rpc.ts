/**
 * A client for the kernel's RPC: one request, one reply; progress arrives as events.
 *
 * The transport is a thin wrapper around a comm, so the logic here is testable without a kernel.
 */
import {
  IEvent,
  IHello,
  IReply,
  IRequest,
  JSONObject,
  PROTOCOL_VERSIONS
} from './protocol';

/** What the client needs from a comm. */
export interface ITransport {
  send(data: JSONObject): void;
  /** Called with every message the kernel sends on the comm. */
  onMessage: ((data: JSONObject) => void) | null;
  /** Called once when the comm closes (kernel restart, shutdown). */
  onClose: (() => void) | null;
}

/** An error reply from the kernel, or a request that could not be completed. */
export class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export interface ICallOptions {
  /** Progress events of this request. */
  onEvent?: (event: IEvent) => void;
}

interface IPending {
  resolve: (value: any) => void;
  reject: (reason: RpcError) => void;
  onEvent?: (event: IEvent) => void;
}

export class RpcClient {
  constructor(transport: ITransport) {
    this._transport = transport;
    transport.onMessage = data => this._receive(data);
    transport.onClose = () => this._closed();
  }

  /** The kernel's answer to `hello`, once the handshake is done. */
  get hello(): IHello | null {
    return this._hello;
  }

  get isClosed(): boolean {
    return this._isClosed;
  }

  /** Events the kernel sends outside any request. */
  onEvent: ((event: IEvent) => void) | null = null;

  /** Agree on a protocol version; the first call on a new connection. */
  async handshake(client: string): Promise<IHello> {
    const hello = (await this.call('hello', {
      protocol: PROTOCOL_VERSIONS,
      client
    })) as IHello;
    if (!PROTOCOL_VERSIONS.includes(hello.protocol)) {
      throw new RpcError(
        'unsupported_version',
        `the kernel chose protocol ${hello.protocol}, which this sidebar does not speak`
      );
    }
    this._hello = hello;
    this._version = hello.protocol;
    return hello;
  }

  /** Whether the kernel answers this method (older kernels answer fewer). */
  supports(method: string): boolean {
    return this._hello !== null && this._hello.methods.includes(method);
  }

  call<T = any>(
    method: string,
    params: JSONObject = {},
    options: ICallOptions = {}
  ): Promise<T> {
    if (this._isClosed) {
      return Promise.reject(
        new RpcError('closed', 'the connection to the kernel is closed')
      );
    }
    const id = ++this._lastId;
    const request: IRequest = { v: this._version, id, method, params };
    return new Promise<T>((resolve, reject) => {
      this._pending.set(id, { resolve, reject, onEvent: options.onEvent });
      try {
        this._transport.send(request as unknown as JSONObject);
      } catch (error) {
        this._pending.delete(id);
        reject(new RpcError('send_failed', String(error)));
      }
    });
  }

  /** Reject everything pending; later calls fail at once. */
  close(): void {
    this._closed();
  }

  private _receive(data: JSONObject): void {
    if (data === null || typeof data !== 'object') {
      return;
    }
    if (typeof data.event === 'string') {
      const event = data as IEvent;
      const pending =
        typeof event.id === 'number' ? this._pending.get(event.id) : undefined;
      if (pending) {
        pending.onEvent?.(event);
      } else {
        this.onEvent?.(event);
      }
      return;
    }
    const reply = data as IReply;
    if (typeof reply.id !== 'number') {
      return;
    }
    const pending = this._pending.get(reply.id);
    if (!pending) {
      return;
    }
    this._pending.delete(reply.id);
    if (reply.ok) {
      pending.resolve(reply.result);
    } else {
      const error = reply.error ?? {
        code: 'bad_reply',
        message: 'the kernel sent an error without a message'
      };
      pending.reject(new RpcError(error.code, error.message));
    }
  }

  private _closed(): void {
    if (this._isClosed) {
      return;
    }
    this._isClosed = true;
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const request of pending) {
      request.reject(
        new RpcError(
          'closed',
          'the kernel connection closed before it answered'
        )
      );
    }
  }

  private _transport: ITransport;
  private _pending = new Map<number, IPending>();
  private _lastId = 0;
  private _version = PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.length - 1];
  private _hello: IHello | null = null;
  private _isClosed = false;
}
