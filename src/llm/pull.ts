import { resolve } from "node:path";
import { createModelDownloader } from "node-llama-cpp";
import type { Config } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import { isRemote, rememberModel } from "./modelFile.js";

/**
 * Downloads a model (an hf: URI or an https URL) into llm.modelsDir with a progress bar on a terminal
 * and progress lines in logs otherwise. An interrupted download resumes from its partial file.
 */
export async function pullModel(llm: Config["llm"], uri: string, log: Logger): Promise<string> {
  if (!isRemote(uri)) throw new Error(`"${uri}" is a local path; model pull takes an hf: URI or an https URL`);
  const tty = Boolean(process.stderr.isTTY);
  let lastShown = -1;
  const downloader = await createModelDownloader({
    modelUri: uri,
    dirPath: resolve(llm.modelsDir),
    showCliProgress: tty,
    skipExisting: true,
    deleteTempFileOnCancel: false,
    onProgress: tty
      ? undefined
      : ({ totalSize, downloadedSize }) => {
          const pct = totalSize ? Math.floor((downloadedSize / totalSize) * 100) : 0;
          if (pct >= lastShown + 5) {
            lastShown = pct;
            log.info({ downloadedSize, totalSize, percent: pct }, "downloading model");
          }
        },
  });
  const path = await downloader.download();
  rememberModel(llm, uri, path);
  return path;
}
