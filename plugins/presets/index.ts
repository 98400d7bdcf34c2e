import { presetModule, type MocoPlugin } from '../../src/index.js';
import { fmnistDefault } from './fmnist-default.js';
import { defaultPreset, mocoV1, mocoV2 } from './moco-presets.js';

export { defaultPreset, fmnistDefault, mocoV1, mocoV2 };

export const presetsPlugin: MocoPlugin = { name: 'tfjs-moco/presets', version: '0.1.0', module: presetModule([defaultPreset, mocoV1, mocoV2, fmnistDefault]) };
export { endToEnd, memoryBank, mechanismPresetsPlugin } from './mechanism-presets.js';
