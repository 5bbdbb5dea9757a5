// The `ser` command: thin subcommands over the library (program.ts; each subcommand lives in its own
// file and registers itself on the program).

import { createProgram } from './program';

try {
  await createProgram().parseAsync(process.argv);
} catch (e) {
  console.error(`ser: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
