// Entry point of the `tfjs-moco` executable (bin/tfjs-moco.js runs this).
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
// The wasm backend and open handles may keep the event loop alive: exit explicitly once output is flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
