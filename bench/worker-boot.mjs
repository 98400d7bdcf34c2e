// Entry of a bench worker thread: registers tsx in this thread (worker threads do not inherit the parent's
// TypeScript loader), then imports the TypeScript module named in workerData.entry.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
