/** The saved search index file: its binary encoding, the ids hash and stamp that say it still fits. */
import { crc32 } from 'node:zlib';
import { idfOf, type IndexData } from './index-builder.js';

/*
 * A built index as bytes, so a warm start can load it instead of tokenising the whole catalog again (the build is
 * the largest part of start-up with a 12k catalog). Only valid for exactly the entries it was built from: it
 * carries the caller's stamp (e.g. the catalog's build time) and a hash of the entry ids in order, ends with a
 * CRC-32 of everything before it, and decodeIndex returns undefined — rebuild — on any mismatch or damage.
 */
// 2: tags and categories are also indexed as one joined word.
const MAGIC = 'MCPRSIX2';

interface Header {
  stamp: string;
  idHash: number;
  docCount: number;
  termCount: number;
  surfaceCount: number;
  postings: number;
}

/** FNV-1a over the ids in order: which entries, in which order, the postings refer to. */
export function idsHash(ids: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let i = 0; i < id.length; i++) {
      h ^= id.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x0a;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

type Section = Int32Array | Float32Array | Float64Array | Uint8Array;

export function encodeIndex(data: IndexData, ids: readonly string[], stamp: string): Buffer {
  const terms = data.terms;
  const surfaceWords = [...data.surface.keys()];
  const surfaceTerm = Int32Array.from(data.surface.values());
  const header: Header = {
    stamp,
    idHash: idsHash(ids),
    docCount: data.docCount,
    termCount: terms.length,
    surfaceCount: surfaceWords.length,
    postings: data.pDoc.length,
  };
  // Words are letters and digits only, so a newline can join them.
  const sections: Section[] = [
    new TextEncoder().encode(JSON.stringify(header)),
    new TextEncoder().encode(terms.join('\n')),
    new TextEncoder().encode(surfaceWords.join('\n')),
    surfaceTerm,
    data.df,
    data.start,
    data.pDoc,
    data.pTf,
    data.pMask,
    data.prior,
    data.runnable,
  ];
  const lengths = new Uint32Array(sections.map((s) => s.byteLength));
  const parts: Uint8Array[] = [new TextEncoder().encode(MAGIC), new Uint8Array(lengths.buffer)];
  for (const s of sections) {
    parts.push(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
    // Keep every section 4-byte aligned so it can be viewed without copying.
    const pad = (4 - (s.byteLength % 4)) % 4;
    if (pad) parts.push(new Uint8Array(pad));
  }
  const body = Buffer.concat(parts);
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32(body));
  return Buffer.concat([body, sum]);
}

export function decodeIndex(buf: Uint8Array, ids: readonly string[], stamp: string): IndexData | undefined {
  try {
    const magicLen = MAGIC.length;
    if (buf.byteLength < magicLen + 11 * 4 + 4 || new TextDecoder().decode(buf.subarray(0, magicLen)) !== MAGIC) return undefined;
    const bodyLen = buf.byteLength - 4;
    const sum = buf[bodyLen]! | (buf[bodyLen + 1]! << 8) | (buf[bodyLen + 2]! << 16) | (buf[bodyLen + 3]! << 24);
    if (crc32(buf.subarray(0, bodyLen)) !== sum >>> 0) return undefined;
    // One aligned copy of the bytes: typed-array views need 4-byte alignment, a Buffer from readFile may not have it.
    const bytes = new Uint8Array(bodyLen);
    bytes.set(buf.subarray(0, bodyLen));
    const ab = bytes.buffer;
    const lengths = new Uint32Array(ab.slice(magicLen, magicLen + 11 * 4));
    let off = magicLen + 11 * 4;
    let i = 0;
    const next = <T>(make: (offset: number, byteLength: number) => T): T => {
      const len = lengths[i++]!;
      if (off + len > bytes.byteLength) throw new Error('truncated');
      const v = make(off, len);
      off += len + ((4 - (len % 4)) % 4);
      return v;
    };
    const text = (o: number, n: number) => new TextDecoder().decode(bytes.subarray(o, o + n));
    const header = JSON.parse(next(text)) as Header;
    if (header.stamp !== stamp || header.docCount !== ids.length || header.idHash !== idsHash(ids)) return undefined;
    const words = (o: number, len: number) => (len ? text(o, len).split('\n') : []);
    const terms = next(words);
    const surfaceWords = next(words);
    const surfaceTerm = next((o, n) => new Int32Array(ab, o, n / 4));
    const df = next((o, n) => new Int32Array(ab, o, n / 4));
    const start = next((o, n) => new Int32Array(ab, o, n / 4));
    const pDoc = next((o, n) => new Int32Array(ab, o, n / 4));
    const pTf = next((o, n) => new Float32Array(ab, o, n / 4));
    const pMask = next((o, n) => new Uint8Array(ab, o, n));
    const prior = next((o, n) => new Float32Array(ab, o, n / 4));
    const runnable = next((o, n) => new Uint8Array(ab, o, n));
    const n = header.docCount;
    const T = header.termCount;
    const P = header.postings;
    if (
      terms.length !== T ||
      surfaceWords.length !== header.surfaceCount ||
      surfaceTerm.length !== surfaceWords.length ||
      df.length !== T ||
      start.length !== T + 1 ||
      start[T] !== P ||
      pDoc.length !== P ||
      pTf.length !== P ||
      pMask.length !== P ||
      prior.length !== n ||
      runnable.length !== n
    ) {
      return undefined;
    }
    // Out-of-range ids would read past the scratch arrays at search time: check them once here.
    for (let k = 0; k < P; k++) if (pDoc[k]! >>> 0 >= n || !(pTf[k]! > 0 && pTf[k]! < Infinity)) return undefined;
    for (let d = 0; d < n; d++) if (!(prior[d]! > 0 && prior[d]! < Infinity)) return undefined;
    for (let k = 0; k < surfaceTerm.length; k++) if (surfaceTerm[k]! >>> 0 >= T) return undefined;
    for (let t = 0; t < T; t++) if (start[t]! > start[t + 1]! || df[t] !== start[t + 1]! - start[t]!) return undefined;

    const termIds = new Map<string, number>();
    for (let t = 0; t < T; t++) termIds.set(terms[t]!, t);
    const surface = new Map<string, number>();
    for (let k = 0; k < surfaceWords.length; k++) surface.set(surfaceWords[k]!, surfaceTerm[k]!);
    return { docCount: n, termIds, terms, surface, df, idf: idfOf(n, df), start, pDoc, pTf, pMask, prior, runnable };
  } catch {
    return undefined;
  }
}
