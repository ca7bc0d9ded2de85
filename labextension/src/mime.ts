/**
 * Renders `%wninstall` report outputs in notebooks.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IReport, REPORT_MIME_TYPE } from './protocol';
import { renderReport } from './report';

export class ReportRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this._trans = (options.translator ?? nullTranslator).load(
      'wheelnext_jupyter'
    );
    this.addClass('wn-ReportOutput');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const report = model.data[this._mimeType] as unknown as IReport;
    this.node.replaceChildren(renderReport(report, this._trans));
    return Promise.resolve();
  }

  private _mimeType: string;
  private _trans: ReturnType<typeof nullTranslator.load>;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [REPORT_MIME_TYPE],
  createRenderer: options => new ReportRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'wheelnext-jupyter:report-renderer',
  rendererFactory,
  // Below HTML's 50 (a tie goes to the renderer registered first, HTML), so the rich view wins
  // where this extension is loaded.
  rank: 40,
  dataType: 'json'
};

export default extension;
