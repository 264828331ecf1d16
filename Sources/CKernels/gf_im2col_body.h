/* im2col and col2im for one number type, written once and included twice by gf_im2col.c (float:
   16 lanes; double: 8). Define before including: IC_T (the type), IC_V (its 512-bit vector),
   IC_M (its lane mask), IC_L (lanes), IC_I (the index type of a lane: int or long long),
   IC_NAME(name) (the names), and the intrinsics IC_LOADZ (masked load, zeros elsewhere),
   IC_STOREM (masked store), IC_PERM2 (two-source permute), IC_PERM1 (one-source permute),
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

static void IC_NAME(col2im)(const IC_T *cols, IC_T *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const IC_M in = (IC_M)span(0, Wo, IC_L), lo = (IC_M)span(p, p + W, IC_L), hi = (IC_M)span(p - IC_L, p + W - IC_L, IC_L);
    /* Per kernel column j: lane L of the row takes output ow = (L − j)/s when L − j is a multiple
       of s in [0, (W_o − 1)s] (k ≤ 2·IC_L: the padded row fits two vectors). */
    __m512i ia[2 * IC_L], ib[2 * IC_L];
    IC_M ma[2 * IC_L], mb[2 * IC_L];
    for (long j = 0; j < k; j++) {
        IC_I idx[2 * IC_L];
        uint32_t hit = 0;
        for (int L = 0; L < 2 * IC_L; L++) {
            long t = L - j;
            int h = t >= 0 && t % s == 0 && t / s < Wo;
            idx[L] = h ? (IC_I)(t / s) : 0;
            if (h) hit |= 1u << L;
        }
        ia[j] = _mm512_loadu_si512(idx);
        ib[j] = _mm512_loadu_si512(idx + IC_L);
        ma[j] = (IC_M)(hit & ((1u << IC_L) - 1));
        mb[j] = (IC_M)(hit >> IC_L);
    }
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            const IC_T *rows = cols + (c * k + i) * k * ld;
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) continue;
                IC_T *xr = x + (c * H + r) * W - p;
                IC_V a = IC_LOADZ(lo, xr);
                if (!hi) {   /* the padded row fits one vector */
                    for (long j = 0; j < k; j++) a = IC_ADDM(a, ma[j], a, IC_PERM1(ia[j], IC_LOADZ(in, rows + j * ld + oh * Wo)));
                    IC_STOREM(xr, lo, a);
                    continue;
                }
                IC_V b = IC_LOADZ(hi, xr + IC_L);
                for (long j = 0; j < k; j++) {
                    IC_V g = IC_LOADZ(in, rows + j * ld + oh * Wo);
                    a = IC_ADDM(a, ma[j], a, IC_PERM1(ia[j], g));
                    b = IC_ADDM(b, mb[j], b, IC_PERM1(ib[j], g));
                }
                IC_STOREM(xr, lo, a);
                IC_STOREM(xr + IC_L, hi, b);
            }
        }
    }
}
