// Reads a CSV manifest of labelled clips: `path,label[,speaker[,sex]]`, one clip per line, paths
// relative to the CSV file (absolute ones as they are). A first row whose cells include `path` is a header: then columns are
// found by name (`label` or `emotion`, `speaker`, `sex`) and others are ignored, so the RAVDESS
// manifest.csv of /work/shared reads as it is. Fields may be double-quoted (RFC 4180). Labels go
// through normaliseLabel; any unknown label is an error naming its lines, never a silent drop.

import { normaliseLabel } from './labels';
import {
  DatasetError, admit, finishDataset, isAudioFile, AUDIO_EXTENSIONS,
  type Dataset, type DatasetItem, type DatasetOptions, type SkippedFile,
} from './datasets';

/** Splits CSV text into rows of cells; quoted cells may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell.length > 0 || row.length > 0) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((x) => x.trim().length > 0));
}

interface Columns { path: number; label: number; speaker: number; sex: number }

function findColumns(header: string[], source: string): Columns {
  const names = header.map((h) => h.trim().toLowerCase());
  const label = names.indexOf('label') >= 0 ? names.indexOf('label') : names.indexOf('emotion');
  if (label < 0) throw new DatasetError(`manifest ${source}: header has no 'label' (or 'emotion') column`);
  return { path: names.indexOf('path'), label, speaker: names.indexOf('speaker'), sex: names.indexOf('sex') };
}

/** Builds a data set from manifest text; item paths are as written in the CSV (relative to it). */
export function datasetFromManifest(text: string, options: DatasetOptions = {}): Dataset {
  const source = options.source ?? 'CSV';
  const rows = parseCsv(text);
  if (rows.length === 0) throw new DatasetError(`manifest ${source} is empty`);
  const hasHeader = rows[0].some((c) => c.trim().toLowerCase() === 'path');
  const cols: Columns = hasHeader ? findColumns(rows[0], source) : { path: 0, label: 1, speaker: 2, sex: 3 };
  const firstLine = hasHeader ? 2 : 1;
  const items: DatasetItem[] = [];
  const skipped: SkippedFile[] = [];
  const unknown = new Map<string, number[]>();
  rows.slice(hasHeader ? 1 : 0).forEach((row, i) => {
    const line = firstLine + i;
    const path = (row[cols.path] ?? '').trim();
    const rawLabel = (row[cols.label] ?? '').trim();
    if (!path || !rawLabel) throw new DatasetError(`manifest ${source} line ${line}: needs a path and a label`);
    if (!isAudioFile(path)) {
      skipped.push({ path, reason: `not an audio file (${AUDIO_EXTENSIONS.join(', ')})` });
      return;
    }
    const label = normaliseLabel(rawLabel);
    if (!label) {
      unknown.set(rawLabel, [...(unknown.get(rawLabel) ?? []), line]);
      return;
    }
    const item: DatasetItem = { path, label, corpus: 'csv' };
    const speaker = (row[cols.speaker] ?? '').trim();
    if (speaker) item.speaker = speaker;
    const sex = (row[cols.sex] ?? '').trim().toUpperCase();
    if (sex === 'M' || sex === 'F') item.sex = sex;
    const reason = admit(item, { ...options, corpus: undefined });
    if (reason) skipped.push({ path, reason });
    else items.push(item);
  });
  if (unknown.size > 0) {
    const list = [...unknown].map(([l, lines]) => `'${l}' (line${lines.length > 1 ? 's' : ''} ${lines.slice(0, 5).join(', ')}${lines.length > 5 ? ', ...' : ''})`);
    throw new DatasetError(`manifest ${source}: unknown label(s) ${list.join(', ')}`);
  }
  return finishDataset(items, skipped, [], options);
}
