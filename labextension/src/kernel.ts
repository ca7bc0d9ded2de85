/**
 * Follows the current notebook's kernel and keeps one RPC connection to it.
 *
 * Bootstrap: is the comm target there? If not, load the extension silently; if the package is
 * missing, say so (the sidebar offers to install it). Then open the comm on its own subshell
 * where the kernel has them, so requests are answered while a cell runs.
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import {
  EVENTS_TARGET,
  IEvent,
  IHello,
  JSONObject,
  RPC_TARGET
} from './protocol';
import { ITransport, RpcClient } from './rpc';

/** Silent code that makes the kernel answer the comm target (no names left behind). */
export const BOOTSTRAP_CODE =
  "__import__('wheelnext_jupyter.comm', fromlist=['comm']).register_target()\n" +
  "get_ipython().run_line_magic('load_ext', 'wheelnext_jupyter')";

export type BootstrapOutcome =
  | { kind: 'ready'; client: RpcClient; hello: IHello }
  | { kind: 'missing-package'; message: string }
  | { kind: 'error'; message: string };

/** Wrap a comm as the RPC client's transport. */
export function commTransport(comm: Kernel.IComm): ITransport {
  const transport: ITransport = {
    send: data => {
      comm.send(data as any);
    },
    onMessage: null,
    onClose: null
  };
  comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
    transport.onMessage?.(msg.content.data as JSONObject);
  };
  comm.onClose = () => {
    transport.onClose?.();
  };
  return transport;
}

/** Whether a comm to our target is already open in this kernel (so the target is registered). */
async function targetInUse(kernel: Kernel.IKernelConnection): Promise<boolean> {
  const reply = await kernel.requestCommInfo({ target_name: RPC_TARGET });
  if (reply.content.status !== 'ok') {
    return false;
  }
  return Object.values(reply.content.comms).some(
    (c: any) => c && c.target_name === RPC_TARGET
  );
}

/** Run code silently; resolves with the error name and value, or null on success. */
async function runSilently(
  kernel: Kernel.IKernelConnection,
  code: string
): Promise<{ ename: string; evalue: string } | null> {
  const future = kernel.requestExecute({
    code,
    silent: true,
    store_history: false,
    stop_on_error: false
  });
  const reply = await future.done;
  const content = reply.content as any;
  if (content.status === 'error') {
    return { ename: content.ename, evalue: content.evalue };
  }
  return null;
}

/** Open the RPC comm (after its subshell exists: see the module note) and shake hands. */
export async function connect(
  kernel: Kernel.IKernelConnection,
  clientName: string
): Promise<BootstrapOutcome> {
  // `comm_info_request` lists open comms, not registered targets: without an open one, run the
  // (idempotent) bootstrap.
  const failed = (await targetInUse(kernel))
    ? null
    : await runSilently(kernel, BOOTSTRAP_CODE);
  if (failed) {
    if (
      failed.ename === 'ModuleNotFoundError' ||
      failed.ename === 'ImportError'
    ) {
      return {
        kind: 'missing-package',
        message:
          'wheelnext-jupyter is not installed in this kernel’s environment.'
      };
    }
    return { kind: 'error', message: `${failed.ename}: ${failed.evalue}` };
  }
  const comm = kernel.createComm(RPC_TARGET);
  await kernel.info;
  const started = (comm as any).subshellStarted as Promise<void> | undefined;
  if (kernel.supportsSubshells && started) {
    // Opening before the subshell exists would pin this comm to the main shell.
    await started;
  }
  const client = new RpcClient(commTransport(comm));
  comm.open({ v: 1 });
  try {
    const hello = await client.handshake(clientName);
    return { kind: 'ready', client, hello };
  } catch (error) {
    client.close();
    return {
      kind: 'error',
      message: String((error as Error).message ?? error)
    };
  }
}

/**
 * One per notebook panel: re-attaches after restarts and kernel changes.
 */
export class KernelConnector {
  constructor(
    readonly sessionContext: ISessionContext,
    private readonly _clientName: string
  ) {
    sessionContext.kernelChanged.connect(this._reattach, this);
    sessionContext.statusChanged.connect(this._onStatus, this);
  }

  /** Emitted with every new outcome (connecting = null). */
  get stateChanged(): ISignal<this, BootstrapOutcome | null> {
    return this._stateChanged;
  }

  /** Events the kernel pushes (installs finished by `%wninstall`). */
  get events(): ISignal<this, IEvent> {
    return this._events;
  }

  get outcome(): BootstrapOutcome | null {
    return this._outcome;
  }

  /** The connected client, waiting for the current attempt. */
  async client(): Promise<RpcClient | null> {
    if (!this._attempt) {
      this._reattach();
    }
    const outcome = await this._attempt;
    return outcome && outcome.kind === 'ready' ? outcome.client : null;
  }

  /** Try again (after installing the package into the kernel, say). */
  retry(): void {
    this._reattach();
  }

  dispose(): void {
    Signal.clearData(this);
    this._close();
  }

  private _close(): void {
    if (this._outcome?.kind === 'ready') {
      this._outcome.client.close();
    }
    this._outcome = null;
  }

  private _onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._close();
      this._attempt = null;
      this._stateChanged.emit(null);
    } else if (status === 'idle' && !this._attempt) {
      this._reattach();
    }
  }

  private _reattach(): void {
    this._close();
    const kernel = this.sessionContext.session?.kernel;
    this._stateChanged.emit(null);
    if (!kernel) {
      this._attempt = null;
      return;
    }
    this._registerEvents(kernel);
    const attempt = connect(kernel, this._clientName).catch(
      error => ({ kind: 'error', message: String(error) }) as BootstrapOutcome
    );
    this._attempt = attempt;
    void attempt.then(outcome => {
      if (this._attempt !== attempt) {
        if (outcome.kind === 'ready') {
          outcome.client.close();
        }
        return;
      }
      this._outcome = outcome;
      if (outcome.kind === 'ready') {
        outcome.client.onEvent = event => this._events.emit(event);
      }
      this._stateChanged.emit(outcome);
    });
  }

  private _registerEvents(kernel: Kernel.IKernelConnection): void {
    if (this._eventsKernel === kernel) {
      return;
    }
    this._eventsKernel = kernel;
    kernel.registerCommTarget(EVENTS_TARGET, comm => {
      comm.onMsg = msg => {
        const data = msg.content.data as unknown as IEvent;
        if (data && typeof data.event === 'string') {
          this._events.emit(data);
        }
      };
    });
  }

  private _attempt: Promise<BootstrapOutcome> | null = null;
  private _outcome: BootstrapOutcome | null = null;
  private _eventsKernel: Kernel.IKernelConnection | null = null;
  private _stateChanged = new Signal<this, BootstrapOutcome | null>(this);
  private _events = new Signal<this, IEvent>(this);
}
