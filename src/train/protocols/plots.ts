// Plots as SVG, drawn with Vega-Lite (compiled to Vega and rendered headless): the confusion matrix as
// a heat map with row percentages, and the loss and accuracy curves per epoch.

import type { TopLevelSpec } from 'vega-lite';
import type { EpochMetrics } from '../loop/loop';
import type { ClassificationReport } from '../scores/metrics';

// Vega and Vega-Lite are loaded on the first plot, not with the module: they take ~0.7 s to import,
// which every `ser` command (a refused flag included) would otherwise pay at start-up.
async function render(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export function confusionSvg(report: ClassificationReport, classes: readonly string[], title: string): Promise<string> {
  const values = report.confusion.flatMap((row, t) =>
    row.map((count, p) => ({ true: classes[t], predicted: classes[p], count, percent: report.confusionRowPercent[t]![p]! })),
  );
  return render({
    title,
    data: { values },
    width: 40 * classes.length,
    height: 40 * classes.length,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: [...classes], title: 'predicted' },
      y: { field: 'true', type: 'nominal', sort: [...classes], title: 'true class' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'percent', type: 'quantitative', title: 'row %', scale: { scheme: 'blues', domain: [0, 100] } } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.percent > 60', value: 'white' }, value: 'black' },
        },
      },
    ],
  });
}

export function curvesSvg(history: readonly EpochMetrics[]): Promise<string> {
  const rows = history.flatMap((h) => [
    { epoch: h.epoch, metric: 'loss', split: 'train', value: h.trainLoss },
    ...(h.valLoss === null ? [] : [{ epoch: h.epoch, metric: 'loss', split: 'validation', value: h.valLoss }]),
    { epoch: h.epoch, metric: 'accuracy', split: 'train', value: h.trainAccuracy },
    ...(h.valAccuracy === null ? [] : [{ epoch: h.epoch, metric: 'accuracy', split: 'validation', value: h.valAccuracy }]),
    ...(h.valUar == null ? [] : [{ epoch: h.epoch, metric: 'UAR (unweighted recall)', split: 'validation', value: h.valUar }]),
  ]);
  return render({
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'split', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}
