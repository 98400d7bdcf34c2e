import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { convertChannels, decodeImage, type DecodedImage } from './decode-image.js';
import { DataError, fsErrorToDataError } from '../../data/errors.js';
import { bufferBytes } from './read-data-file.js';
import { createImageSet } from '../../data/create-image-set.js';
import type { ImageSet } from '../../data/image-set.js';

export interface ImageFolderOptions {
  /**
   * Channels of the result. Default: 1 if every image is grey (R = G = B everywhere, whatever the file's colour
   * type), else 3. Colour becomes grey by BT.601 luma; grey becomes RGB by repetition; alpha is dropped.
   */
  channels?: 1 | 3;
  /**
   * Receives one message per skipped file or ignored oddity (each names the path). Default console.warn.
   * A corrupt image is skipped, not fatal, so that one bad file in 60,000 does not stop a run; the load fails
   * only if no usable image remains.
   */
  onWarning?: (message: string, path: string) => void;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
// Files read at once: enough to overlap disk reads with decoding, few enough to bound memory and file handles.
const READ_AHEAD = 16;

const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
// Hidden entries (.DS_Store, .git, ._foo from macOS archives) are never data.
const isHidden = (name: string) => name.startsWith('.');
// Code-point order, not locale order: class indices must not change with the machine's locale.
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => !isHidden(e.name)).sort(byName);
  } catch (err) {
    throw fsErrorToDataError(dir, err);
  }
}

interface Listing {
  images: string[];
  others: string[];
}

/** Image files under `dir` (depth-first, sorted at each level) and the non-image files met on the way. */
async function listImagesRecursively(dir: string, out: Listing = { images: [], others: [] }): Promise<Listing> {
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listImagesRecursively(path, out);
    else if (isImageName(entry.name)) out.images.push(path);
    else out.others.push(path);
  }
  return out;
}

function warnOthers(others: string[], dir: string, warn: (message: string, path: string) => void): void {
  if (others.length === 0) return;
  const example = others.slice(0, 3).join(', ');
  warn(`${dir}: ignored ${others.length} file(s) that are not .png/.jpg/.jpeg (${example}${others.length > 3 ? ', ...' : ''})`, dir);
}

/**
 * Loads a folder of PNG and JPEG images into an ImageSet named after the folder.
 *
 * - One sub-folder per class (`dir/<class>/**`): labels are indices into the class names sorted by code point,
 *   as torchvision's ImageFolder does. Images directly in `dir` are then ignored, with a warning.
 * - No sub-folders: the images in `dir`, unlabelled.
 * Files are taken in sorted path order. Format is detected by content, candidates by extension.
 *
 * Errors (DataError naming the path): missing folder, no image files, no decodable image, and images of
 * different sizes (naming one file of each size: resizing silently would change the data).
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageSet> {
  const warn = opts.onWarning ?? ((message: string) => console.warn(message));
  const entries = await listDir(dir);
  const classDirs = entries.filter((e) => e.isDirectory());

  const files: { path: string; label: number }[] = [];
  let classNames: string[] | undefined;
  if (classDirs.length > 0) {
    classNames = classDirs.map((e) => e.name);
    const stray = entries.filter((e) => !e.isDirectory() && isImageName(e.name)).length;
    if (stray > 0) warn(`${dir}: ignored ${stray} image(s) directly in the folder: with class sub-folders, only those are read`, dir);
    for (let label = 0; label < classDirs.length; label++) {
      const classDir = join(dir, classDirs[label].name);
      const { images, others } = await listImagesRecursively(classDir);
      warnOthers(others, classDir, warn);
      if (images.length === 0) warn(`${classDir}: class folder has no .png/.jpg/.jpeg files; the class keeps its label, with no images`, classDir);
      for (const path of images) files.push({ path, label });
    }
  } else {
    const others: string[] = [];
    for (const e of entries) {
      if (isImageName(e.name)) files.push({ path: join(dir, e.name), label: -1 });
      else others.push(join(dir, e.name));
    }
    warnOthers(others, dir, warn);
  }
  if (files.length === 0) throw new DataError(dir, 'empty folder: no .png, .jpg or .jpeg files found');

  const decoded: { path: string; label: number; image: DecodedImage }[] = [];
  let firstFailure: string | undefined;
  const skip = (path: string, reason: string) => {
    firstFailure ??= `${path}: ${reason}`;
    warn(`${path}: skipped, not a usable image (${reason})`, path);
  };
  for (let start = 0; start < files.length; start += READ_AHEAD) {
    const chunk = files.slice(start, start + READ_AHEAD);
    const reads = await Promise.allSettled(chunk.map((f) => readFile(f.path)));
    for (let k = 0; k < chunk.length; k++) {
      const { path, label } = chunk[k];
      const read = reads[k];
      if (read.status === 'rejected') {
        skip(path, (read.reason as Error).message);
        continue;
      }
      let image: DecodedImage;
      try {
        image = decodeImage(bufferBytes(read.value));
      } catch (err) {
        skip(path, (err as Error).message);
        continue;
      }
      const first = decoded[0];
      if (first && (image.width !== first.image.width || image.height !== first.image.height)) {
        throw new DataError(
          path,
          `image is ${image.width}x${image.height} but ${first.path} is ${first.image.width}x${first.image.height}: ` +
            'all images in a folder must have the same size',
        );
      }
      decoded.push({ path, label, image });
    }
  }
  if (decoded.length === 0) {
    throw new DataError(dir, `none of the ${files.length} image file(s) could be decoded (first: ${firstFailure})`);
  }

  const { width, height } = decoded[0].image;
  const channels = opts.channels ?? (decoded.every((d) => d.image.channels === 1) ? 1 : 3);
  const size = height * width * channels;
  const images = new Uint8Array(decoded.length * size);
  decoded.forEach((d, i) => images.set(convertChannels(d.image, channels), i * size));
  const labels = classNames ? Int32Array.from(decoded, (d) => d.label) : undefined;
  return createImageSet({ name: dir, images, count: decoded.length, height, width, channels, labels, classNames });
}
