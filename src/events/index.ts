export * from './moco-event.js';
export * from './event-stream.js';
export * from './run-warnings.js';
