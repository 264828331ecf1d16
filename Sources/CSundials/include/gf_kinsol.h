#ifndef GF_KINSOL_H
#define GF_KINSOL_H
/* The one place GameFlow touches SUNDIALS: KINSOL's matrix-free Newton–Krylov solver (SPGMR),
   and SPGMR alone for linear systems, behind a small C interface, so no SUNDIALS type reaches Swift. KINSOL's error handler is
   replaced by one that records the message (nothing is printed), every setter gets values
   checked here first (KINSOL prints on bad optional inputs even with a handler), and the
   serial N_Vector's operations are replaced by optimised loops (Debian's SUNDIALS is built
   without optimisation: its dot product at n = 2000 took 15 times as long). */
#include <stddef.h>

/* F(w) into f; 0 on success, nonzero if F cannot be evaluated (non-finite, failed). */
typedef int (*gf_residual_fn)(const double *w, double *f, void *context);
/* J_F(w)·u into out; `new_point` is 1 the first time w is seen since it changed. */
typedef int (*gf_jvp_fn)(const double *w, const double *u, double *out, int new_point, void *context);

typedef struct {
    long max_iterations;      /* Newton iterations (≥ 1) */
    double fnorm_tolerance;   /* stop once max |F_i| ≤ this (> 0) */
    double step_tolerance;    /* stop once the scaled step's max norm ≤ this (> 0) */
    int line_search;          /* 1: KINSOL's line search (KIN_LINESEARCH); 0: full Newton steps */
    int eta_choice;           /* forcing term: 1 or 2 (Eisenstat–Walker), 0: constant eta_constant */
    double eta_constant;      /* in (0, 1]; used when eta_choice == 0 */
    double max_newton_step;   /* > 0 */
} gf_kinsol_settings;

typedef struct {
    int flag;                 /* KINSol's return flag */
    long newton_iterations, residual_evaluations, krylov_iterations, jvps, backtracks, linear_failures;
    char message[512];        /* the last message KINSOL's error handler received ("" if none) */
} gf_kinsol_result;

typedef struct gf_kinsol gf_kinsol;

/* NULL on failure, with the reason in `error`. `krylov_dimension` is SPGMR's maxl (≥ 1). */
gf_kinsol *gf_kinsol_create(long n, int krylov_dimension, char *error, size_t error_length);
/* Solves F(w) = 0 from the guess in w (length n); w holds the last iterate on return.
   Returns -100 (without calling KINSOL) for settings out of range. */
int gf_kinsol_solve(gf_kinsol *solver, double *w, const gf_kinsol_settings *settings,
                    gf_residual_fn residual, gf_jvp_fn jvp, void *context, gf_kinsol_result *result);
void gf_kinsol_free(gf_kinsol *solver);
/* KINSOL's name for a return flag ("KIN_LINESEARCH_NONCONV", …), from a table of our own. */
const char *gf_kinsol_flag_name(int flag);

/* ---- SPGMR alone: A·x = b for a matrix-free A (the linearly implicit schemes) ---- */

/* A·u into out; 0 on success, nonzero if it cannot be evaluated. */
typedef int (*gf_atimes_fn)(const double *u, double *out, void *context);

typedef struct {
    int flag;                 /* SUNLinSolSolve's return flag (0: converged) */
    long iterations;          /* Krylov iterations (each one A·u) */
    double residual_norm;     /* ‖b − A·x‖₂ at return */
} gf_spgmr_result;

typedef struct gf_spgmr gf_spgmr;

/* NULL on failure, with the reason in `error`. `krylov_dimension` ≥ 1, `max_restarts` ≥ 0. */
gf_spgmr *gf_spgmr_create(long n, int krylov_dimension, int max_restarts, char *error, size_t error_length);
/* Solves A·x = b from x = 0 until ‖b − A·x‖₂ ≤ tolerance (> 0); x (length n) holds the last
   iterate on return. Returns -100 (without calling SUNDIALS) for a tolerance out of range. */
int gf_spgmr_solve(gf_spgmr *solver, gf_atimes_fn atimes, void *context, const double *b, double *x,
                   double tolerance, gf_spgmr_result *result);
void gf_spgmr_free(gf_spgmr *solver);
/* SUNDIALS' name for a linear solver's return flag ("SUNLS_RES_REDUCED", …). */
const char *gf_spgmr_flag_name(int flag);

#endif
