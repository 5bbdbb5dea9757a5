// With SER_PIPELINE_LOG=FILE set (src/gpu/node.node.ts logs every pipeline created to FILE), tags each
// line with the test file that created it, so that scripts/pipeline-log.ts can say which files compile
// the most distinct pipelines on a cold shader cache. A CLI the test spawns inherits the tag.

import { relative } from 'node:path';
import { beforeAll } from 'vitest';

if (process.env.SER_PIPELINE_LOG) {
  beforeAll(({}, suite) => {
    const file = 'filepath' in suite ? suite.filepath : suite.file?.filepath;
    if (file) process.env.SER_PIPELINE_LOG_TAG = relative(process.cwd(), file);
  });
}
