// The default folder of real clips for the benchmarks that read audio (bench/features.ts, the peer
// feature cases): RAVDESS in the shared data folder beside the repository, ../shared/data/ravdess from
// its root (how the project's machines lay it out), resolved from this file, not from the working
// directory. `ser bench --data DIR` and SER_BENCH_DATA name another; cases skip when it is absent.

import { fileURLToPath } from 'node:url';

export const DEFAULT_DATA = fileURLToPath(new URL('../../shared/data/ravdess', import.meta.url));
