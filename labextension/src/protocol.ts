/**
 * The sidebar ↔ kernel protocol (kernel side: `wheelnext_jupyter/comm.py`).
 */

/** The comm target the kernel registers for requests. */
export const RPC_TARGET = 'wheelnext';
/** The comm target the kernel opens for events from running cells. */
export const EVENTS_TARGET = 'wheelnext.events';
/** Protocol versions this sidebar speaks, oldest first. */
export const PROTOCOL_VERSIONS = [1];
/** MIME type of `%wninstall` report outputs. */
export const REPORT_MIME_TYPE = 'application/vnd.wheelnext.report+json';

export type JSONObject = { [key: string]: any };

export interface IRequest {
  v: number;
  id: number;
  method: string;
  params: JSONObject;
}

export interface IErrorBody {
  code: string;
  message: string;
}

export interface IReply {
  v: number;
  id: number | null;
  ok: boolean;
  result?: any;
  error?: IErrorBody;
}

export interface IEvent {
  v: number;
  id?: number | null;
  event: string;
  data: JSONObject;
}

export interface IHello {
  protocol: number;
  server: { name: string; version: string };
  methods: string[];
  capabilities: {
    events_target?: string;
    report_mime_type?: string;
    concurrent?: boolean;
    magic?: boolean;
  };
  python: string;
}

export interface IFeature {
  name: string;
  values: string[];
  multi_value: boolean;
}

export interface IGpu {
  vendor: string;
  model: string | null;
  memory_bytes: number | null;
  compute_capability: string | null;
  architecture: string | null;
  driver: string | null;
  cuda: string | null;
  rocm: string | null;
}

export interface IHardware {
  cpu: {
    model: string | null;
    vendor: string | null;
    architecture: string | null;
    level: string | null;
    missing_for_next_level: string[];
  };
  gpus: IGpu[];
  tpu: { present: boolean; generation: string | null; chips: number | null };
  hosting: { platform: string; container: string | null; jupyterhub: boolean };
  platform: JSONObject;
  profile: string | null;
  namespaces: {
    [ns: string]: {
      supported: boolean;
      provenance: string;
      features: IFeature[];
    };
  };
  errors: { [kind: string]: string };
  summary: string;
}

export interface IVariantVerdict {
  label: string;
  compatible: boolean;
  verdict: string;
  rank: number | null;
  properties: string[];
  reasons: string[];
}

export interface IFileVerdict {
  filename: string;
  source: string;
  verdict: string;
  reasons: string[];
}

export interface IInstallItem {
  metadata: { name: string; version: string; [key: string]: any };
  download_info: { url: string };
  requested: boolean;
  source: { name: string; url: string };
  variant: {
    label: string;
    properties: string[];
    supported_properties: string[];
  } | null;
  decision: {
    action: string;
    requested_by: string[];
    files: IFileVerdict[];
    variants: IVariantVerdict[];
    versions_passed_over: { version: string; reason: string }[];
    notes: string[];
  };
}

/** The JSON report (`build_report`): pip's installation report plus our decisions. */
export interface IReport {
  version: string;
  install: IInstallItem[];
  unchanged?: {
    name: string;
    version: string;
    variant_label: string | null;
    requested: boolean;
    notes: string[];
  }[];
  sources?: { name: string; url: string; kind: string; explicit: boolean }[];
  index_strategy?: string;
  warnings?: string[];
  restart_required?: string[];
  [key: string]: any;
}

export interface IPlanResult {
  args: string[];
  line: string;
  report: IReport;
}

export interface IHistoryEntry {
  command: string | null;
  report: IReport;
}
