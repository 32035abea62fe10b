/**
 * The resident heap: blocks of the kernels' WebAssembly memory that hold long-lived tensors (model
 * weights), so that the kernels read them in place instead of receiving a copy on every call.
 *
 * A first-fit allocator over byte addresses [base, limit): blocks are ALIGN-aligned, freed blocks are
 * merged with free neighbours, and `top` (the end of the highest block in use) is where the per-call
 * operand area of the backend begins. The heap only does the arithmetic; growing the memory and
 * handing out views is the backend's job (`WasmBackend.allocate`).
 */

export const RESIDENT_ALIGN = 64;

interface Block {
  start: number;
  size: number;
}

export class ResidentHeap {
  /** Free blocks below `top`, sorted by address, never adjacent (adjacent ones are merged). */
  private readonly free: Block[] = [];
  private end: number;
  private used = 0;

  /**
   * @param base first byte address the heap may use (aligned up)
   * @param limit first byte address it may not use
   */
  constructor(
    readonly base: number,
    readonly limit: number,
  ) {
    this.end = roundUp(base);
  }

  /** End of the highest block in use: everything from here up is free. */
  get top(): number {
    return this.end;
  }

  /** Bytes in blocks that are in use. */
  get bytesInUse(): number {
    return this.used;
  }

  /** Address of a new block of at least `bytes` (rounded up to ALIGN), or null if the heap is full. */
  alloc(bytes: number): number | null {
    const size = Math.max(RESIDENT_ALIGN, roundUp(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size < size) continue;
      const start = f.start;
      if (f.size === size) this.free.splice(i, 1);
      else {
        f.start += size;
        f.size -= size;
      }
      this.used += size;
      return start;
    }
    if (this.end + size > this.limit) return null;
    const start = this.end;
    this.end += size;
    this.used += size;
    return start;
  }

  /** Return the block at `start` of `bytes` (as passed to alloc) to the heap. */
  release(start: number, bytes: number): void {
    const size = Math.max(RESIDENT_ALIGN, roundUp(bytes));
    if (start < this.base || start + size > this.end || start % RESIDENT_ALIGN !== 0)
      throw new Error(`resident heap: block ${start}+${size} was not allocated here`);
    this.used -= size;
    // insert in address order, merging with the neighbours
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < start) i++;
    const prev = this.free[i - 1];
    const next = this.free[i];
    if ((prev && prev.start + prev.size > start) || (next && start + size > next.start))
      throw new Error(`resident heap: block ${start}+${size} released twice`);
    let block: Block;
    if (prev && prev.start + prev.size === start) {
      prev.size += size;
      block = prev;
      i--;
    } else {
      block = { start, size };
      this.free.splice(i, 0, block);
    }
    const after = this.free[i + 1];
    if (after && block.start + block.size === after.start) {
      block.size += after.size;
      this.free.splice(i + 1, 1);
    }
    // a free block at the top lowers the top
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.size === this.end) {
      this.end = last.start;
      this.free.pop();
    }
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / RESIDENT_ALIGN) * RESIDENT_ALIGN;
}
