// docs/CLI.md is generated from the commander definitions (scripts/cli-docs.ts): it must be exactly
// what the script prints now, so a flag added, removed or reworded without `npm run docs:cli` fails
// here.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_DOC, cliReference } from '../../scripts/cli-docs';

describe('docs/CLI.md', () => {
  it('is what `npm run docs:cli` generates from the commands (run it after changing a flag)', () => {
    expect(readFileSync(CLI_DOC, 'utf8')).toBe(cliReference());
  });

  it('covers every command with its flags', () => {
    const doc = cliReference();
    for (const heading of ['## `ser`', '## `ser info`', '## `ser train`', '## `ser evaluate`', '## `ser predict`', '## `ser features`', '## `ser bench`']) expect(doc).toContain(heading);
    expect(doc).toContain('--weight-decay');
    expect(doc).not.toMatch(/\u001b\[/); // no colour codes
  });
});
