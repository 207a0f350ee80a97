/**
 * A model folder made in the page (a model trained live, a model with
 * fine-tuned heads) as the reader gets it: File objects in a folder, as a
 * chosen folder gives them (the page's open-your-files path), or a
 * store-only zip of the folder to download.
 */
import { storeZip } from './zip-store';

/** The four files of a model folder (DESIGN.md "Model files"). */
export interface ModelFolderFiles {
  config_json: string;
  safetensors: Uint8Array;
  vocab_json: string;
  merges_txt: string;
}

function named(files: ModelFolderFiles): [string, string | Uint8Array][] {
  return [
    ['config.json', files.config_json],
    ['model.safetensors', files.safetensors],
    ['vocab.json', files.vocab_json],
    ['merges.txt', files.merges_txt],
  ];
}

/** The files as File objects in a folder named `folder`. */
export function asFolder(files: ModelFolderFiles, folder: string): File[] {
  return named(files).map(([name, bytes]) => {
    const file = new File([bytes as BlobPart], name);
    Object.defineProperty(file, 'webkitRelativePath', { value: `${folder}/${name}` });
    return file;
  });
}

/** The folder as a zip (store-only), its entries under `folder/`. */
export function folderZip(files: ModelFolderFiles, folder: string): Blob {
  const encoder = new TextEncoder();
  const zip = storeZip(
    named(files).map(([name, bytes]) => ({
      name: `${folder}/${name}`,
      bytes: typeof bytes === 'string' ? encoder.encode(bytes) : bytes,
    })),
  );
  return new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}
