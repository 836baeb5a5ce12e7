import { headOf } from '../../gateway/line-splitter.js';

/** One server-sent event: its type (`message` when it names none) and its data, the data lines joined by LF. */
export interface SseEvent {
  event: string;
  data: Buffer;
}

const LF = Buffer.from('\n');
const BOM = [0xef, 0xbb, 0xbf];

/**
 * The event-stream format (WHATWG HTML, server-sent events) read from bytes in chunks cut anywhere: lines end
 * in LF, CRLF or a lone CR; `data:` lines are joined with LF; `event:` names the type; comments and other fields
 * (`id:`, which only a resumable stream needs) are skipped; `retry:` is reported; an event is dispatched at a
 * blank line, and one without data is not. The data of an event is gathered as the chunks that hold it and
 * joined once, when the event ends. An event longer than `maxEvent` bytes (its lines together) is dropped as it
 * arrives, never held, and reported when it ends, with the first bytes of its data.
 */
export class SseParser {
  /** The line being read: its chunks, and whether it was cut by a CR (an LF right after belongs to it). */
  private line: Buffer[] = [];
  private lineSize = 0;
  private afterCr = false;
  private data: Buffer[] = [];
  private dataSize = 0;
  private hasData = false;
  private type = '';
  private dropped: { head: Buffer; size: number } | undefined;
  private first = true;

  constructor(
    private readonly maxEvent: number,
    private readonly onEvent: (event: SseEvent) => void,
    private readonly onTooLarge: (head: string, size: number) => void,
    private readonly onRetry?: (ms: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (chunk[0] === 10) start = 1;
    }
    // Where the next LF and CR are, each looked for again only once passed (a chunk of many short lines is
    // scanned once, not once per line).
    let lf = chunk.indexOf(10, start);
    let cr = chunk.indexOf(13, start);
    while (start < chunk.length) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf(10, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(13, start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) {
        this.add(chunk.subarray(start));
        return;
      }
      this.add(chunk.subarray(start, end));
      this.endLine();
      start = end + 1;
      if (chunk[end] === 13) {
        if (start === chunk.length) this.afterCr = true;
        else if (chunk[start] === 10) start++;
      }
    }
  }

  /** The end of the stream: an event not ended by a blank line is not dispatched (as the format says); one being dropped is reported. */
  end(): void {
    const dropped = this.dropped;
    this.line = [];
    this.lineSize = 0;
    this.afterCr = false;
    this.resetEvent();
    if (dropped) this.onTooLarge(dropped.head.toString('utf8'), dropped.size);
  }

  private add(part: Buffer): void {
    if (part.length === 0) return;
    this.lineSize += part.length;
    if (this.dropped) {
      this.dropped.size += part.length;
      return;
    }
    if (this.dataSize + this.lineSize > this.maxEvent) {
      this.dropped = { head: headOf([...this.data, ...this.line, part]), size: this.dataSize + this.lineSize };
      this.line = [];
      this.data = [];
      this.dataSize = 0;
      return;
    }
    this.line.push(part);
  }

  private endLine(): void {
    let parts = this.line;
    let size = this.lineSize;
    this.line = [];
    this.lineSize = 0;
    if (this.first) {
      this.first = false;
      if (startsWith(parts, BOM)) {
        parts = skip(parts, BOM.length);
        size -= BOM.length;
      }
    }
    if (size === 0) return this.dispatch();
    if (this.dropped) return;
    const head = prefix(parts, 7);
    const colon = head.indexOf(':');
    const name = colon === -1 ? (size <= 16 ? Buffer.concat(parts).toString('latin1') : '') : head.slice(0, colon);
    if (name === '') return; // a comment (or a line too long to be a field this parser reads)
    let offset = colon === -1 ? size : colon + 1;
    if (colon !== -1 && byteAt(parts, offset) === 32) offset++;
    if (name === 'data') {
      if (this.hasData) this.append(LF);
      this.hasData = true;
      for (const piece of skip(parts, offset)) this.append(piece);
      return;
    }
    if (name !== 'event' && name !== 'retry') return;
    const value = Buffer.concat(skip(parts, offset)).toString('utf8');
    if (name === 'event') this.type = value;
    else if (/^\d+$/.test(value)) this.onRetry?.(Number(value));
  }

  private append(piece: Buffer): void {
    this.data.push(piece);
    this.dataSize += piece.length;
  }

  private dispatch(): void {
    if (this.dropped) {
      const { head, size } = this.dropped;
      this.resetEvent();
      this.onTooLarge(head.toString('utf8'), size);
      return;
    }
    if (!this.hasData) return this.resetEvent();
    const event = { event: this.type || 'message', data: this.data.length === 1 ? (this.data[0] as Buffer) : Buffer.concat(this.data, this.dataSize) };
    this.resetEvent();
    this.onEvent(event);
  }

  private resetEvent(): void {
    this.data = [];
    this.dataSize = 0;
    this.hasData = false;
    this.type = '';
    this.dropped = undefined;
  }
}

/** The first `n` bytes of the parts together, as latin1 text (field names are ASCII). */
function prefix(parts: readonly Buffer[], n: number): string {
  let text = '';
  for (const part of parts) {
    if (text.length >= n) break;
    text += part.toString('latin1', 0, n - text.length);
  }
  return text;
}

function byteAt(parts: readonly Buffer[], index: number): number | undefined {
  for (const part of parts) {
    if (index < part.length) return part[index];
    index -= part.length;
  }
  return undefined;
}

/** The parts without their first `n` bytes (views, not copies). */
function skip(parts: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const part of parts) {
    if (n >= part.length) {
      n -= part.length;
      continue;
    }
    out.push(n > 0 ? part.subarray(n) : part);
    n = 0;
  }
  return out;
}

function startsWith(parts: readonly Buffer[], bytes: readonly number[]): boolean {
  return bytes.every((b, i) => byteAt(parts, i) === b);
}
