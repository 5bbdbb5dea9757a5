// Node entry point for data sets: walks a folder (recursively, skipping dot-folders) or reads a CSV
// manifest, then hands the relative paths to the pure recognisers in datasets.ts / manifest.ts and
// returns item paths joined onto the folder (or the CSV's folder). Only names are read, never audio.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DatasetError, datasetFromPaths, type Dataset, type DatasetOptions } from './datasets';
import { classesPresent } from './labels';
import { datasetFromManifest } from './manifest';

function walk(root: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) walk(root, childRel, out);
    } else if (entry.isFile()) out.push(childRel);
  }
}

/** Lists files under root as '/'-separated relative paths, sorted so results never depend on the OS. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  walk(root, '', out);
  return out.sort();
}

/**
 * Loads a data set from a folder (conventions auto-detected per file) or a `.csv` manifest.
 * Throws DatasetError on a missing or empty folder, no recognised names, or unknown labels.
 */
export function loadDataset(location: string, options: DatasetOptions = {}): Dataset {
  if (!existsSync(location)) throw new DatasetError(`data path not found: ${location}`);
  const source = options.source ?? location;
  if (statSync(location).isFile()) {
    if (!location.toLowerCase().endsWith('.csv')) {
      throw new DatasetError(`${location} is a file but not a .csv manifest; pass a folder or a manifest`);
    }
    const base = dirname(location);
    // Relative paths are relative to the manifest; absolute ones are taken as they are.
    const resolvePath = (p: string) => (isAbsolute(p) ? p : join(base, ...p.split('/')));
    const ds = datasetFromManifest(readFileSync(location, 'utf8'), { ...options, source });
    const items = [];
    for (const item of ds.items) {
      const path = resolvePath(item.path);
      if (existsSync(path)) items.push({ ...item, path });
      else ds.skipped.push({ path: item.path, reason: 'listed in the manifest but missing on disk' });
    }
    if (items.length === 0) throw new DatasetError(`manifest ${source}: none of its ${ds.items.length} files exist`);
    return { ...ds, items, classes: classesPresent(items.map((i) => i.label)), skipped: ds.skipped.map((s) => ({ ...s, path: resolvePath(s.path) })) };
  }
  const ds = datasetFromPaths(listFiles(location), { ...options, source });
  const abs = (rel: string): string => join(location, ...rel.split('/'));
  return {
    ...ds,
    items: ds.items.map((item) => ({ ...item, path: abs(item.path) })),
    skipped: ds.skipped.map((s) => ({ ...s, path: abs(s.path) })),
  };
}
