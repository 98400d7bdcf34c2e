export * from './moco-event.js';
export * from './event-stream.js';
