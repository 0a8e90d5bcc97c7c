import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataCipher } from './data-crypto.js';
import type { Logger } from './logger.js';

/** The spool could not take a record (full or unwritable): the caller must not acknowledge. */
export class SpoolError extends Error {
  override name = 'SpoolError';
}

export interface SpoolSettings {
  dir: string;
  maxBytes: number;
  /** Records hold decrypted callbacks (personal data): each line is sealed with the data key. */
  cipher: DataCipher;
  logger: Logger;
  /** Files of other instances idle this long are treated as orphans and drained (ms). */
  orphanAfterMs?: number;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A local, fsync'd, size-bounded append-only spool (docs/architecture.md §3 step 9): where callbacks go when
 * Redis cannot take them within a second. One file per process (`active-<instance>.jsonl`),
 * appended with group commit (one write + one fdatasync per batch). `drain()` rotates the active
 * file, claims ready files by atomic rename (so two processes never drain the same file), hands
 * each record to the caller and deletes a file only after every record in it was taken.
 */
export class Spool<T> {
  readonly instanceId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private handle: FileHandle | undefined;
  private pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private records = 0;
  private size = 0;
  private sequence = 0;
  private ready = false;

  constructor(private readonly settings: SpoolSettings) {}

  get depth(): number {
    return this.records;
  }

  get bytes(): number {
    return this.size;
  }

  private get activePath(): string {
    return join(this.settings.dir, `active-${this.instanceId}.jsonl`);
  }

  /** Creates the directory and counts what earlier runs left behind. Never throws: an unusable spool reports not writable. */
  async init(): Promise<this> {
    try {
      await mkdir(this.settings.dir, { recursive: true });
      for (const name of await readdir(this.settings.dir)) {
        if (!name.endsWith('.jsonl')) continue;
        const text = await readFile(join(this.settings.dir, name), 'utf8');
        this.size += Buffer.byteLength(text);
        this.records += text.split('\n').filter(Boolean).length;
      }
      this.ready = true;
    } catch (err) {
      this.settings.logger.error(
        { alert: true, dir: this.settings.dir, err: (err as Error).message },
        'callback spool directory is unusable; callbacks cannot be spooled while Redis is down',
      );
    }
    return this;
  }

  /** Whether an append would be attempted now (readiness): the directory is writable and there is room. */
  async writable(): Promise<boolean> {
    if (this.size >= this.settings.maxBytes) return false;
    try {
      await access(this.settings.dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Appends one record durably (fsync'd before resolving). Throws SpoolError when full or unwritable. */
  append(record: T): Promise<void> {
    const line = `${this.settings.cipher.encrypt(JSON.stringify(record))}\n`;
    if (this.size + Buffer.byteLength(line) > this.settings.maxBytes) {
      return Promise.reject(new SpoolError(`spool full (${this.size} of ${this.settings.maxBytes} bytes)`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.writing ??= this.flush().finally(() => (this.writing = undefined));
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const text = batch.map((p) => p.line).join('');
      try {
        if (!this.ready) await this.init();
        this.handle ??= await open(this.activePath, 'a', 0o600);
        await this.handle.write(text);
        await this.handle.datasync();
        this.size += Buffer.byteLength(text);
        this.records += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        await this.closeHandle();
        const failure = new SpoolError(`spool write failed: ${(err as Error).message}`);
        for (const p of batch) p.reject(failure);
      }
    }
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /**
   * Moves every spooled record to `take` (in order per file). A file is deleted only when all of
   * its records were taken; if `take` throws, the file stays and is retried on the next drain
   * (the caller's de-duplication makes the repeats harmless). Returns how many records were taken.
   */
  async drain(take: (record: T) => Promise<void>): Promise<number> {
    if (!this.ready) return 0;
    await this.rotate();
    let taken = 0;
    for (const file of await this.claimFiles()) {
      const text = await readFile(file, 'utf8');
      const lines = text.split('\n').filter(Boolean);
      for (const line of lines) {
        let record: T;
        try {
          record = JSON.parse(this.settings.cipher.decrypt(line)) as T;
        } catch (err) {
          // A torn last line (crash mid-write) was never acknowledged; skip it.
          this.settings.logger.error({ file, err: (err as Error).message }, 'unreadable spool record skipped');
          continue;
        }
        await take(record);
        taken += 1;
      }
      await unlink(file);
      this.size = Math.max(0, this.size - Buffer.byteLength(text));
      this.records = Math.max(0, this.records - lines.length);
    }
    return taken;
  }

  /** Closes the active file and renames it ready for draining; new appends start a new file. */
  private async rotate(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.handle) return;
    await this.closeHandle();
    this.sequence += 1;
    await rename(this.activePath, join(this.settings.dir, `ready-${this.instanceId}-${this.sequence}.jsonl`)).catch(
      () => undefined,
    );
  }

  /** Claims drainable files by renaming them to `draining-<me>-…` (atomic: one claimant wins). */
  private async claimFiles(): Promise<string[]> {
    const { dir } = this.settings;
    const orphanAfterMs = this.settings.orphanAfterMs ?? 5 * 60_000;
    const mine = `draining-${this.instanceId}-`;
    const claimed: string[] = [];
    for (const name of (await readdir(dir)).sort()) {
      if (!name.endsWith('.jsonl')) continue;
      const path = join(dir, name);
      if (name.startsWith(mine)) {
        claimed.push(path);
        continue;
      }
      let st: Stats;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      const idle = Date.now() - st.mtimeMs > orphanAfterMs;
      const claimable =
        name.startsWith('ready-') ||
        ((name.startsWith('active-') || name.startsWith('draining-')) &&
          idle &&
          name !== `active-${this.instanceId}.jsonl`);
      if (!claimable) continue;
      const target = join(dir, `${mine}${name}`);
      try {
        await rename(path, target);
        claimed.push(target);
      } catch {
        // Another process claimed it first.
      }
    }
    return claimed;
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    await this.closeHandle();
  }
}
