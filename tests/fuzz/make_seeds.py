#!/usr/bin/env python3
"""Writes the fuzzing seed corpus of fuzz_decode_image (tests/fuzz/corpus/decode_image/): tiny, valid JPEG, PNG
and BMP files covering the decoder's main code paths. Standard library only
(zlib, struct) and fully deterministic: run it again and the bytes are the same.

  /usr/bin/python3 tests/fuzz/make_seeds.py [OUTDIR]

JPEG: a small baseline/progressive encoder (greyscale and YCbCr, 4:4:4 and
4:2:0, restart markers; progressive = spectral selection). Huffman tables are
built per image (flat code lengths), which JPEG allows.
PNG: colour types 0/2/3/4/6, bit depths 1-16, all five row filters, Adam7
interlacing, tRNS. BMP: 1/4/8/24-bit, 16/32-bit bitfields, top-down, OS/2 header.
"""
import math
import os
import struct
import sys
import zlib


def pattern(w, h, seed=0):
    """Deterministic RGB test pattern: gradients plus a few hard edges."""
    px = []
    for y in range(h):
        row = []
        for x in range(w):
            r = (x * 255 // max(1, w - 1) + seed * 37) % 256
            g = (y * 255 // max(1, h - 1) + seed * 11) % 256
            b = ((x ^ y) * 16 + seed * 5) % 256
            if (x // 4 + y // 4) % 2 == 0:
                b = 255 - b
            row.append((r, g, b))
        px.append(row)
    return px


# --------------------------------------------------------------------- PNG
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_filter(rows, bpp):
    """Filters each row with filter type (row index % 5), so every type is exercised."""
    out = b""
    prev = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ft = i % 5
        f = bytearray()
        for j, v in enumerate(row):
            a = row[j - bpp] if j >= bpp else 0
            b = prev[j]
            c = prev[j - bpp] if j >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f.append((v - pred) & 0xFF)
        out += bytes([ft]) + bytes(f)
        prev = row
    return out


def pack_samples(samples, depth):
    """Packs integer samples of the given bit depth into bytes (PNG order)."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def png(w, h, colour_type, depth, sample_fn, interlace=False, extra_chunks=()):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    bpp = max(1, channels * depth // 8)

    def rows_for(xs, ys):
        return [pack_samples([s for x in xs for s in sample_fn(x, y)], depth) for y in ys]

    if not interlace:
        raw = png_filter(rows_for(range(w), range(h)), bpp)
    else:
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
            if xs and ys:
                raw += png_filter(rows_for(xs, ys), bpp)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 1 if interlace else 0)
    body = png_chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        body += png_chunk(kind, data)
    body += png_chunk(b"IDAT", zlib.compress(raw, 9))
    return b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b"")


def png_seeds():
    p = pattern(7, 5)
    seeds = {}
    seeds["png_rgb8.png"] = png(7, 5, 2, 8, lambda x, y: p[y][x])
    seeds["png_rgba8.png"] = png(7, 5, 6, 8, lambda x, y: p[y][x] + ((x * 40) % 256,))
    seeds["png_grey8.png"] = png(7, 5, 0, 8, lambda x, y: (p[y][x][0],))
    seeds["png_greyalpha8.png"] = png(5, 4, 4, 8, lambda x, y: (p[y][x][1], (y * 60) % 256))
    seeds["png_rgb16.png"] = png(4, 3, 2, 16, lambda x, y: tuple(v * 257 for v in p[y][x]))
    seeds["png_rgba16.png"] = png(3, 3, 6, 16, lambda x, y: tuple(v * 257 for v in p[y][x]) + (40000,))
    seeds["png_grey16.png"] = png(4, 4, 0, 16, lambda x, y: (x * 9000 + y * 100,))
    for depth in (1, 2, 4):
        seeds["png_grey%d.png" % depth] = png(9, 3, 0, depth, lambda x, y, d=depth: ((x + y) % (1 << d),))
    palette = bytes(v for i in range(16) for v in ((i * 16) % 256, (i * 48) % 256, (255 - i * 16) % 256))
    trns = bytes((i * 17) % 256 for i in range(16))
    for depth in (1, 2, 4, 8):
        seeds["png_palette%d.png" % depth] = png(
            9, 4, 3, depth, lambda x, y, d=depth: ((x * 3 + y) % min(16, 1 << d),),
            extra_chunks=[(b"PLTE", palette[: 3 * min(16, 1 << depth)]), (b"tRNS", trns[: min(16, 1 << depth)])])
    seeds["png_grey8_trns.png"] = png(4, 4, 0, 8, lambda x, y: ((x * 60) % 256,), extra_chunks=[(b"tRNS", b"\x00\x00")])
    seeds["png_rgb8_trns.png"] = png(4, 4, 2, 8, lambda x, y: p[y][x], extra_chunks=[(b"tRNS", b"\x00\x00\x00\x00\x00\x00")])
    seeds["png_interlaced_rgb8.png"] = png(11, 9, 2, 8, lambda x, y: pattern(11, 9)[y][x], interlace=True)
    seeds["png_interlaced_palette2.png"] = png(
        10, 10, 3, 2, lambda x, y: ((x + 2 * y) % 4,), interlace=True, extra_chunks=[(b"PLTE", palette[:12])])
    seeds["png_1x1.png"] = png(1, 1, 6, 8, lambda x, y: (1, 2, 3, 4))
    return seeds


# --------------------------------------------------------------------- BMP
def bmp(w, h, bpp, pixel_fn, palette=None, top_down=False, masks=None, os2=False):
    stride = ((w * bpp + 31) // 32) * 4
    rows = []
    for y in range(h):
        bits, nbits, row = 0, 0, bytearray()
        for x in range(w):
            v = pixel_fn(x, y)
            if bpp == 24:
                row += bytes((v[2], v[1], v[0]))
            elif bpp == 32:
                row += struct.pack("<I", v)
            elif bpp == 16:
                row += struct.pack("<H", v)
            else:
                bits = (bits << bpp) | v
                nbits += bpp
                if nbits == 8:
                    row.append(bits)
                    bits, nbits = 0, 0
        if nbits:
            row.append(bits << (8 - nbits))
        row += bytes(stride - len(row))
        rows.append(bytes(row))
    if not top_down:
        rows.reverse()
    pal = b""
    if palette:
        pal = b"".join(bytes((b, g, r)) if os2 else bytes((b, g, r, 0)) for r, g, b in palette)
    if os2:
        header = struct.pack("<IHHHH", 12, w, h, 1, bpp)
    elif masks:
        header = struct.pack("<IiiHHIIiiII", 108, w, -h if top_down else h, 1, bpp, 3, stride * h, 2835, 2835, 0, 0)
        header += struct.pack("<IIII", *masks) + b"BGRs" + bytes(36) + bytes(12)
    else:
        header = struct.pack("<IiiHHIIiiII", 40, w, -h if top_down else h, 1, bpp, 0, stride * h, 2835, 2835,
                             len(palette or []), 0)
    offset = 14 + len(header) + len(pal)
    data = b"".join(rows)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + header + pal + data


def bmp_seeds():
    p = pattern(6, 5, 1)
    pal16 = [((i * 16) % 256, (i * 40) % 256, (i * 90) % 256) for i in range(16)]
    seeds = {}
    seeds["bmp_24.bmp"] = bmp(6, 5, 24, lambda x, y: p[y][x])
    seeds["bmp_24_topdown.bmp"] = bmp(5, 3, 24, lambda x, y: p[y][x], top_down=True)
    seeds["bmp_8_palette.bmp"] = bmp(7, 4, 8, lambda x, y: (x + y) % 16, palette=pal16)
    seeds["bmp_4_palette.bmp"] = bmp(9, 3, 4, lambda x, y: (x * y) % 16, palette=pal16)
    seeds["bmp_1_palette.bmp"] = bmp(13, 3, 1, lambda x, y: (x + y) % 2, palette=pal16[:2])
    seeds["bmp_32_bitfields.bmp"] = bmp(4, 3, 32, lambda x, y: (x * 60) << 16 | (y * 80) << 8 | 0x40 | 0x80000000,
                                        masks=(0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000))
    seeds["bmp_16_565.bmp"] = bmp(5, 3, 16, lambda x, y: (x * 6) << 11 | (y * 20) << 5 | 7,
                                  masks=(0xF800, 0x07E0, 0x001F, 0))
    seeds["bmp_os2_8.bmp"] = bmp(5, 4, 8, lambda x, y: (x + 2 * y) % 16, palette=pal16, os2=True)
    return seeds


# --------------------------------------------------------------------- JPEG
ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
          21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
          61, 54, 47, 55, 62, 63]
QUANT = [[16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29,
          51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121,
          120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
         [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99,
          99, 99, 99, 99] + [99] * 32]


def fdct(block):
    """8x8 forward DCT (naive; images are tiny), returns natural-order coefficients."""
    out = [0.0] * 64
    for v in range(8):
        for u in range(8):
            s = 0.0
            for y in range(8):
                for x in range(8):
                    s += block[y * 8 + x] * math.cos((2 * x + 1) * u * math.pi / 16) * math.cos((2 * y + 1) * v * math.pi / 16)
            cu = 1 / math.sqrt(2) if u == 0 else 1.0
            cv = 1 / math.sqrt(2) if v == 0 else 1.0
            out[v * 8 + u] = 0.25 * cu * cv * s
    return out


def category(v):
    v = abs(v)
    n = 0
    while v:
        n += 1
        v >>= 1
    return n


def value_bits(v, n):
    return v if v >= 0 else v + (1 << n) - 1


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def write(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self):
        while self.n:
            self.write(1, 1)  # pad with ones


def flat_table(symbols):
    """A valid Huffman table giving every symbol the same length (no all-ones code)."""
    symbols = sorted(set(symbols)) or [0]
    length = 1
    while (1 << length) - 1 < len(symbols):
        length += 1
    bits = [0] * 16
    bits[length - 1] = len(symbols)
    codes = {s: (i, length) for i, s in enumerate(symbols)}
    return bits, symbols, codes


def jpeg(w, h, px, colour=True, subsample=False, progressive=False, restart=0):
    ncomp = 3 if colour else 1
    hs = [2 if (subsample and colour) else 1, 1, 1][:ncomp]
    vs = hs[:]
    hmax, vmax = max(hs), max(vs)
    mcux, mcuy = 8 * hmax, 8 * vmax
    mw, mh = (w + mcux - 1) // mcux, (h + mcuy - 1) // mcuy

    def sample(c, x, y):
        x, y = min(x, w - 1), min(y, h - 1)
        r, g, b = px[y][x]
        if c == 0:
            return 0.299 * r + 0.587 * g + 0.114 * b
        if c == 1:
            return -0.1687 * r - 0.3313 * g + 0.5 * b + 128
        return 0.5 * r - 0.4187 * g - 0.0813 * b + 128

    # Quantised coefficients, per component, in MCU order: blocks[c][(my, mx)] -> list of blocks.
    coefs = []
    for c in range(ncomp):
        sx, sy = hmax // hs[c], vmax // vs[c]
        comp = {}
        for my in range(mh):
            for mx in range(mw):
                blocks = []
                for by in range(vs[c]):
                    for bx in range(hs[c]):
                        blk = []
                        for y in range(8):
                            for x in range(8):
                                X = (mx * hs[c] * 8 + bx * 8 + x) * sx
                                Y = (my * vs[c] * 8 + by * 8 + y) * sy
                                vals = [sample(c, X + i, Y + j) for j in range(sy) for i in range(sx)]
                                blk.append(sum(vals) / len(vals) - 128)
                        d = fdct(blk)
                        q = QUANT[0 if c == 0 else 1]
                        blocks.append([int(round(d[ZIGZAG[k]] / q[ZIGZAG[k]])) for k in range(64)])
                comp[(my, mx)] = blocks
        coefs.append(comp)

    def ac_symbols(block, ss, se):
        syms, run = [], 0
        last = max([k for k in range(ss, se + 1) if block[k]] or [ss - 1])
        for k in range(ss, last + 1):
            v = block[k]
            if v == 0:
                run += 1
                continue
            while run > 15:
                syms.append((0xF0, 0, 0))
                run -= 16
            n = category(v)
            syms.append(((run << 4) | n, value_bits(v, n), n))
            run = 0
        if last < se:
            syms.append((0x00, 0, 0))  # EOB
        return syms

    def dc_symbols():
        out, pred, count = [], [0] * ncomp, 0
        for my in range(mh):
            for mx in range(mw):
                if restart and count and count % restart == 0:
                    pred = [0] * ncomp
                for c in range(ncomp):
                    for blk in coefs[c][(my, mx)]:
                        diff = blk[0] - pred[c]
                        pred[c] = blk[0]
                        out.append((c, category(diff), value_bits(diff, category(diff))))
                count += 1
        return out

    tables_dc = [flat_table([s for c, s, _ in dc_symbols() if (c > 0) == bool(t)]) for t in range(2 if colour else 1)]
    all_ac = [[], []]
    for c in range(ncomp):
        for blocks in coefs[c].values():
            for blk in blocks:
                all_ac[0 if c == 0 else 1] += [s for s, _, _ in ac_symbols(blk, 1, 63)]
                if progressive:
                    for ss, se in ((1, 5), (6, 63)):
                        all_ac[0 if c == 0 else 1] += [s for s, _, _ in ac_symbols(blk, ss, se)]
    tables_ac = [flat_table(all_ac[t]) for t in range(2 if colour else 1)]

    def seg(marker, data):
        return bytes((0xFF, marker)) + struct.pack(">H", len(data) + 2) + data

    out = b"\xff\xd8" + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    for t in range(2 if colour else 1):
        out += seg(0xDB, bytes([t]) + bytes(QUANT[t][ZIGZAG[k]] for k in range(64)))
    sof = struct.pack(">BHHB", 8, h, w, ncomp)
    for c in range(ncomp):
        sof += bytes((c + 1, (hs[c] << 4) | vs[c], 0 if c == 0 else 1))
    out += seg(0xC2 if progressive else 0xC0, sof)
    for t in range(len(tables_dc)):
        out += seg(0xC4, bytes([t]) + bytes(tables_dc[t][0]) + bytes(tables_dc[t][1]))
        out += seg(0xC4, bytes([0x10 | t]) + bytes(tables_ac[t][0]) + bytes(tables_ac[t][1]))
    if restart:
        out += seg(0xDD, struct.pack(">H", restart))

    def scan(comps, ss, se):
        header = bytes([len(comps)]) + b"".join(bytes((c + 1, ((0 if c == 0 else 1) << 4) | (0 if c == 0 else 1))) for c in comps)
        header += bytes((ss, se, 0))
        bw = BitWriter()
        pred, count, rst = [0] * ncomp, 0, 0
        body = bytearray()
        for my in range(mh):
            for mx in range(mw):
                if restart and count and count % restart == 0:
                    bw.flush()
                    body += bw.out + bytes((0xFF, 0xD0 + rst))
                    bw.out = bytearray()
                    rst = (rst + 1) % 8
                    pred = [0] * ncomp
                for c in comps:
                    t = 0 if c == 0 else 1
                    for blk in coefs[c][(my, mx)]:
                        if ss == 0:
                            diff = blk[0] - pred[c]
                            pred[c] = blk[0]
                            code, length = tables_dc[t][2][category(diff)]
                            bw.write(code, length)
                            bw.write(value_bits(diff, category(diff)), category(diff))
                        if se > 0:
                            for sym, bits, n in ac_symbols(blk, max(ss, 1), se):
                                code, length = tables_ac[t][2][sym]
                                bw.write(code, length)
                                bw.write(bits, n)
                count += 1
        bw.flush()
        return seg(0xDA, header) + bytes(body + bw.out)

    if not progressive:
        out += scan(list(range(ncomp)), 0, 63)
    else:
        # DC of all components, then AC bands per component (non-interleaved).
        out += scan(list(range(ncomp)), 0, 0)
        for c in range(ncomp):
            out += scan([c], 1, 5)
            out += scan([c], 6, 63)
    return out + b"\xff\xd9"


def jpeg_seeds():
    seeds = {}
    seeds["jpeg_grey.jpg"] = jpeg(8, 8, pattern(8, 8), colour=False)
    seeds["jpeg_444.jpg"] = jpeg(16, 8, pattern(16, 8, 2))
    seeds["jpeg_420.jpg"] = jpeg(16, 16, pattern(16, 16, 3), subsample=True)
    seeds["jpeg_420_odd_size.jpg"] = jpeg(13, 11, pattern(13, 11, 4), subsample=True)
    seeds["jpeg_restart.jpg"] = jpeg(32, 8, pattern(32, 8, 5), restart=1)
    seeds["jpeg_progressive_grey.jpg"] = jpeg(16, 16, pattern(16, 16, 6), colour=False, progressive=True)
    seeds["jpeg_progressive_444.jpg"] = jpeg(16, 16, pattern(16, 16, 7), progressive=True)
    return seeds


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decode_image")
    os.makedirs(outdir, exist_ok=True)
    seeds = {}
    seeds.update(png_seeds())
    seeds.update(bmp_seeds())
    seeds.update(jpeg_seeds())
    for name, data in sorted(seeds.items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds, %d bytes, to %s" % (len(seeds), sum(len(d) for d in seeds.values()), outdir))


if __name__ == "__main__":
    main()
