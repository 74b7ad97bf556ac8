// The files a person gives at once: several chosen in the file chooser, a folder chosen
// with "Choose a folder" (webkitdirectory), or files and folders dropped (walked with
// the File and Directory Entries API). Each comes as `{ file, path }`, `path` being where
// it sits in what was given ("album/01.mp3"), so two songs of one name stay apart.

/** How deep a dropped folder is walked: deeper is taken for a loop of links. */
const MAX_DEPTH = 32;

/** The files of a file input, with their paths inside a chosen folder where there is one. */
export function filesFromInput(input) {
  return [...(input.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Every entry of a directory: readEntries gives them a batch at a time until an empty one. */
async function entriesOf(directory) {
  const reader = directory.createReader();
  const all = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));

/** The files under `entry` (a file or a folder), in name order; what cannot be read is
 *  added to `unreadable` as `{ path, reason }`. */
async function walk(entry, depth, out, unreadable) {
  const path = entry.fullPath.replace(/^\//, '');
  try {
    if (entry.isFile) {
      out.push({ file: await fileOf(entry), path });
    } else if (entry.isDirectory && depth < MAX_DEPTH) {
      const children = (await entriesOf(entry)).sort((a, b) => a.name.localeCompare(b.name));
      for (const child of children) await walk(child, depth + 1, out, unreadable);
    } else if (entry.isDirectory) {
      unreadable.push({ path, reason: `a folder nested more than ${MAX_DEPTH} deep (a loop of links?)` });
    }
  } catch (e) {
    unreadable.push({ path, reason: `it could not be read (${e.message || e.name})` });
  }
}

/**
 * The files of a drop: `{ files: [{ file, path }], unreadable: [{ path, reason }],
 * folders }` (folders: how many folders were dropped). The entries are taken before the
 * first await, as the browser empties the drop's data once its event is over.
 */
export async function filesFromDrop(dataTransfer) {
  const items = [...(dataTransfer?.items ?? [])].filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((e) => e === null)) {
    // No Entries API (or not for every item): the plain files, without folders.
    return { files: [...(dataTransfer?.files ?? [])].map((file) => ({ file, path: file.name })), unreadable: [], folders: 0 };
  }
  const files = [];
  const unreadable = [];
  for (const entry of entries) await walk(entry, 0, files, unreadable);
  return { files, unreadable, folders: entries.filter((e) => e.isDirectory).length };
}
