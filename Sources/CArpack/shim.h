#ifndef CARPACK_SHIM_H
#define CARPACK_SHIM_H
/* ARPACK (arpack-ng's ISO C bindings): the nonsymmetric double driver dnaupd/dneupd, by
   reverse communication. Its message levels are set to 0 once (cARPACK_quiet), so it never
   prints; failures come back as its info codes, which GameFlow turns into statuses. */
#include <arpack/arpackdef.h>

void dnaupd_c(a_int *ido, char const *bmat, a_int n, char const *which, a_int nev, double tol, double *resid, a_int ncv,
              double *v, a_int ldv, a_int *iparam, a_int *ipntr, double *workd, double *workl, a_int lworkl, a_int *info);
void dneupd_c(a_int rvec, char const *howmny, a_int const *select, double *dr, double *di, double *z, a_int ldz, double sigmar,
              double sigmai, double *workev, char const *bmat, a_int n, char const *which, a_int nev, double tol, double *resid,
              a_int ncv, double *v, a_int ldv, a_int *iparam, a_int *ipntr, double *workd, double *workl, a_int lworkl, a_int *info);
void debug_c(a_int logfil_c, a_int ndigit_c, a_int mgetv0_c,
             a_int msaupd_c, a_int msaup2_c, a_int msaitr_c, a_int mseigt_c, a_int msapps_c, a_int msgets_c, a_int mseupd_c,
             a_int mnaupd_c, a_int mnaup2_c, a_int mnaitr_c, a_int mneigh_c, a_int mnapps_c, a_int mngets_c, a_int mneupd_c,
             a_int mcaupd_c, a_int mcaup2_c, a_int mcaitr_c, a_int mceigh_c, a_int mcapps_c, a_int mcgets_c, a_int mceupd_c);

static inline void carpack_quiet(void) {
    debug_c(6, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
#endif
