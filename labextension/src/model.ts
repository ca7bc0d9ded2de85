/**
 * The sidebar's state: connection, hardware, the install form, the last plan and report.
 *
 * No JupyterLab imports here beyond signals, so every rule is testable on its own.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  IHardware,
  IHello,
  IHistoryEntry,
  IInstallItem,
  IPlanResult,
  IReport,
  IVariantVerdict,
  JSONObject
} from './protocol';

export type Strategy = 'first-index' | 'first-match' | 'best-match';
export const STRATEGIES: Strategy[] = [
  'first-index',
  'first-match',
  'best-match'
];

/** Where the sidebar stands with the current notebook's kernel. */
export type ConnectionState =
  'no-notebook' | 'connecting' | 'missing-package' | 'ready' | 'error';

export interface IIndexEntry {
  /** `[NAME=]URL` as the command line spells it. */
  spec: string;
}

export interface IPin {
  name: string;
  index: string;
}

export interface ISettings {
  defaultIndexes: string[];
  strategy: Strategy;
  trustedProviders: string[];
}

export const DEFAULT_SETTINGS: ISettings = {
  defaultIndexes: [],
  strategy: 'first-index',
  trustedProviders: []
};

/** The variants of one planned package that the user may pick: compatible ones, best first. */
export function compatibleVariants(item: IInstallItem): IVariantVerdict[] {
  return item.decision.variants
    .filter(v => v.compatible)
    .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
}

/** The name an index entry goes by: its `NAME=` prefix, else its URL. */
export function indexName(spec: string): string {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$/.exec(spec.trim());
  return match ? match[1] : spec.trim();
}

/** Validate an index entry: a URL (http, https or file) with an optional `NAME=`. */
export function checkIndexSpec(spec: string): string | null {
  const text = spec.trim();
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$/.exec(text);
  const url = match ? match[2] : text;
  if (!/^(https?|file):\/\/\S+$/.test(url)) {
    return 'write an index as [NAME=]URL, e.g. cuda=https://example.org/simple';
  }
  return null;
}

export function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_.]+/g, '-');
}

export class SidebarModel {
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  // -- connection -----------------------------------------------------------------------------

  state: ConnectionState = 'no-notebook';
  /** What went wrong, in words, when `state` is `error` or `missing-package`. */
  message = '';
  hello: IHello | null = null;
  notebookPath: string | null = null;

  setConnection(
    state: ConnectionState,
    options: {
      message?: string;
      hello?: IHello | null;
      path?: string | null;
    } = {}
  ): void {
    this.state = state;
    this.message = options.message ?? '';
    if (options.hello !== undefined) {
      this.hello = options.hello;
    }
    if (options.path !== undefined) {
      if (options.path !== this.notebookPath) {
        // Another notebook: another kernel, so nothing shown so far applies.
        this.hardware = null;
        this.plan = null;
        this.history = [];
        this.restartRequired = [];
      }
      this.notebookPath = options.path;
    }
    this._changed.emit();
  }

  // -- hardware -------------------------------------------------------------------------------

  hardware: IHardware | null = null;

  setHardware(hardware: IHardware | null): void {
    this.hardware = hardware;
    this._changed.emit();
  }

  // -- install form ---------------------------------------------------------------------------

  requirements = '';
  indexes: IIndexEntry[] = [];
  strategy: Strategy = 'first-index';
  pins: IPin[] = [];
  trustedProviders: string[] = [];
  /** Variant chosen per package (normalised name → label). */
  variantChoices = new Map<string, string>();

  /** Settings apply to the form until the user changes it. */
  applySettings(settings: ISettings): void {
    if (!this._formTouched) {
      this.indexes = settings.defaultIndexes.map(spec => ({ spec }));
      this.strategy = settings.strategy;
    }
    this.trustedProviders = [...settings.trustedProviders];
    this._changed.emit();
  }

  setRequirements(text: string): void {
    this.requirements = text;
    this._touch();
  }

  addIndex(spec: string): string | null {
    const problem = checkIndexSpec(spec);
    if (problem) {
      return problem;
    }
    if (this.indexes.some(entry => entry.spec === spec.trim())) {
      return 'this index is already in the list';
    }
    this.indexes.push({ spec: spec.trim() });
    this._touch();
    return null;
  }

  removeIndex(position: number): void {
    const [removed] = this.indexes.splice(position, 1);
    if (removed) {
      const name = indexName(removed.spec);
      this.pins = this.pins.filter(pin => pin.index !== name);
    }
    this._touch();
  }

  /** Move an index up (-1) or down (+1) in priority. */
  moveIndex(position: number, by: number): void {
    const target = position + by;
    if (
      position < 0 ||
      position >= this.indexes.length ||
      target < 0 ||
      target >= this.indexes.length
    ) {
      return;
    }
    const [entry] = this.indexes.splice(position, 1);
    this.indexes.splice(target, 0, entry);
    this._touch();
  }

  setStrategy(strategy: Strategy): void {
    this.strategy = strategy;
    this._touch();
  }

  /** Take `name` only from `index` (a name from the list); an empty index removes the pin. */
  pin(name: string, index: string): void {
    const key = normalizeName(name);
    this.pins = this.pins.filter(p => normalizeName(p.name) !== key);
    if (index) {
      this.pins.push({ name: key, index });
    }
    this._touch();
  }

  /** Choose a variant for a package; an empty label goes back to the automatic choice. */
  chooseVariant(name: string, label: string): void {
    const key = normalizeName(name);
    if (label) {
      this.variantChoices.set(key, label);
    } else {
      this.variantChoices.delete(key);
    }
    this._touch();
  }

  /** The request parameters of the kernel's `plan` and `command` methods. */
  formParams(): JSONObject {
    return {
      requirements: this.requirements
        .split('\n')
        .map(line => line.trim())
        .filter(line => line.length > 0),
      indexes: this.indexes.map(entry => entry.spec),
      strategy: this.strategy,
      pins: this.pins.map(pin => `${pin.name}=${pin.index}`),
      variants: [...this.variantChoices].map(
        ([name, label]) => `${name}=${label}`
      ),
      trust_providers: this.trustedProviders
    };
  }

  // -- plan and report ------------------------------------------------------------------------

  plan: IPlanResult | null = null;
  /** The last install's report (from `%wninstall` or history). */
  lastReport: IReport | null = null;
  history: IHistoryEntry[] = [];
  restartRequired: string[] = [];
  busy: string | null = null;

  setPlan(plan: IPlanResult | null): void {
    this.plan = plan;
    if (plan) {
      // Forget choices for packages the plan no longer has, or that are no longer compatible.
      for (const [name, label] of [...this.variantChoices]) {
        const item = plan.report.install.find(
          i => normalizeName(i.metadata.name) === name
        );
        if (!item || !compatibleVariants(item).some(v => v.label === label)) {
          this.variantChoices.delete(name);
        }
      }
    }
    this._changed.emit();
  }

  setHistory(history: IHistoryEntry[]): void {
    this.history = history;
    const last = history[history.length - 1];
    if (last) {
      this.setReport(last.report);
    } else {
      this._changed.emit();
    }
  }

  /** A new install report: it becomes the last decision, and may ask for a restart. */
  setReport(report: IReport): void {
    this.lastReport = report;
    const wanted = new Set([
      ...this.restartRequired,
      ...(report.restart_required ?? [])
    ]);
    this.restartRequired = [...wanted].sort();
    this._changed.emit();
  }

  addHistory(entry: IHistoryEntry): void {
    this.history = [...this.history, entry];
    this.setReport(entry.report);
  }

  /** After a restart nothing stale is loaded any more. */
  kernelRestarted(): void {
    this.restartRequired = [];
    this.history = [];
    this._changed.emit();
  }

  setBusy(what: string | null): void {
    this.busy = what;
    this._changed.emit();
  }

  private _touch(): void {
    this._formTouched = true;
    this._changed.emit();
  }

  private _formTouched = false;
  private _changed = new Signal<this, void>(this);
}
