import type { EncoderUpdateStrategy } from '../../../src/index.js';

/**
 * The end-to-end mechanism's "update rule" (He et al. 2020, Sec. 3.2 and Fig. 2a): there is no key
 * encoder; the query encoder encodes the keys too, inside the gradient scope, so the keys are
 * updated by back-propagation together with the queries. Its factory declares keySource
 * 'query-encoder', so the trainer builds no key encoder and there is nothing to `apply`.
 */
export class SharedEncoderUpdate implements EncoderUpdateStrategy {
  readonly id = 'shared';
}
