/**
 * The sidebar: Hardware, Install and Report views over one `SidebarModel`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { h } from './dom';
import {
  compatibleVariants,
  indexName,
  normalizeName,
  SidebarModel,
  STRATEGIES,
  Strategy
} from './model';
import { IGpu, IHardware } from './protocol';
import { renderReport } from './report';

/** What the buttons do (the plugin wires them to the kernel and the notebook). */
export interface ISidebarActions {
  refreshHardware(): void;
  plan(): void;
  install(): void;
  restartKernel(): void;
  installIntoKernel(): void;
  retry(): void;
}

export type ViewName = 'hardware' | 'install' | 'report';

function gib(bytes: number | null): string | null {
  return bytes ? `${(bytes / 2 ** 30).toFixed(0)} GiB` : null;
}

function gpuLine(gpu: IGpu): string {
  return [
    gpu.model ?? gpu.vendor,
    gib(gpu.memory_bytes),
    gpu.compute_capability ? `CC ${gpu.compute_capability}` : null,
    gpu.architecture,
    gpu.driver ? `driver ${gpu.driver}` : null,
    gpu.cuda ? `CUDA ${gpu.cuda}` : null,
    gpu.rocm ? `ROCm ${gpu.rocm}` : null
  ]
    .filter(Boolean)
    .join(', ');
}

export class Sidebar extends Widget {
  constructor(
    readonly model: SidebarModel,
    private readonly _actions: ISidebarActions,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.id = 'wheelnext-sidebar';
    this.addClass('wn-Sidebar');
    this.title.caption = _trans.__('Wheel variants');
    model.changed.connect(() => this.render(), this);
    this.render();
  }

  get view(): ViewName {
    return this._view;
  }

  set view(view: ViewName) {
    this._view = view;
    this.render();
  }

  render(): void {
    const trans = this._trans;
    const tabs = h(
      'div',
      { className: 'wn-Tabs', role: 'tablist' },
      ...(
        [
          ['hardware', trans.__('Hardware')],
          ['install', trans.__('Install')],
          ['report', trans.__('Report')]
        ] as [ViewName, string][]
      ).map(([name, label]) =>
        h(
          'button',
          {
            className: `wn-Tab${this._view === name ? ' wn-mod-active' : ''}`,
            role: 'tab',
            'data-view': name,
            'aria-selected': this._view === name ? 'true' : 'false',
            onClick: () => (this.view = name)
          },
          label
        )
      )
    );
    const body = h('div', { className: 'wn-Body', 'data-view': this._view });
    body.append(this._status());
    if (this.model.state === 'ready') {
      if (this._view === 'hardware') {
        body.append(this._hardware());
      } else if (this._view === 'install') {
        body.append(this._install());
      } else {
        body.append(this._report());
      }
    }
    // Keep what the user is typing (and where the caret is) across re-renders.
    const focused = document.activeElement;
    const keep =
      focused instanceof HTMLTextAreaElement && this.node.contains(focused)
        ? focused.selectionStart
        : null;
    this.node.replaceChildren(tabs, body);
    if (keep !== null) {
      const box =
        this.node.querySelector<HTMLTextAreaElement>('.wn-Requirements');
      box?.focus();
      box?.setSelectionRange(keep, keep);
    }
  }

  private _status(): HTMLElement {
    const trans = this._trans;
    const model = this.model;
    const bar = h('div', { className: 'wn-Status', 'data-state': model.state });
    switch (model.state) {
      case 'no-notebook':
        bar.append(trans.__('Open a notebook to see its kernel’s hardware.'));
        break;
      case 'connecting':
        bar.append(trans.__('Connecting to the kernel…'));
        break;
      case 'missing-package':
        bar.append(
          model.message,
          ' ',
          h(
            'button',
            {
              className: 'wn-Button',
              onClick: () => this._actions.installIntoKernel()
            },
            trans.__('Install wheelnext-jupyter in this kernel')
          )
        );
        break;
      case 'error':
        bar.append(
          model.message,
          ' ',
          h(
            'button',
            { className: 'wn-Button', onClick: () => this._actions.retry() },
            trans.__('Retry')
          )
        );
        break;
      case 'ready':
        if (model.busy) {
          bar.append(h('span', { className: 'wn-Busy' }, model.busy));
        }
        break;
    }
    if (model.restartRequired.length) {
      bar.append(
        h(
          'div',
          { className: 'wn-restart-notice' },
          trans.__('Restart needed for: %1', model.restartRequired.join(', ')),
          ' ',
          h(
            'button',
            {
              className: 'wn-Button wn-RestartButton',
              onClick: () => this._actions.restartKernel()
            },
            trans.__('Restart kernel')
          )
        )
      );
    }
    return bar;
  }

  private _hardware(): HTMLElement {
    const trans = this._trans;
    const hw: IHardware | null = this.model.hardware;
    const view = h('div', { className: 'wn-Hardware' });
    view.append(
      h(
        'button',
        {
          className: 'wn-Button wn-Refresh',
          onClick: () => this._actions.refreshHardware()
        },
        trans.__('Refresh')
      )
    );
    if (!hw) {
      view.append(h('p', {}, trans.__('Detecting…')));
      return view;
    }
    const row = (label: string, value: Node | string, key: string) =>
      h('tr', { 'data-row': key }, h('th', {}, label), h('td', {}, value));
    const namespaces = Object.entries(hw.namespaces).map(([ns, info]) =>
      h(
        'li',
        { className: info.supported ? 'wn-ok' : 'wn-unsupported' },
        h('code', {}, ns),
        ': ',
        info.supported
          ? info.features
              .slice(0, 8)
              .map(f => `${f.name}=${f.values.join(',')}`)
              .join('; ') + (info.features.length > 8 ? ' …' : '')
          : trans.__('unsupported'),
        info.provenance !== 'detected' ? ` [${info.provenance}]` : ''
      )
    );
    view.append(
      h(
        'table',
        { className: 'wn-Facts' },
        row(
          trans.__('CPU'),
          [hw.cpu.model, hw.cpu.architecture].filter(Boolean).join(' · ') ||
            '?',
          'cpu'
        ),
        row(
          trans.__('CPU level'),
          h(
            'span',
            { className: 'wn-CpuLevel' },
            hw.cpu.level ?? trans.__('n/a')
          ),
          'level'
        ),
        row(
          trans.__('GPUs'),
          hw.gpus.length
            ? h('ul', {}, ...hw.gpus.map(g => h('li', {}, gpuLine(g))))
            : trans.__('none'),
          'gpus'
        ),
        row(
          trans.__('TPU'),
          hw.tpu.present
            ? `${hw.tpu.generation ?? '?'}, ${hw.tpu.chips ?? '?'} chip(s)`
            : trans.__('none'),
          'tpu'
        ),
        row(
          trans.__('Platform'),
          [
            hw.hosting.platform,
            hw.hosting.container,
            hw.platform.system,
            hw.platform.machine
          ]
            .filter(Boolean)
            .join(' · '),
          'platform'
        ),
        hw.profile ? row(trans.__('Profile'), hw.profile, 'profile') : null
      ),
      h('h4', {}, trans.__('Supported variant properties')),
      h('ul', { className: 'wn-Namespaces' }, ...namespaces),
      ...Object.entries(hw.errors).map(([kind, text]) =>
        h('p', { className: 'wn-warning' }, `${kind}: ${text}`)
      )
    );
    return view;
  }

  private _install(): HTMLElement {
    const trans = this._trans;
    const model = this.model;
    const view = h('div', { className: 'wn-Install' });
    const box = h('textarea', {
      className: 'wn-Requirements',
      rows: 3,
      placeholder: trans.__('one requirement a line, e.g. torch>=2.9'),
      onInput: (e: Event) => {
        model.requirements = (e.target as HTMLTextAreaElement).value;
      },
      onChange: (e: Event) =>
        model.setRequirements((e.target as HTMLTextAreaElement).value)
    });
    box.value = model.requirements;
    view.append(h('label', {}, trans.__('Requirements')), box);

    // Indexes in priority order.
    const list = h('ol', { className: 'wn-Indexes' });
    model.indexes.forEach((entry, i) => {
      list.append(
        h(
          'li',
          { 'data-index': indexName(entry.spec) },
          h('code', {}, entry.spec),
          h(
            'span',
            { className: 'wn-Actions' },
            h(
              'button',
              {
                className: 'wn-Icon',
                title: trans.__('Higher priority'),
                disabled: i === 0,
                onClick: () => model.moveIndex(i, -1)
              },
              '▲'
            ),
            h(
              'button',
              {
                className: 'wn-Icon',
                title: trans.__('Lower priority'),
                disabled: i === model.indexes.length - 1,
                onClick: () => model.moveIndex(i, 1)
              },
              '▼'
            ),
            h(
              'button',
              {
                className: 'wn-Icon',
                title: trans.__('Remove'),
                onClick: () => model.removeIndex(i)
              },
              '✕'
            )
          )
        )
      );
    });
    if (!model.indexes.length) {
      list.append(
        h('li', { className: 'wn-Hint' }, trans.__('your pip configuration'))
      );
    }
    const newIndex = h('input', {
      className: 'wn-NewIndex',
      placeholder: trans.__('[NAME=]URL')
    });
    const problem = h('span', { className: 'wn-warning' }, this._indexProblem);
    const add = () => {
      this._indexProblem = model.addIndex(newIndex.value) ?? '';
      if (this._indexProblem) {
        this.render();
      }
    };
    view.append(
      h('label', {}, trans.__('Indexes, highest priority first')),
      list,
      h(
        'div',
        { className: 'wn-Row' },
        newIndex,
        h(
          'button',
          { className: 'wn-Button wn-AddIndex', onClick: add },
          trans.__('Add')
        )
      ),
      problem
    );

    const strategy = h(
      'select',
      {
        className: 'wn-Strategy',
        onChange: (e: Event) =>
          model.setStrategy((e.target as HTMLSelectElement).value as Strategy)
      },
      ...STRATEGIES.map(s =>
        h('option', { value: s, selected: s === model.strategy }, s)
      )
    );
    view.append(h('label', {}, trans.__('Index strategy')), strategy);

    if (model.pins.length) {
      view.append(
        h(
          'ul',
          { className: 'wn-Pins' },
          ...model.pins.map(p =>
            h(
              'li',
              {},
              trans.__('%1 only from %2', p.name, p.index),
              ' ',
              h(
                'button',
                { className: 'wn-Icon', onClick: () => model.pin(p.name, '') },
                '✕'
              )
            )
          )
        )
      );
    }

    view.append(
      h(
        'div',
        { className: 'wn-Row' },
        h(
          'button',
          {
            className: 'wn-Button wn-PlanButton',
            disabled: !!model.busy,
            onClick: () => this._actions.plan()
          },
          trans.__('Plan')
        ),
        h(
          'button',
          {
            className: 'wn-Button wn-mod-accept wn-InstallButton',
            disabled: !!model.busy,
            onClick: () => this._actions.install()
          },
          trans.__('Install')
        )
      )
    );
    if (model.plan) {
      view.append(this._planTable());
    }
    return view;
  }

  private _planTable(): HTMLElement {
    const trans = this._trans;
    const model = this.model;
    const plan = model.plan!;
    const indexNames = model.indexes.map(e => indexName(e.spec));
    const rows = plan.report.install.map(item => {
      const name = normalizeName(item.metadata.name);
      const choices = compatibleVariants(item);
      const picker = h(
        'select',
        {
          className: 'wn-VariantPicker',
          'data-package': name,
          onChange: (e: Event) =>
            model.chooseVariant(name, (e.target as HTMLSelectElement).value)
        },
        h('option', { value: '' }, trans.__('automatic')),
        ...choices.map(v =>
          h(
            'option',
            {
              value: v.label,
              selected: model.variantChoices.get(name) === v.label
            },
            v.label
          )
        )
      );
      const pin = h(
        'select',
        {
          className: 'wn-PinPicker',
          onChange: (e: Event) =>
            model.pin(name, (e.target as HTMLSelectElement).value)
        },
        h('option', { value: '' }, trans.__('any index')),
        ...indexNames.map(n =>
          h(
            'option',
            {
              value: n,
              selected: model.pins.some(p => p.name === name && p.index === n)
            },
            n
          )
        )
      );
      return h(
        'tr',
        { 'data-package': name },
        h('td', {}, `${item.metadata.name} ${item.metadata.version}`),
        h('td', { className: 'wn-PlanVariant' }, item.variant?.label ?? '—'),
        h('td', {}, item.source.name),
        h('td', {}, choices.length ? picker : '', indexNames.length ? pin : '')
      );
    });
    return h(
      'div',
      { className: 'wn-Plan' },
      h('code', { className: 'wn-PlanLine' }, plan.line),
      h(
        'table',
        {},
        h(
          'tr',
          {},
          h('th', {}, trans.__('Package')),
          h('th', {}, trans.__('Variant')),
          h('th', {}, trans.__('Source')),
          h('th', {}, trans.__('Choose'))
        ),
        ...rows
      ),
      plan.report.install.length
        ? ''
        : h('p', {}, trans.__('Nothing to install: everything is up to date.')),
      ...(plan.report.warnings ?? []).map(w =>
        h('p', { className: 'wn-warning' }, w)
      )
    );
  }

  private _report(): HTMLElement {
    const trans = this._trans;
    const model = this.model;
    const view = h('div', { className: 'wn-ReportView' });
    view.append(h('h4', {}, trans.__('Last decision')));
    view.append(
      model.lastReport
        ? renderReport(model.lastReport, trans)
        : h('p', {}, trans.__('No install yet in this kernel session.'))
    );
    view.append(h('h4', {}, trans.__('History')));
    view.append(
      h(
        'ol',
        { className: 'wn-History' },
        ...model.history.map(entry =>
          h(
            'li',
            {},
            h('code', {}, entry.command ?? '%wninstall'),
            ' → ',
            entry.report.install
              .map(
                i =>
                  `${i.metadata.name} ${i.metadata.version}${i.variant ? ` (${i.variant.label})` : ''}`
              )
              .join(', ') || trans.__('nothing changed')
          )
        )
      )
    );
    return view;
  }

  private _view: ViewName = 'hardware';
  private _indexProblem = '';
}
