import test from 'ava';
import { CLI_PRESET, QUICK_MOCO, mocoSettings } from '../../../apps/cli/moco-settings.js';

test('layers: preset < --quick < config file < flags; a section with another id replaces the lower one whole', (t) => {
  t.deepEqual(mocoSettings(undefined, {}, false), { preset: CLI_PRESET });
  t.deepEqual(mocoSettings(undefined, {}, true), { ...QUICK_MOCO, preset: CLI_PRESET }, '--quick shrinks the default queue');
  t.deepEqual(mocoSettings({ dictionary: { size: 2048 } }, {}, true), { dictionary: { size: 2048 }, preset: CLI_PRESET }, 'the file wins over --quick');
  t.deepEqual(
    mocoSettings({ dictionary: { size: 2048 }, loss: { temperature: 0.3 } }, { queueSize: 512, keyMomentum: 0.9, temperature: 0.2 }, true),
    { dictionary: { size: 512 }, loss: { temperature: 0.2 }, update: { keyEncoderMomentum: 0.9 }, preset: CLI_PRESET },
    'the flags win over the file',
  );
  t.deepEqual(mocoSettings({ dictionary: { id: 'memory-bank' } }, {}, true), { dictionary: { id: 'memory-bank' }, preset: CLI_PRESET }, "another dictionary drops --quick's queue size");
  t.deepEqual(mocoSettings(undefined, { preset: 'memory-bank' }, true), { preset: 'memory-bank' }, "--quick leaves another preset's dictionary alone");
  t.deepEqual(mocoSettings({ preset: 'mocov2' }, { preset: 'mocov1' }, false), { preset: 'mocov1' }, '--preset wins over the file');
  t.throws(() => mocoSettings([1], {}, false), { message: /--config: moco: expected an object/ });
});
