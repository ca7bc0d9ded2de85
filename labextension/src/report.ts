/**
 * Renders an install report (`application/vnd.wheelnext.report+json`): one row per package with
 * the chosen file, source and variant, and the reasons behind every decision, expandable.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { h } from './dom';
import { IInstallItem, IReport } from './protocol';

/** The file name of a download URL. */
export function fileName(url: string): string {
  const path = url.split('#')[0].split('?')[0];
  return decodeURIComponent(path.substring(path.lastIndexOf('/') + 1));
}

function packageRow(item: IInstallItem, trans: TranslationBundle): HTMLElement {
  const variant = item.variant ? item.variant.label : trans.__('(no variant)');
  const reasons = h(
    'details',
    { className: 'wn-Report-reasons' },
    h('summary', {}, trans.__('Why')),
    h(
      'ul',
      {},
      ...item.decision.variants.map(v =>
        h(
          'li',
          { className: v.compatible ? 'wn-ok' : 'wn-rejected' },
          h('code', {}, v.label),
          ` ${v.verdict}`,
          v.reasons.length ? `: ${v.reasons.join('; ')}` : ''
        )
      ),
      ...item.decision.files
        .filter(f => f.verdict !== 'chosen')
        .slice(0, 20)
        .map(f =>
          h(
            'li',
            { className: 'wn-rejected' },
            h('code', {}, f.filename),
            ` ${f.verdict}`,
            f.reasons.length ? `: ${f.reasons.join('; ')}` : ''
          )
        ),
      ...item.decision.versions_passed_over.map(p =>
        h('li', {}, trans.__('version %1 passed over: %2', p.version, p.reason))
      ),
      ...item.decision.notes.map(note => h('li', {}, note))
    )
  );
  return h(
    'div',
    { className: 'wn-Report-package', 'data-package': item.metadata.name },
    h(
      'div',
      { className: 'wn-Report-head' },
      h('strong', {}, `${item.metadata.name} ${item.metadata.version}`),
      ' ',
      h(
        'span',
        { className: 'wn-Report-variant', 'data-variant': variant },
        variant
      ),
      ' ',
      h(
        'span',
        { className: 'wn-Report-source' },
        trans.__('from %1', item.source.name)
      )
    ),
    h('div', { className: 'wn-Report-file' }, fileName(item.download_info.url)),
    reasons
  );
}

/** The report as DOM. */
export function renderReport(
  report: IReport,
  trans: TranslationBundle
): HTMLElement {
  const root = h('div', { className: 'wn-Report' });
  if (!report.install.length) {
    root.append(
      h('p', {}, trans.__('Nothing to install: everything is up to date.'))
    );
  }
  for (const item of report.install) {
    root.append(packageRow(item, trans));
  }
  if (report.unchanged && report.unchanged.length) {
    root.append(
      h(
        'details',
        {},
        h('summary', {}, trans.__('%1 unchanged', report.unchanged.length)),
        h(
          'ul',
          {},
          ...report.unchanged.map(u =>
            h(
              'li',
              {},
              `${u.name} ${u.version}`,
              u.variant_label ? ` (${u.variant_label})` : ''
            )
          )
        )
      )
    );
  }
  for (const warning of report.warnings ?? []) {
    root.append(h('p', { className: 'wn-warning' }, warning));
  }
  if (report.restart_required && report.restart_required.length) {
    root.append(
      h(
        'p',
        { className: 'wn-restart-notice' },
        trans.__(
          'Restart the kernel to use the new versions of: %1',
          report.restart_required.join(', ')
        )
      )
    );
  }
  return root;
}
