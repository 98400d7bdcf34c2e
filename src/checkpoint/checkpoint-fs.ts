// The file operations a checkpoint needs, behind a small interface: Node's fs by default (imported lazily, so
// that importing the library never pulls in node:fs), replaceable in tests to simulate a crash mid-write.

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

let nodeFs: Promise<CheckpointFs> | undefined;

/** The default: Node's fs/promises and crypto. */
export function defaultCheckpointFs(): Promise<CheckpointFs> {
  nodeFs ??= (async () => {
    const fs = await import('node:fs/promises');
    const crypto = await import('node:crypto');
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
