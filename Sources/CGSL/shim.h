#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H
/* The one place GameFlow touches C: GSL (root finders) and OpenBLAS/LAPACK.
   GSL exports its solver types as mutable globals (GSL_VAR), which Swift 6 refuses to
   reference, so each one used gets a static inline accessor here. */
#include <gsl/gsl_version.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multiroots.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_odeiv2.h>

static inline const char *cgsl_version(void) { return gsl_version; }
static inline const gsl_multiroot_fdfsolver_type *cgsl_fdf_hybridsj(void) { return gsl_multiroot_fdfsolver_hybridsj; }
static inline const gsl_multiroot_fsolver_type *cgsl_f_hybrids(void) { return gsl_multiroot_fsolver_hybrids; }

/* GSL odeiv2 steppers (the ODE flows). */
static inline const gsl_odeiv2_step_type *cgsl_step_rkf45(void) { return gsl_odeiv2_step_rkf45; }
static inline const gsl_odeiv2_step_type *cgsl_step_rkck(void) { return gsl_odeiv2_step_rkck; }
static inline const gsl_odeiv2_step_type *cgsl_step_rk8pd(void) { return gsl_odeiv2_step_rk8pd; }
static inline const gsl_odeiv2_step_type *cgsl_step_msadams(void) { return gsl_odeiv2_step_msadams; }
static inline const gsl_odeiv2_step_type *cgsl_step_rk2imp(void) { return gsl_odeiv2_step_rk2imp; }
static inline const gsl_odeiv2_step_type *cgsl_step_rk4imp(void) { return gsl_odeiv2_step_rk4imp; }
static inline const gsl_odeiv2_step_type *cgsl_step_bsimp(void) { return gsl_odeiv2_step_bsimp; }
static inline const gsl_odeiv2_step_type *cgsl_step_msbdf(void) { return gsl_odeiv2_step_msbdf; }
/* gsl_odeiv2_control_hadjust with the method's order given instead of read from a stepper
   (it is exactly c->type->hadjust(c->state, s->dimension, order of s, ...)): the integrator's
   controller serves schemes that are not GSL steppers (an optimizer around an embedded pair). */
static inline int cgsl_control_hadjust(gsl_odeiv2_control *c, size_t dim, unsigned int order, const double *y,
                                       const double *yerr, const double *dydt, double *h) {
    return c->type->hadjust(c->state, dim, order, y, yerr, dydt, h);
}

/* OpenBLAS: thread control (exported by libopenblas only). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* LAPACK (Fortran ABI, exported by libopenblas): general nonsymmetric eigenproblem. */
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda,
            double *wr, double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr,
            double *work, const int *lwork, int *info);

/* LAPACK: singular value decomposition (for the equilibrium sets of linear games). */
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda,
             double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *info);

/* LAPACK: symmetric eigenproblem (covariance square roots for FID). */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info);

#endif
