/**
 * Output read from pods and from Patroni, kept within a fixed size. What an image prints is not
 * under pgop's control: a hostile or broken one could stream gigabytes into the one controller
 * process that serves every cluster. The end of the output carries the error, so the tail is kept.
 */

/** The most kept of one command's stdout or stderr, or of one HTTP response body. */
export const OUTPUT_LIMIT_BYTES = 64 * 1024;

export class BoundedOutput {
  private chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly limit = OUTPUT_LIMIT_BYTES) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.limit) {
      const first = this.chunks[0]!;
      const excess = this.kept - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Bytes dropped from the front because the output was longer than the limit. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** The kept tail as text, saying how much was dropped before it. */
  text(): string {
    const tail = Buffer.concat(this.chunks).toString();
    return this.dropped > 0 ? `[first ${this.dropped} bytes dropped]\n${tail}` : tail;
  }
}

/** A response body read up to limit bytes; the rest is not read (the stream is cancelled). */
export async function readBoundedBody(response: Response, limit = OUTPUT_LIMIT_BYTES): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = limit - length;
    chunks.push(value.subarray(0, room));
    length += Math.min(value.length, room);
    if (value.length > room) {
      await reader.cancel();
      return `${Buffer.concat(chunks).toString()}[truncated at ${limit} bytes]`;
    }
  }
  return Buffer.concat(chunks).toString();
}
