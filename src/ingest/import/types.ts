/** One message read from an import source, with where it came from. */
export interface ImportItem {
  raw: Buffer;
  sourceRef: string;
  /** Bytes of the source consumed so far (for progress). */
  bytesRead: number;
}

/** A format reader: yields every message in one path, in order. */
export type ImportReader = (path: string) => AsyncGenerator<ImportItem>;
