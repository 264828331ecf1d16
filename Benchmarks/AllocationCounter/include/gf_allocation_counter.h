#ifndef GF_ALLOCATION_COUNTER_H
#define GF_ALLOCATION_COUNTER_H

/// Counts heap allocations made by the calling thread between begin and end (malloc, calloc,
/// realloc, posix_memalign, aligned_alloc, memalign: every way Swift's runtime, Foundation and
/// the C libraries reach glibc's allocator). An executable linking this target defines these
/// allocator entry points, so every library in the process calls them; each forwards to glibc's
/// __libc_* implementation. The counter is thread-local, so tests running in parallel on other
/// threads do not disturb it.
void gf_allocation_counting_begin(void);
/// Stops counting and returns the number of allocations since begin.
long gf_allocation_counting_end(void);
/// Of the last count, the allocations OpenBLAS made itself (its caller is in libopenblas): its
/// AVX-512 small-matrix GEMM kernels allocate a packing buffer per call on some shapes.
long gf_allocation_counted_in_blas(void);
/// Counts every thread's allocations between begin and end (for runs that use worker threads;
/// nothing else may run meanwhile).
void gf_allocation_counting_begin_all_threads(void);
long gf_allocation_counting_end_all_threads(void);
#endif
