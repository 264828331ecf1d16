/* im2col and col2im for one number type, written once and included twice by gf_im2col.c (float:
   16 lanes; double: 8). Define before including: IC_T (the type), IC_V (its 512-bit vector),
   IC_M (its lane mask), IC_L (lanes), IC_I (the index type of a lane: int or long long),
   IC_NAME(name) (the names), and the intrinsics IC_LOADZ (masked load, zeros elsewhere),
   IC_STOREM (masked store), IC_PERM2 (two-source permute),
   IC_ADDM (masked add), IC_ZERO, and for the index vectors IC_SET1, IC_ADDI and IC_IOTA_TIMES(s)
   (lane·s). */

static void IC_NAME(im2col)(const IC_T *x, IC_T *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const __m512i base = IC_IOTA_TIMES(s);   /* ow·s */
    const IC_M out = (IC_M)span(0, Wo, IC_L), lo = (IC_M)span(p, p + W, IC_L), hi = (IC_M)span(p - IC_L, p + W - IC_L, IC_L);
    const IC_V zero = IC_ZERO();
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            IC_T *rows = cols + (c * k + i) * k * ld;   /* rows (c, i, 0 … k−1) */
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) {
                    for (long j = 0; j < k; j++) IC_STOREM(rows + j * ld + oh * Wo, out, zero);
                    continue;
                }
                const IC_T *xr = x + (c * H + r) * W - p;   /* lane L holds x[r, L − p] */
                IC_V a = IC_LOADZ(lo, xr), b = IC_LOADZ(hi, xr + IC_L);
                for (long j = 0; j < k; j++) IC_STOREM(rows + j * ld + oh * Wo, out, IC_PERM2(a, IC_ADDI(base, IC_SET1(j)), b));
            }
        }
    }
}

/* One row of x at a time: the row is loaded once, takes every term that falls on it (kernel rows
   i ascending, then kernel columns j ascending, as the element-wise loops add them) in registers,
   and is stored once; the loops over (i, output row) that load and store a row for each term
   stalled on the masked store ahead of the next load of the same row. With s ≥ 2 the columns j
   and j + 1 fall on disjoint lanes, so one two-source permute places both (the order of the
   additions into each lane is unchanged). */
static void IC_NAME(col2im)(const IC_T *cols, IC_T *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const IC_M in = (IC_M)span(0, Wo, IC_L), lo = (IC_M)span(p, p + W, IC_L), hi = (IC_M)span(p - IC_L, p + W - IC_L, IC_L);
    /* Per group of kernel columns (j, or the pair j, j + 1 when s ≥ 2): lane L of the padded row
       takes output ow = (L − j − u)/s of column j + u (u = 0, 1) from source u of the permute
       (k ≤ 2·IC_L: the padded row fits two vectors). */
    const long group = s >= 2 ? 2 : 1;
    __m512i ia[2 * IC_L], ib[2 * IC_L];
    IC_M ma[2 * IC_L], mb[2 * IC_L];
    for (long j = 0; j < k; j += group) {
        IC_I idx[2 * IC_L];
        uint32_t hit = 0;
        for (int L = 0; L < 2 * IC_L; L++) {
            idx[L] = 0;
            for (long u = 0; u < group && j + u < k; u++) {
                long t = L - j - u;
                if (t >= 0 && t % s == 0 && t / s < Wo) { idx[L] = (IC_I)(t / s + u * IC_L); hit |= 1u << L; }
            }
        }
        ia[j] = _mm512_loadu_si512(idx);
        ib[j] = _mm512_loadu_si512(idx + IC_L);
        ma[j] = (IC_M)(hit & ((1u << IC_L) - 1));
        mb[j] = (IC_M)(hit >> IC_L);
    }
    for (long c = 0; c < C; c++) {
        for (long r = 0; r < H; r++) {
            IC_T *xr = x + (c * H + r) * W - p;
            IC_V a = IC_LOADZ(lo, xr), b = hi ? IC_LOADZ(hi, xr + IC_L) : IC_ZERO();
            for (long i = 0; i < k; i++) {
                long t = r + p - i;   /* = oh·s */
                if (t < 0 || t % s != 0 || t / s >= Ho) continue;
                const IC_T *g = cols + (c * k + i) * k * ld + (t / s) * Wo;
                for (long j = 0; j < k; j += group) {
                    IC_V g0 = IC_LOADZ(in, g + j * ld);
                    IC_V g1 = group == 2 && j + 1 < k ? IC_LOADZ(in, g + (j + 1) * ld) : g0;
                    a = IC_ADDM(a, ma[j], a, IC_PERM2(g0, ia[j], g1));
                    if (hi) b = IC_ADDM(b, mb[j], b, IC_PERM2(g0, ib[j], g1));
                }
            }
            IC_STOREM(xr, lo, a);
            if (hi) IC_STOREM(xr + IC_L, hi, b);
        }
    }
}
