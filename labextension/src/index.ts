/**
 * The JupyterLab plugin: a right-hand sidebar that follows the current notebook's kernel.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { KernelConnector } from './kernel';
import { DEFAULT_SETTINGS, ISettings, SidebarModel } from './model';
import { IHardware, IHistoryEntry, IPlanResult } from './protocol';
import { RpcClient } from './rpc';
import { Sidebar } from './sidebar';

const PLUGIN_ID = 'wheelnext-jupyter:plugin';

namespace CommandIDs {
  export const open = 'wheelnext:open';
}

const chipIcon = new LabIcon({
  name: 'wheelnext:chip',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M7 7h10v10H7z" fill-opacity=".35"/><path d="M9 2h2v3H9zm4 0h2v3h-2zM9 19h2v3H9zm4 0h2v3h-2zM2 9h3v2H2zm0 4h3v2H2zm17-4h3v2h-3zm0 4h3v2h-3zM5 5h14v14H5zm2 2v10h10V7z"/>' +
    '</g></svg>'
});

function readSettings(settings: ISettingRegistry.ISettings): ISettings {
  const composite = settings.composite as any;
  return {
    defaultIndexes: composite.defaultIndexes ?? DEFAULT_SETTINGS.defaultIndexes,
    strategy: composite.strategy ?? DEFAULT_SETTINGS.strategy,
    trustedProviders:
      composite.trustedProviders ?? DEFAULT_SETTINGS.trustedProviders
  };
}

/** Insert a code cell below the active one and run it, so the notebook records the action. */
async function insertAndRun(
  panel: NotebookPanel,
  code: string
): Promise<boolean> {
  const notebook = panel.content;
  if (
    notebook.activeCell &&
    notebook.activeCell.model.sharedModel.getSource().trim()
  ) {
    NotebookActions.insertBelow(notebook);
  } else if (!notebook.activeCell) {
    NotebookActions.insertBelow(notebook);
  }
  const cell = notebook.activeCell!;
  if (cell.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell!.model.sharedModel.setSource(code);
  return NotebookActions.run(notebook, panel.sessionContext);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'A sidebar to install the package builds that fit the kernel’s hardware.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILabShell, ILayoutRestorer, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('wheelnext_jupyter');
    const model = new SidebarModel();
    const connectors = new Map<NotebookPanel, KernelConnector>();
    const clientName = `wheelnext-jupyter-sidebar`;
    let current: NotebookPanel | null = null;

    const client = async (): Promise<RpcClient | null> =>
      current ? (connectors.get(current)?.client() ?? null) : null;

    const guarded = async (
      what: string,
      work: (c: RpcClient) => Promise<void>
    ) => {
      const c = await client();
      if (!c) {
        return;
      }
      model.setBusy(what);
      try {
        await work(c);
        if (model.state === 'error') {
          model.setConnection('ready');
        }
      } catch (error) {
        model.setBusy(null);
        model.setConnection('ready');
        model.message = String((error as Error).message ?? error);
        model.setBusy(`${trans.__('Failed')}: ${model.message}`);
        return;
      }
      model.setBusy(null);
    };

    const refreshHardware = (refresh = false) =>
      guarded(trans.__('Detecting hardware…'), async c => {
        model.setHardware(await c.call<IHardware>('detect', { refresh }));
      });

    const refreshHistory = () =>
      guarded(trans.__('Reading history…'), async c => {
        if (c.supports('history')) {
          const { installs } = await c.call<{ installs: IHistoryEntry[] }>(
            'history'
          );
          model.setHistory(installs);
        }
      });

    const sidebar = new Sidebar(
      model,
      {
        refreshHardware: () => void refreshHardware(true),
        plan: () =>
          void guarded(trans.__('Planning…'), async c => {
            model.setPlan(
              await c.call<IPlanResult>('plan', model.formParams(), {
                onEvent: e =>
                  model.setBusy(trans.__('Planning: %1', e.data.phase ?? ''))
              })
            );
          }),
        install: () =>
          void guarded(trans.__('Installing…'), async c => {
            const { line } = await c.call<{ line: string }>(
              'command',
              model.formParams()
            );
            if (current) {
              await insertAndRun(current, line);
              await refreshHistory();
              sidebar.view = 'report';
            }
          }),
        restartKernel: () => {
          if (current) {
            void current.sessionContext.restartKernel();
          }
        },
        installIntoKernel: () => {
          if (current) {
            void insertAndRun(current, '%pip install wheelnext-jupyter').then(
              () => connectors.get(current!)?.retry()
            );
          }
        },
        retry: () => {
          if (current) {
            connectors.get(current)?.retry();
          }
        }
      },
      trans
    );
    sidebar.title.icon = chipIcon;
    app.shell.add(sidebar, 'right', { rank: 600 });
    restorer?.add(sidebar, 'wheelnext-sidebar');

    const show = (panel: NotebookPanel | null) => {
      current = panel;
      if (!panel) {
        model.setConnection('no-notebook', { path: null });
        return;
      }
      let connector = connectors.get(panel);
      if (!connector) {
        connector = new KernelConnector(panel.sessionContext, clientName);
        connectors.set(panel, connector);
        connector.stateChanged.connect((_, outcome) => {
          if (current !== panel) {
            return;
          }
          if (outcome === null) {
            model.setConnection('connecting');
          } else if (outcome.kind === 'ready') {
            model.setConnection('ready', { hello: outcome.hello });
            void refreshHardware().then(refreshHistory);
          } else {
            model.setConnection(outcome.kind, { message: outcome.message });
          }
        });
        connector.events.connect((_, event) => {
          if (current === panel && event.event === 'installed') {
            model.addHistory(event.data as IHistoryEntry);
          }
        });
        panel.sessionContext.statusChanged.connect((_, status) => {
          if (current === panel && status === 'restarting') {
            model.kernelRestarted();
          }
        });
        panel.disposed.connect(() => {
          connector?.dispose();
          connectors.delete(panel);
        });
      }
      model.setConnection('connecting', { path: panel.sessionContext.path });
      void panel.sessionContext.ready.then(async () => {
        const c = await connector!.client();
        if (current !== panel) {
          return;
        }
        const outcome = connector!.outcome;
        if (c && outcome?.kind === 'ready') {
          model.setConnection('ready', { hello: outcome.hello });
          void refreshHardware().then(refreshHistory);
        } else if (outcome && outcome.kind !== 'ready') {
          model.setConnection(outcome.kind, { message: outcome.message });
        }
      });
    };

    tracker.currentChanged.connect((_, panel) => show(panel));
    labShell?.currentChanged.connect(() => {
      if (tracker.currentWidget && tracker.currentWidget !== current) {
        show(tracker.currentWidget);
      }
    });
    show(tracker.currentWidget);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        model.applySettings(readSettings(settings));
        settings.changed.connect(() =>
          model.applySettings(readSettings(settings))
        );
      });
    }

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Show the wheel variants sidebar'),
      execute: () => app.shell.activateById(sidebar.id)
    });
  }
};

export default plugin;
