// Dawn's adapter warnings are written by native code straight to file descriptor 2; the filter
// swaps that descriptor for the length of one call. Checked in child processes (the swap concerns the
// whole process) with stderr a shell pipe and a file of its own: the two known warnings are dropped,
// any other line written during the call comes through, and stderr works as before afterwards; with
// stderr a socket (a Node parent's 'pipe'), which cannot be reopened, nothing is swapped and every
// line shows. cli-faults.test.ts checks that `ser train --json` prints no warning.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MODULE = join(__dirname, '../../src/gpu/native-stderr.node.ts');
const WARNINGS = [
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
];
// Writes with writeSync(2), as native code writes to the descriptor (not through process.stderr).
const script = `
  import { writeSync } from 'node:fs';
  import { withNativeStderrFiltered } from ${JSON.stringify(MODULE)};
  process.stderr.write('before\\n');
  const r = withNativeStderrFiltered(() => { writeSync(2, ${JSON.stringify(`${WARNINGS[0]}\nsomething else\n${WARNINGS[1]}\n`)}); return 42; });
  process.stderr.write('after ' + r + '\\n');
  console.error('console.error still works');
`;
const args = ['--import', 'tsx', '--input-type=module', '-e', script];
const expected = 'before\nsomething else\nafter 42\nconsole.error still works\n';

describe('withNativeStderrFiltered', () => {
  it('drops the two Dawn warnings and keeps every other line (stderr a shell pipe)', () => {
    const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('sh', ['-c', `${quoted} 2>&1 >/dev/null | cat`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  it('works the same with stderr a file of its own', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ser-stderr-test-')), 'err.txt');
    const fd = openSync(path, 'w');
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    expect(r.status).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(expected);
  });

  it('leaves a socket alone: every line shows, in order', () => {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`before\n${WARNINGS[0]}\nsomething else\n${WARNINGS[1]}\nafter 42\nconsole.error still works\n`);
  });
});
