/** How much of a dropped line is kept, to name the id it carried near its start. */
export const DROPPED_HEAD_BYTES = 512;

/**
 * Newline-delimited messages (stdio MCP) out of a byte stream, in chunks cut anywhere. A line is gathered as a
 * list of chunks and joined once when it ends (the SDK's reader copies the whole buffer on every chunk: a 50 MB
 * line took seconds). A line longer than `maxLine` bytes (everything before its LF, a CR included) is dropped as
 * it arrives, never held, and reported when it ends with its first bytes, so that the request it carries can be
 * answered. A CR before the LF is not part of the line, and an empty line carries nothing (it is skipped). Bytes are split, never decoded: a multi-byte character
 * cut by a chunk boundary is whole again in the joined line.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private dropped: { head: Buffer; size: number } | undefined;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onTooLarge: (head: string, size: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.add(chunk.subarray(start, nl));
      this.endLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
  }

  /** The end of input: what follows the last LF is a line of its own (when there is any). */
  end(): void {
    if (this.size > 0 || this.dropped) this.endLine();
  }

  /** Forgets a line half-read. */
  clear(): void {
    this.parts = [];
    this.size = 0;
    this.dropped = undefined;
  }

  private add(part: Buffer): void {
    if (part.length === 0) return;
    if (this.dropped) {
      this.dropped.size += part.length;
      return;
    }
    if (this.size + part.length > this.maxLine) {
      this.dropped = { head: headOf([...this.parts, part]), size: this.size + part.length };
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private endLine(): void {
    if (this.dropped) {
      const { head, size } = this.dropped;
      this.dropped = undefined;
      this.onTooLarge(head.toString('utf8'), size);
      return;
    }
    const joined = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const line = joined.length > 0 && joined[joined.length - 1] === 13 ? joined.subarray(0, joined.length - 1) : joined;
    if (line.length > 0) this.onLine(line);
  }
}

/** The first DROPPED_HEAD_BYTES of what `parts` hold together, copied (the parts are let go). */
export function headOf(parts: readonly Buffer[]): Buffer {
  const kept: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    if (size >= DROPPED_HEAD_BYTES) break;
    const piece = part.subarray(0, DROPPED_HEAD_BYTES - size);
    kept.push(piece);
    size += piece.length;
  }
  return Buffer.from(Buffer.concat(kept, size));
}
