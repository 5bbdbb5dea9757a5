#!/usr/bin/env node
// Set-up: make sure this machine has a WebGPU adapter for Dawn. When it has one (a real GPU, or a
// software driver already installed) nothing is touched. When it has none, on Debian/Ubuntu as root (or
// with passwordless sudo), install the software Vulkan driver (Mesa lavapipe): on Debian 12 from
// bookworm-backports (bookworm's own Mesa 22.3 lacks a feature Dawn needs), elsewhere the
// distribution's own. Also installs Debian's chromium for the browser tests when absent (a step that
// never fails the set-up). Idempotent; prints what it found and what it did.
//
//   node scripts/setup.mjs           check, install when needed, check again (exit 1 if still none)
//   node scripts/setup.mjs --check   check only (exit 1 if no adapter)
//   node scripts/setup.mjs --auto    as npm's postinstall: like the default, but never fails the install

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = new Set(process.argv.slice(2));
const log = (msg) => console.log(`[setup] ${msg}`);

/** Probe for an adapter in a child process (a fresh Vulkan loader sees a driver installed just now). */
function probe() {
  const code = `
    import { create, globals } from 'webgpu';
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) { console.log('null'); process.exit(0); }
    const i = a.info;
    console.log(JSON.stringify({ vendor: i.vendor, architecture: i.architecture, description: i.description }));
    process.exit(0);`;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || line === 'null' || !line.startsWith('{')) return null;
  return JSON.parse(line);
}

function osRelease() {
  if (!existsSync('/etc/os-release')) return {};
  const out = {};
  for (const l of readFileSync('/etc/os-release', 'utf8').split('\n')) {
    const m = l.match(/^(\w+)="?([^"]*)"?$/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function asRoot() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true']);
  return sudo.status === 0 ? ['sudo', '-n'] : null;
}

function run(prefix, cmd, cmdArgs, env = {}) {
  const full = [...prefix, cmd, ...cmdArgs];
  log(`$ ${full.join(' ')}`);
  execFileSync(full[0], full.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env } });
}

function installLavapipe() {
  const os = osRelease();
  if (process.platform !== 'linux' || !['debian', 'ubuntu'].includes(os.ID)) {
    log(`no automatic install for ${os.PRETTY_NAME ?? process.platform}: install a Vulkan driver (Mesa lavapipe: package mesa-vulkan-drivers) or use a machine with a GPU`);
    return false;
  }
  const prefix = asRoot();
  if (!prefix) {
    log('installing the software Vulkan driver needs root: run `sudo npm run setup`');
    return false;
  }
  const apt = ['-y', '-q', '-o', 'Dpkg::Use-Pty=0'];
  if (os.ID === 'debian' && os.VERSION_CODENAME === 'bookworm') {
    const list = '/etc/apt/sources.list.d/bookworm-backports.list';
    if (!existsSync(list) && !existsSync('/etc/apt/sources.list.d/backports.list')) {
      log(`adding ${list} (bookworm's own Mesa 22.3 lacks shaderUniform*ArrayDynamicIndexing, which Dawn needs)`);
      if (prefix.length === 0) writeFileSync(list, 'deb http://deb.debian.org/debian bookworm-backports main\n');
      else run(prefix, 'sh', ['-c', `echo "deb http://deb.debian.org/debian bookworm-backports main" > ${list}`]);
    }
    run(prefix, 'apt-get', ['update', '-q']);
    run(prefix, 'apt-get', ['install', ...apt, 'libvulkan1']);
    run(prefix, 'apt-get', ['install', ...apt, '-t', 'bookworm-backports', 'mesa-vulkan-drivers']);
  } else {
    run(prefix, 'apt-get', ['update', '-q']);
    run(prefix, 'apt-get', ['install', ...apt, 'libvulkan1', 'mesa-vulkan-drivers']);
  }
  return true;
}

/**
 * The browser tests (test/browser) drive Debian's chromium through playwright-core. A separate step
 * that never changes the exit status: without chromium those tests are skipped with the reason.
 */
function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) {
    log('chromium: /usr/bin/chromium present (browser tests run)');
    return;
  }
  const os = osRelease();
  const prefix = process.platform === 'linux' && ['debian', 'ubuntu'].includes(os.ID) ? asRoot() : null;
  if (!prefix) {
    log('chromium: absent and not installable here (needs root on Debian/Ubuntu); the browser tests will be skipped');
    return;
  }
  try {
    run(prefix, 'apt-get', ['update', '-q']);
    run(prefix, 'apt-get', ['install', '-y', '-q', '-o', 'Dpkg::Use-Pty=0', 'chromium']);
  } catch (e) {
    log(`chromium: install failed (${e.message}); the browser tests will be skipped`);
  }
}

function main() {
  if (args.has('--auto') && process.env.INIT_CWD && process.env.INIT_CWD !== process.cwd()) {
    return 0; // installed as someone else's dependency: leave their machine alone
  }
  if (!args.has('--check')) ensureChromium();
  const found = probe();
  if (found) {
    log(`WebGPU adapter: ${found.vendor} ${found.architecture} ${found.description}`.trim() + ' — nothing to install');
    return 0;
  }
  log('no WebGPU adapter found');
  if (args.has('--check')) {
    log('run `npm run setup` to install the software Vulkan driver (Mesa lavapipe)');
    return 1;
  }
  let installed = false;
  try {
    installed = installLavapipe();
  } catch (e) {
    log(`install failed: ${e.message}`);
  }
  const after = installed ? probe() : null;
  if (after) {
    log(`installed; WebGPU adapter now: ${after.vendor} ${after.architecture} ${after.description}`.trim());
    return 0;
  }
  log('still no WebGPU adapter: the tests and training need one (see README, "Set-up")');
  return args.has('--auto') ? 0 : 1;
}

process.exit(main());
