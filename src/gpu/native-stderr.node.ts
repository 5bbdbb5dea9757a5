// Dawn's adapter warnings, kept off the terminal. The first adapter request of a Dawn instance
// computes the adapter's limits, and where a Vulkan driver reports more dynamic buffers than Dawn
// supports (lavapipe: 1000000; RADV: 500000) Dawn clamps them and prints
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 ...
//   Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 ...
// from native code (dawn::WarningLog, an fprintf to stderr): nothing we request triggers it, and it
// goes through no callback that could filter it. withNativeStderrFiltered runs one synchronous call
// (the first requestAdapter, which does the enumeration before it returns) with file descriptor 2
// pointed at a private temporary file, then puts stderr back and writes through every line that is
// not one of the known warnings, so nothing else Dawn says there is lost.
//
// Node has no dup2: stderr is closed and reopened through /proc/self/fd, which takes the lowest free
// descriptor (2) at once; the swap is done only on Linux, only for a terminal, a pipe (a shell's `|`)
// or a regular file that can be reopened without moving anyone's offset (an appending file, or one
// that stdout does not share: not `> log 2>&1`), and skipped otherwise (the warnings then show, as
// before): sockets, which is what a Node parent's `stdio: 'pipe'` gives, cannot be reopened. It
// belongs at the start of a command, before other file work (the CLI: main.ts turns it on;
// `--verbose` keeps the warnings).

import { closeSync, constants, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Dawn's limit-clamping notices (Limits.cpp). */
export const DAWN_LIMIT_WARNING = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** The flags to reopen stderr with, or null when it cannot be reopened without changing how it is written. */
function reopenFlags(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const err = fstatSync(2);
    const { O_WRONLY, O_APPEND, O_NOCTTY } = constants;
    if (err.isFIFO() || err.isCharacterDevice()) return O_WRONLY | O_NOCTTY;
    if (!err.isFile()) return null;
    const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'))?.[1] ?? 'x', 8);
    if (!Number.isFinite(flags)) return null;
    if ((flags & O_APPEND) === 0) {
      // `> log 2>&1`: stdout writes at its own offset; an appending stderr would overwrite or be overwritten.
      const out = fstatSync(1);
      if (out.dev === err.dev && out.ino === err.ino) return null;
    }
    return O_WRONLY | O_APPEND;
  } catch {
    return null;
  }
}

/** Points descriptor 2 at `path` (the lowest free descriptor); false when another took it first. */
function reopenAs2(path: string, flags: number): boolean {
  closeSync(2);
  const fd = openSync(path, flags);
  if (fd === 2) return true;
  closeSync(fd);
  return false;
}

/**
 * Runs `call` (synchronous native work) with its writes to stderr captured; lines matching `drop`
 * are discarded, the others written to stderr afterwards. Without a safe way to swap stderr, just runs it.
 */
export function withNativeStderrFiltered<T>(call: () => T, drop: RegExp = DAWN_LIMIT_WARNING): T {
  const flags = reopenFlags();
  if (flags === null) return call();
  const dir = mkdtempSync(join(tmpdir(), 'ser-stderr-'));
  const capture = join(dir, 'stderr');
  let saved = -1;
  let captured = -1;
  try {
    saved = openSync('/proc/self/fd/2', flags); // a second way to our stderr, to put it back
    captured = openSync(capture, 'w');
  } catch {
    if (saved >= 0) closeSync(saved);
    rmSync(dir, { recursive: true, force: true });
    return call();
  }
  let swapped = false;
  try {
    swapped = reopenAs2(`/proc/self/fd/${captured}`, constants.O_WRONLY | constants.O_APPEND);
    return call();
  } finally {
    if (swapped) reopenAs2(`/proc/self/fd/${saved}`, flags);
    closeSync(saved);
    closeSync(captured);
    const kept = readFileSync(capture, 'utf8').split('\n').filter((l) => l !== '' && !drop.test(l));
    rmSync(dir, { recursive: true, force: true });
    if (kept.length) writeSync(2, `${kept.join('\n')}\n`);
  }
}
