import {
  checkIndexSpec,
  compatibleVariants,
  indexName,
  SidebarModel
} from '../model';
import { IInstallItem, IPlanResult } from '../protocol';

function item(
  name: string,
  variants: [string, boolean, number | null][]
): IInstallItem {
  return {
    metadata: { name, version: '1.0' },
    download_info: { url: `https://example.org/${name}-1.0-py3-none-any.whl` },
    requested: true,
    source: { name: 'main', url: 'https://example.org/simple' },
    variant: null,
    decision: {
      action: 'install',
      requested_by: [],
      files: [],
      variants: variants.map(([label, compatible, rank]) => ({
        label,
        compatible,
        verdict: compatible ? 'eligible' : 'unsupported',
        rank,
        properties: [],
        reasons: []
      })),
      versions_passed_over: [],
      notes: []
    }
  };
}

function plan(...items: IInstallItem[]): IPlanResult {
  return {
    args: [],
    line: '%wninstall x',
    report: { version: '1', install: items }
  };
}

describe('index entries', () => {
  it('names an entry by its NAME= prefix, else by its URL', () => {
    expect(indexName('cuda=https://example.org/cu/simple')).toBe('cuda');
    expect(indexName('https://example.org/simple')).toBe(
      'https://example.org/simple'
    );
  });

  it('accepts http, https and file URLs and refuses anything else', () => {
    expect(checkIndexSpec('https://example.org/simple')).toBeNull();
    expect(checkIndexSpec('local=file:///srv/wheels')).toBeNull();
    expect(checkIndexSpec('example.org/simple')).toMatch(/\[NAME=\]URL/);
    expect(checkIndexSpec('x=ftp://example.org')).toMatch(/\[NAME=\]URL/);
  });
});

describe('SidebarModel form', () => {
  it('keeps indexes in priority order as they are moved', () => {
    const model = new SidebarModel();
    model.addIndex('a=https://a.example/simple');
    model.addIndex('b=https://b.example/simple');
    model.addIndex('c=https://c.example/simple');
    model.moveIndex(2, -1);
    model.moveIndex(0, -1); // already first: no change
    expect(model.formParams().indexes).toEqual([
      'a=https://a.example/simple',
      'c=https://c.example/simple',
      'b=https://b.example/simple'
    ]);
  });

  it('refuses a duplicate index', () => {
    const model = new SidebarModel();
    expect(model.addIndex('https://a.example/simple')).toBeNull();
    expect(model.addIndex('https://a.example/simple')).toMatch(/already/);
  });

  it('drops pins to an index that is removed', () => {
    const model = new SidebarModel();
    model.addIndex('cuda=https://cu.example/simple');
    model.pin('Torch', 'cuda');
    expect(model.formParams().pins).toEqual(['torch=cuda']);
    model.removeIndex(0);
    expect(model.formParams().pins).toEqual([]);
  });

  it('sends requirements one a line, without blank lines', () => {
    const model = new SidebarModel();
    model.setRequirements('torch>=2.9\n\n  numpy  \n');
    expect(model.formParams().requirements).toEqual(['torch>=2.9', 'numpy']);
  });

  it('takes default indexes and strategy from settings until the user edits the form', () => {
    const model = new SidebarModel();
    model.applySettings({
      defaultIndexes: ['https://a.example/simple'],
      strategy: 'best-match',
      trustedProviders: ['p==1']
    });
    expect(model.formParams()).toMatchObject({
      indexes: ['https://a.example/simple'],
      strategy: 'best-match',
      trust_providers: ['p==1']
    });
    model.setStrategy('first-match');
    model.applySettings({
      defaultIndexes: [],
      strategy: 'first-index',
      trustedProviders: []
    });
    expect(model.formParams().strategy).toBe('first-match');
  });
});

describe('variant choices', () => {
  it('offers only compatible variants, best rank first', () => {
    const torch = item('torch', [
      ['cu126', true, 2],
      ['rocm6', false, null],
      ['cu128', true, 1]
    ]);
    expect(compatibleVariants(torch).map(v => v.label)).toEqual([
      'cu128',
      'cu126'
    ]);
  });

  it('sends the chosen variant as NAME=LABEL', () => {
    const model = new SidebarModel();
    model.chooseVariant('Torch', 'cu126');
    expect(model.formParams().variants).toEqual(['torch=cu126']);
    model.chooseVariant('torch', '');
    expect(model.formParams().variants).toEqual([]);
  });

  it('forgets a choice the new plan no longer allows', () => {
    const model = new SidebarModel();
    model.chooseVariant('torch', 'cu126');
    model.chooseVariant('numpy', 'x86_64_v3');
    model.setPlan(
      plan(
        item('torch', [['cu128', true, 1]]),
        item('numpy', [['x86_64_v3', true, 1]])
      )
    );
    expect(model.formParams().variants).toEqual(['numpy=x86_64_v3']);
  });
});

describe('reports and restarts', () => {
  it('collects the packages that need a restart until the kernel restarts', () => {
    const model = new SidebarModel();
    model.setReport({ version: '1', install: [], restart_required: ['numpy'] });
    model.setReport({
      version: '1',
      install: [],
      restart_required: ['torch', 'numpy']
    });
    expect(model.restartRequired).toEqual(['numpy', 'torch']);
    model.kernelRestarted();
    expect(model.restartRequired).toEqual([]);
  });

  it('shows the newest history entry as the last decision', () => {
    const model = new SidebarModel();
    const first = { version: '1', install: [item('a', [])] };
    const second = { version: '1', install: [item('b', [])] };
    model.setHistory([
      { command: '%wninstall a', report: first },
      { command: '%wninstall b', report: second }
    ]);
    expect(model.lastReport).toBe(second);
  });

  it('forgets the previous notebook’s hardware when another notebook is shown', () => {
    const model = new SidebarModel();
    model.setConnection('ready', { path: 'a.ipynb' });
    model.setHardware({ summary: 'x' } as any);
    model.setConnection('connecting', { path: 'b.ipynb' });
    expect(model.hardware).toBeNull();
  });
});
