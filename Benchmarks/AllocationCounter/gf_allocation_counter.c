// Counting shims around glibc's allocator: `gameflow-bench allocations` and the tests.
#define _GNU_SOURCE
#include "gf_allocation_counter.h"
#include <stddef.h>
#include <errno.h>
#include <dlfcn.h>
#include <string.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting __attribute__((tls_model("initial-exec")));
static __thread long counted __attribute__((tls_model("initial-exec")));
static __thread long countedInBLAS __attribute__((tls_model("initial-exec")));

// Whether the allocator was called from inside OpenBLAS (its caller's shared object).
static int fromBLAS(void *caller) {
    Dl_info info;
    return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "openblas") != NULL;
}

// Every thread's allocations, for runs that hand work to other threads.
static atomic_int countingAll;
static atomic_long countedAll;

#define NOTE() do { \
    if (counting) { counted += 1; if (fromBLAS(__builtin_return_address(0))) countedInBLAS += 1; } \
    if (atomic_load_explicit(&countingAll, memory_order_relaxed)) atomic_fetch_add(&countedAll, 1); \
} while (0)

void *malloc(size_t n) { NOTE(); return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { NOTE(); return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { NOTE(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { NOTE(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { NOTE(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    NOTE();
    if (a % sizeof(void *) != 0 || (a & (a - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(a, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}

void gf_allocation_counting_begin(void) { counted = 0; countedInBLAS = 0; counting = 1; }
long gf_allocation_counting_end(void) { counting = 0; return counted; }
long gf_allocation_counted_in_blas(void) { return countedInBLAS; }
void gf_allocation_counting_begin_all_threads(void) { atomic_store(&countedAll, 0); atomic_store(&countingAll, 1); }
long gf_allocation_counting_end_all_threads(void) { atomic_store(&countingAll, 0); return atomic_load(&countedAll); }
