import { ITransport, RpcClient, RpcError } from '../rpc';
import { JSONObject } from '../protocol';

/** A transport that records what the client sends and lets the test answer. */
class FakeTransport implements ITransport {
  sent: JSONObject[] = [];
  onMessage: ((data: JSONObject) => void) | null = null;
  onClose: (() => void) | null = null;
  send(data: JSONObject): void {
    this.sent.push(data);
  }
  reply(data: JSONObject): void {
    this.onMessage!(data);
  }
}

const HELLO = {
  protocol: 1,
  server: { name: 'wheelnext-jupyter', version: '0.1.0' },
  methods: ['hello', 'detect', 'history'],
  capabilities: { concurrent: true },
  python: '/usr/bin/python3'
};

describe('RpcClient', () => {
  it('sends versioned requests with increasing ids', () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    void client.call('detect', { refresh: true });
    void client.call('history');
    expect(transport.sent).toEqual([
      { v: 1, id: 1, method: 'detect', params: { refresh: true } },
      { v: 1, id: 2, method: 'history', params: {} }
    ]);
  });

  it('resolves each call with the reply that carries its id', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const first = client.call('detect');
    const second = client.call('history');
    transport.reply({ v: 1, id: 2, ok: true, result: 'second' });
    transport.reply({ v: 1, id: 1, ok: true, result: 'first' });
    await expect(first).resolves.toBe('first');
    await expect(second).resolves.toBe('second');
  });

  it('rejects with the kernel error code and message', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const call = client.call('eval');
    transport.reply({
      v: 1,
      id: 1,
      ok: false,
      error: { code: 'unknown_method', message: "unknown method 'eval'" }
    });
    await expect(call).rejects.toMatchObject({
      code: 'unknown_method',
      message: "unknown method 'eval'"
    });
  });

  it('passes progress events to the request they belong to', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const seen: string[] = [];
    const call = client.call(
      'plan',
      {},
      { onEvent: e => seen.push(e.data.phase) }
    );
    transport.reply({
      v: 1,
      id: 1,
      event: 'progress',
      data: { phase: 'resolve' }
    });
    transport.reply({ v: 1, id: 1, ok: true, result: {} });
    await call;
    expect(seen).toEqual(['resolve']);
  });

  it('gives events of no pending request to onEvent', () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const seen: string[] = [];
    client.onEvent = e => seen.push(e.event);
    transport.reply({ v: 1, event: 'installed', data: {} });
    expect(seen).toEqual(['installed']);
  });

  it('rejects pending calls when the comm closes, and later calls at once', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const pending = client.call('detect');
    transport.onClose!();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    await expect(client.call('detect')).rejects.toBeInstanceOf(RpcError);
    expect(transport.sent).toHaveLength(1);
  });

  it('offers its protocol versions in the handshake and remembers the methods', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const hello = client.handshake('sidebar');
    expect(transport.sent[0]).toEqual({
      v: 1,
      id: 1,
      method: 'hello',
      params: { protocol: [1], client: 'sidebar' }
    });
    transport.reply({ v: 1, id: 1, ok: true, result: HELLO });
    await hello;
    expect(client.supports('history')).toBe(true);
    expect(client.supports('explain')).toBe(false);
  });

  it('refuses a protocol version it did not offer', async () => {
    const transport = new FakeTransport();
    const client = new RpcClient(transport);
    const hello = client.handshake('sidebar');
    transport.reply({
      v: 1,
      id: 1,
      ok: true,
      result: { ...HELLO, protocol: 9 }
    });
    await expect(hello).rejects.toMatchObject({ code: 'unsupported_version' });
  });

  it('ignores replies to requests it never sent', () => {
    const transport = new FakeTransport();
    new RpcClient(transport);
    expect(() =>
      transport.reply({ v: 1, id: 42, ok: true, result: 1 })
    ).not.toThrow();
  });
});
