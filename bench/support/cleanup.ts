/**
 * What a benchmark started (databases, servers, child processes, temp folders) is registered here and
 * undone in reverse order: at the end, on errors and on Ctrl-C.
 */
export class Cleanups {
  private readonly entries: { name: string; fn: () => Promise<void> | void }[] = [];

  constructor(private readonly log: (text: string) => void) {}

  /** Registers `fn`; the returned function forgets it again (when the caller undid it by itself). */
  add(name: string, fn: () => Promise<void> | void): () => void {
    const entry = { name, fn };
    this.entries.push(entry);
    return () => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
  }

  /** Undoes everything still registered, last first; a failing step is logged and the rest still run. */
  async runAll(): Promise<void> {
    while (this.entries.length > 0) {
      const { name, fn } = this.entries.pop()!;
      await Promise.resolve()
        .then(fn)
        .catch((e: unknown) => this.log(`clean-up of ${name} failed: ${(e as Error).message}`));
    }
  }

  /** On the first of `signals`: says `message`, undoes everything and exits 130. */
  exitOnSignal(message: string, signals: NodeJS.Signals[] = ["SIGINT"]): void {
    const onSignal = () => {
      for (const s of signals) process.off(s, onSignal);
      this.log(message);
      void this.runAll().then(() => process.exit(130));
    };
    for (const s of signals) process.once(s, onSignal);
  }
}
