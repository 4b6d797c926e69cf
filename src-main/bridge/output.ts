// The client's stdout: one JSON-RPC message per line. A large message is written in pieces as it
// arrives, holding the output until its last piece; lines written meanwhile wait their turn.
const NL = Buffer.from('\n');

export interface LongLine {
  /** Resolves when the client has taken the piece (backpressure): memory stays a few chunks. */
  write(piece: Uint8Array): Promise<void>;
  /** The message is complete: ends the line and lets the others through. */
  end(): void;
}

export class Output {
  private open = true;
  private busy = false;
  private released: Promise<void> = Promise.resolve();
  private held: Uint8Array[] = [];

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly onFail: (err: unknown) => void,
  ) {
    stream.on('error', (err: Error) => this.fail(err));
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** One whole message (without its newline). */
  line(text: string | Uint8Array): void {
    if (!this.open) return;
    const bytes = typeof text === 'string' ? Buffer.from(`${text}\n`) : Buffer.concat([text, NL]);
    if (this.busy) this.held.push(bytes);
    else this.raw(bytes);
  }

  /** Exclusive use of the output for one message written in pieces. */
  async long(): Promise<LongLine> {
    while (this.busy) await this.released;
    this.busy = true;
    let release!: () => void;
    this.released = new Promise<void>((r) => (release = r));
    let ended = false;
    return {
      write: async (piece) => {
        if (!this.open || ended || piece.length === 0) return;
        if (!this.raw(piece)) await this.drained();
      },
      end: () => {
        if (ended) return;
        ended = true;
        this.raw(NL);
        this.busy = false;
        const held = this.held;
        this.held = [];
        for (const b of held) this.raw(b);
        release();
      },
    };
  }

  private raw(bytes: Uint8Array): boolean {
    if (!this.open) return true;
    try {
      return this.stream.write(bytes);
    } catch (err) {
      this.fail(err);
      return true;
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  private fail(err: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.held = [];
    this.onFail(err);
  }
}
