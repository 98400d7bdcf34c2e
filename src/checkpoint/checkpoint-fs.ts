// The file operations a checkpoint needs, behind a small interface: Node's fs by default (imported lazily,
// through a specifier held in a variable, so that neither importing the library nor bundling it for a browser
// pulls in node:fs), replaceable in tests to simulate a crash mid-write, and by a browser app's own storage.

/** File operations used to write and read checkpoints and exported models. Paths are plain strings. */
export interface CheckpointFs {
  mkdir(path: string): Promise<void>;
  /** Write the whole file and flush it to the disk (fsync) before resolving. */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Atomically replace `to` by `from` (POSIX rename). */
  rename(from: string, to: string): Promise<void>;
  /** Names in a folder; [] when it does not exist. */
  readdir(path: string): Promise<string[]>;
  /** Remove a file (or folder, recursively); no error if it is missing. */
  remove(path: string): Promise<void>;
  /** Flush a folder's entries (after a rename), where the platform allows it. */
  syncDir(path: string): Promise<void>;
  /** SHA-256 of the bytes, hex. */
  sha256(data: Uint8Array): Promise<string>;
}

const FS_OPERATIONS: readonly (keyof CheckpointFs)[] = ['mkdir', 'writeFile', 'readFile', 'rename', 'readdir', 'remove', 'syncDir', 'sha256'];

let nodeFs: Promise<CheckpointFs> | undefined;

const FS_MODULE = 'node:fs/promises';
const CRYPTO_MODULE = 'node:crypto';

/** A Node built-in, imported at run time only (bundlers do not follow a specifier held in a variable). */
async function nodeBuiltin<T>(specifier: string): Promise<T> {
  const isNode = typeof process === 'object' && process != null && typeof process.versions?.node === 'string';
  if (!isNode) {
    throw new Error(
      `tfjs-moco: checkpoints and model files on disk need Node (${specifier}); in a browser pass the option ` +
        '`fs` (a CheckpointFs over your own storage) or save the encoder with tf.io (e.g. model.save("indexeddb://…"))',
    );
  }
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}

/** The default: Node's fs/promises and crypto. */
export function defaultCheckpointFs(): Promise<CheckpointFs> {
  nodeFs ??= (async () => {
    const fs = await nodeBuiltin<typeof import('node:fs/promises')>(FS_MODULE);
    const crypto = await nodeBuiltin<typeof import('node:crypto')>(CRYPTO_MODULE);
    const impl: CheckpointFs = {
      async mkdir(path) {
        await fs.mkdir(path, { recursive: true });
      },
      async writeFile(path, data) {
        const handle = await fs.open(path, 'w');
        try {
          await handle.writeFile(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
      async readFile(path) {
        const b = await fs.readFile(path);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      },
      rename: (from, to) => fs.rename(from, to),
      async readdir(path) {
        try {
          return await fs.readdir(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw err;
        }
      },
      remove: (path) => fs.rm(path, { recursive: true, force: true }),
      async syncDir(path) {
        // Directories cannot be opened for fsync on Windows; there the rename is as durable as it gets.
        let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
        try {
          handle = await fs.open(path, 'r');
          await handle.sync();
        } catch {
          // best effort
        } finally {
          await handle?.close();
        }
      },
      async sha256(data) {
        return crypto.createHash('sha256').update(data).digest('hex');
      },
    };
    return impl;
  })();
  return nodeFs;
}

/** The default fs with some operations replaced (tests inject failures this way). */
export async function resolveFs(overrides?: Partial<CheckpointFs>): Promise<CheckpointFs> {
  // A complete replacement (a browser app's storage) needs no Node at all.
  if (overrides && FS_OPERATIONS.every((op) => typeof overrides[op] === 'function')) return overrides as CheckpointFs;
  const base = await defaultCheckpointFs();
  return overrides ? { ...base, ...overrides } : base;
}

/** A short random suffix for temporary and data file names. */
export function nonce(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 0xffffffff).toString(36)}`;
}

/**
 * Write a file atomically: to `<path>.tmp-<nonce>` (flushed), then renamed over `path`, then the folder
 * flushed. A crash at any moment leaves either the old file or the new one, never a mix.
 */
export async function writeFileAtomic(fs: CheckpointFs, dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = joinPath(dir, `${name}.tmp-${nonce()}`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, joinPath(dir, name));
  } catch (err) {
    await fs.remove(tmp).catch(() => undefined);
    throw err;
  }
  await fs.syncDir(dir);
}

/** path.join for the two cases used here, without importing node:path. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`;
}
