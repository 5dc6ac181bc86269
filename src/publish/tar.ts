// A deterministic .tar.gz (POSIX ustar): entries in name order, mode 0644, owner 0:0, mtime 0,
// no user names, and a gzip header without name or time, so the same files give the same bytes.

import { gzipSync } from 'node:zlib';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';

const BLOCK = 512;

/** `value` as `width - 1` octal digits and a NUL, as ustar stores numbers. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** ustar keeps names in two fields: prefix (155 bytes) '/' name (100 bytes). */
function splitName(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { prefix, name };
  }
  return undefined;
}

function header(path: string, size: number): Buffer | undefined {
  const split = splitName(path);
  if (!split) return undefined;
  const h = Buffer.alloc(BLOCK);
  h.write(split.name, 0, 100);
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148); // the checksum is computed with its own field as spaces
  h.write('0', 156); // a regular file
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(split.prefix, 345, 155);
  const sum = h.reduce((s, b) => s + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** The files as a gzip-compressed tar archive, entries sorted by name. */
export function tarGz(files: ReadonlyMap<string, Uint8Array>): Result<Uint8Array> {
  const parts: Buffer[] = [];
  const errors: Diagnostic[] = [];
  for (const path of [...files.keys()].sort()) {
    const content = files.get(path)!;
    const h = header(path, content.length);
    if (!h) {
      errors.push({ code: 'archive-name', message: `${path}: name too long for a tar archive` });
      continue;
    }
    parts.push(h, Buffer.from(content), Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  if (errors.length) return fail(errors);
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return ok(gzipSync(Buffer.concat(parts), { level: 9 }));
}
