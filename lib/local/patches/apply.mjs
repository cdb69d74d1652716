// npm's postinstall: applies the patches of the local emulators (dynalite, local-aws-sqs) with
// patch-package. Plain JavaScript because a production install (`npm ci --omit=dev`) has neither
// tsx nor patch-package nor the emulators — then there is nothing to patch, and it says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../../../node_modules/patch-package/package.json', import.meta.url))) {
  console.log('postinstall: patch-package is not installed (a production install): no local emulator to patch');
  process.exit(0);
}
const applied = spawnSync('npx', ['patch-package', '--patch-dir', 'lib/local/patches', '--error-on-fail'], { stdio: 'inherit' });
process.exit(applied.status ?? 1);
