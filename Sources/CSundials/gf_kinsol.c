/* KINSOL (SUNDIALS) behind gf_kinsol.h; see there. */
#include "gf_kinsol.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <kinsol/kinsol.h>
#include <kinsol/kinsol_ls.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#include <sunlinsol/sunlinsol_spgmr.h>

struct gf_kinsol {
    SUNContext context;
    void *memory;
    SUNLinearSolver linear;
    N_Vector uu, scale;
    long n;
    /* The current solve's callbacks and result (KINSOL's user data points here). */
    gf_residual_fn residual;
    gf_jvp_fn jvp;
    void *user;
    gf_kinsol_result *result;
};

/* ---- Serial N_Vector operations, optimised (the library's own are built at -O0). ---- */

#define LEN(v) ((long)NV_LENGTH_S(v))
#define DAT(v) (NV_DATA_S(v))

static void op_linearsum(realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z) {
    long n = LEN(x); const double *restrict xd = DAT(x), *restrict yd = DAT(y); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = a * xd[i] + b * yd[i];
}
static void op_const(realtype c, N_Vector z) {
    long n = LEN(z); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = c;
}
static void op_prod(N_Vector x, N_Vector y, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x), *yd = DAT(y); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = xd[i] * yd[i];
}
static void op_div(N_Vector x, N_Vector y, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x), *yd = DAT(y); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = xd[i] / yd[i];
}
static void op_scale(realtype c, N_Vector x, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = c * xd[i];
}
static void op_abs(N_Vector x, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = fabs(xd[i]);
}
static void op_inv(N_Vector x, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = 1.0 / xd[i];
}
static void op_addconst(N_Vector x, realtype b, N_Vector z) {
    long n = LEN(x); const double *xd = DAT(x); double *zd = DAT(z);
    for (long i = 0; i < n; i++) zd[i] = xd[i] + b;
}
static realtype op_dotprod(N_Vector x, N_Vector y) {
    long n = LEN(x); const double *restrict xd = DAT(x), *restrict yd = DAT(y);
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0; long i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += xd[i] * yd[i]; s1 += xd[i + 1] * yd[i + 1];
        s2 += xd[i + 2] * yd[i + 2]; s3 += xd[i + 3] * yd[i + 3];
    }
    for (; i < n; i++) s0 += xd[i] * yd[i];
    return (s0 + s1) + (s2 + s3);
}
static realtype op_maxnorm(N_Vector x) {
    long n = LEN(x); const double *xd = DAT(x); double m = 0;
    for (long i = 0; i < n; i++) { double a = fabs(xd[i]); m = a > m ? a : m; }
    return m;
}
static realtype op_wl2norm(N_Vector x, N_Vector w) {
    long n = LEN(x); const double *xd = DAT(x), *wd = DAT(w); double s = 0;
    for (long i = 0; i < n; i++) { double p = xd[i] * wd[i]; s += p * p; }
    return sqrt(s);
}
static realtype op_wrmsnorm(N_Vector x, N_Vector w) {
    return op_wl2norm(x, w) / sqrt((double)LEN(x));
}
static realtype op_min(N_Vector x) {
    long n = LEN(x); const double *xd = DAT(x); double m = xd[0];
    for (long i = 1; i < n; i++) m = xd[i] < m ? xd[i] : m;
    return m;
}
static realtype op_l1norm(N_Vector x) {
    long n = LEN(x); const double *xd = DAT(x); double s = 0;
    for (long i = 0; i < n; i++) s += fabs(xd[i]);
    return s;
}
static int op_linearcombination(int k, realtype *c, N_Vector *x, N_Vector z) {
    long n = LEN(z); double *zd = DAT(z);
    /* z may be x[0]: scale it first, then add the others. */
    const double *x0 = DAT(x[0]);
    for (long i = 0; i < n; i++) zd[i] = c[0] * x0[i];
    for (int j = 1; j < k; j++) {
        const double *xj = DAT(x[j]); double cj = c[j];
        for (long i = 0; i < n; i++) zd[i] += cj * xj[i];
    }
    return 0;
}
static int op_dotprodmulti(int k, N_Vector x, N_Vector *y, realtype *d) {
    for (int j = 0; j < k; j++) d[j] = op_dotprod(x, y[j]);
    return 0;
}
static int op_scaleaddmulti(int k, realtype *a, N_Vector x, N_Vector *y, N_Vector *z) {
    long n = LEN(x); const double *xd = DAT(x);
    for (int j = 0; j < k; j++) {
        const double *yd = DAT(y[j]); double *zd = DAT(z[j]); double aj = a[j];
        for (long i = 0; i < n; i++) zd[i] = aj * xd[i] + yd[i];
    }
    return 0;
}

static void use_fast_ops(N_Vector v) {
    N_Vector_Ops o = v->ops;
    o->nvlinearsum = op_linearsum; o->nvconst = op_const; o->nvprod = op_prod; o->nvdiv = op_div;
    o->nvscale = op_scale; o->nvabs = op_abs; o->nvinv = op_inv; o->nvaddconst = op_addconst;
    o->nvdotprod = op_dotprod; o->nvmaxnorm = op_maxnorm; o->nvwl2norm = op_wl2norm;
    o->nvwrmsnorm = op_wrmsnorm; o->nvmin = op_min; o->nvl1norm = op_l1norm;
    o->nvlinearcombination = op_linearcombination; o->nvdotprodmulti = op_dotprodmulti;
    o->nvscaleaddmulti = op_scaleaddmulti;
    o->nvdotprodlocal = op_dotprod; o->nvmaxnormlocal = op_maxnorm; o->nvminlocal = op_min;
    o->nvl1normlocal = op_l1norm;
}

/* ---- Callbacks ---- */

static void record_error(int code, const char *module, const char *function, char *msg, void *data) {
    gf_kinsol *s = data;
    (void)code;
    if (s->result)
        snprintf(s->result->message, sizeof s->result->message, "%s in %s: %s",
                 module ? module : "KINSOL", function ? function : "?", msg ? msg : "");
}

static int system_fn(N_Vector uu, N_Vector fval, void *data) {
    gf_kinsol *s = data;
    return s->residual(DAT(uu), DAT(fval), s->user) == 0 ? 0 : -1;
}

static int jtv_fn(N_Vector v, N_Vector jv, N_Vector uu, booleantype *new_uu, void *data) {
    gf_kinsol *s = data;
    int fresh = *new_uu ? 1 : 0;
    *new_uu = SUNFALSE;
    return s->jvp(DAT(uu), DAT(v), DAT(jv), fresh, s->user) == 0 ? 0 : -1;
}

/* ---- Life cycle ---- */

gf_kinsol *gf_kinsol_create(long n, int krylov_dimension, char *error, size_t error_length) {
    if (n < 1 || krylov_dimension < 1) {
        snprintf(error, error_length, "KINSOL needs a system of size ≥ 1 and a Krylov dimension ≥ 1 (got %ld, %d)", n, krylov_dimension);
        return NULL;
    }
    gf_kinsol *s = calloc(1, sizeof *s);
    if (!s) { snprintf(error, error_length, "out of memory for the KINSOL solver"); return NULL; }
    s->n = n;
    const char *step = "SUNContext_Create";
    if (SUNContext_Create(NULL, &s->context) != 0) goto fail;
    step = "N_VNew_Serial";
    s->uu = N_VNew_Serial((sunindextype)n, s->context);
    if (!s->uu) goto fail;
    use_fast_ops(s->uu);            /* clones (KINSOL's and SPGMR's work vectors) copy the table */
    s->scale = N_VClone(s->uu);
    if (!s->scale) goto fail;
    op_const(1.0, s->scale);
    step = "KINCreate";
    s->memory = KINCreate(s->context);
    if (!s->memory) goto fail;
    KINSetErrHandlerFn(s->memory, record_error, s);
    KINSetErrFile(s->memory, NULL);
    step = "KINInit";
    if (KINInit(s->memory, system_fn, s->uu) != KIN_SUCCESS) goto fail;
    KINSetUserData(s->memory, s);
    step = "SUNLinSol_SPGMR";
    s->linear = SUNLinSol_SPGMR(s->uu, SUN_PREC_NONE, krylov_dimension, s->context);
    if (!s->linear) goto fail;
    step = "KINSetLinearSolver";
    if (KINSetLinearSolver(s->memory, s->linear, NULL) != KINLS_SUCCESS) goto fail;
    step = "KINSetJacTimesVecFn";
    if (KINSetJacTimesVecFn(s->memory, jtv_fn) != KINLS_SUCCESS) goto fail;
    return s;
fail:
    snprintf(error, error_length, "KINSOL set-up failed at %s (size %ld, Krylov dimension %d; out of memory?)", step, n, krylov_dimension);
    gf_kinsol_free(s);
    return NULL;
}

void gf_kinsol_free(gf_kinsol *s) {
    if (!s) return;
    if (s->memory) KINFree(&s->memory);
    if (s->linear) SUNLinSolFree(s->linear);
    if (s->scale) N_VDestroy(s->scale);
    if (s->uu) N_VDestroy(s->uu);
    if (s->context) SUNContext_Free(&s->context);
    free(s);
}

/* ---- Solve ---- */

int gf_kinsol_solve(gf_kinsol *s, double *w, const gf_kinsol_settings *set,
                    gf_residual_fn residual, gf_jvp_fn jvp, void *context, gf_kinsol_result *r) {
    memset(r, 0, sizeof *r);
    /* KINSOL prints (even with a handler) when an optional input is out of range: check here. */
    if (set->max_iterations < 1 || !(set->fnorm_tolerance > 0) || !(set->step_tolerance > 0)
        || !(set->max_newton_step > 0) || set->eta_choice < 0 || set->eta_choice > 2
        || (set->eta_choice == 0 && !(set->eta_constant > 0 && set->eta_constant <= 1))) {
        snprintf(r->message, sizeof r->message, "Newton–Krylov settings out of range");
        r->flag = -100;
        return r->flag;
    }
    void *m = s->memory;
    KINSetNumMaxIters(m, set->max_iterations);
    KINSetFuncNormTol(m, set->fnorm_tolerance);
    KINSetScaledStepTol(m, set->step_tolerance);
    KINSetMaxNewtonStep(m, set->max_newton_step);
    KINSetEtaForm(m, set->eta_choice == 1 ? KIN_ETACHOICE1 : set->eta_choice == 2 ? KIN_ETACHOICE2 : KIN_ETACONSTANT);
    if (set->eta_choice == 0) KINSetEtaConstValue(m, set->eta_constant);
    /* No setup calls are needed (no matrix, no preconditioner). */
    s->residual = residual; s->jvp = jvp; s->user = context; s->result = r;
    memcpy(DAT(s->uu), w, (size_t)s->n * sizeof(double));
    int flag = KINSol(m, s->uu, set->line_search ? KIN_LINESEARCH : KIN_NONE, s->scale, s->scale);
    memcpy(w, DAT(s->uu), (size_t)s->n * sizeof(double));
    r->flag = flag;
    long v = 0;
    KINGetNumNonlinSolvIters(m, &v); r->newton_iterations = v;
    KINGetNumFuncEvals(m, &v); r->residual_evaluations = v;
    KINGetNumBacktrackOps(m, &v); r->backtracks = v;
    if (flag != KIN_INITIAL_GUESS_OK) {     /* the linear counters are stale then */
        KINGetNumLinIters(m, &v); r->krylov_iterations = v;
        KINGetNumJtimesEvals(m, &v); r->jvps = v;
        KINGetNumLinConvFails(m, &v); r->linear_failures = v;
    }
    s->result = NULL;
    return flag;
}

const char *gf_kinsol_flag_name(int flag) {
    switch (flag) {
    case 0: return "KIN_SUCCESS";
    case 1: return "KIN_INITIAL_GUESS_OK";
    case 2: return "KIN_STEP_LT_STPTOL";
    case 99: return "KIN_WARNING";
    case -1: return "KIN_MEM_NULL";
    case -2: return "KIN_ILL_INPUT";
    case -3: return "KIN_NO_MALLOC";
    case -4: return "KIN_MEM_FAIL";
    case -5: return "KIN_LINESEARCH_NONCONV";
    case -6: return "KIN_MAXITER_REACHED";
    case -7: return "KIN_MXNEWT_5X_EXCEEDED";
    case -8: return "KIN_LINESEARCH_BCFAIL";
    case -9: return "KIN_LINSOLV_NO_RECOVERY";
    case -10: return "KIN_LINIT_FAIL";
    case -11: return "KIN_LSETUP_FAIL";
    case -12: return "KIN_LSOLVE_FAIL";
    case -13: return "KIN_SYSFUNC_FAIL";
    case -14: return "KIN_FIRST_SYSFUNC_ERR";
    case -15: return "KIN_REPTD_SYSFUNC_ERR";
    case -16: return "KIN_VECTOROP_ERR";
    case -17: return "KIN_CONTEXT_ERR";
    case -100: return "settings out of range";
    default: return "unknown KINSOL flag";
    }
}

/* ---- SPGMR alone ---- */

struct gf_spgmr {
    long n;
    SUNContext context;
    N_Vector x, b;
    SUNLinearSolver linear;
    gf_atimes_fn atimes;
    void *user;
};

static int atimes_fn(void *data, N_Vector v, N_Vector z) {
    gf_spgmr *s = data;
    return s->atimes(DAT(v), DAT(z), s->user) == 0 ? 0 : -1;   /* negative: unrecoverable */
}

gf_spgmr *gf_spgmr_create(long n, int krylov_dimension, int max_restarts, char *error, size_t error_length) {
    if (n < 1 || krylov_dimension < 1 || max_restarts < 0) {
        snprintf(error, error_length, "SPGMR needs a system of size ≥ 1, a Krylov dimension ≥ 1 and restarts ≥ 0 (got %ld, %d, %d)",
                 n, krylov_dimension, max_restarts);
        return NULL;
    }
    gf_spgmr *s = calloc(1, sizeof *s);
    if (!s) { snprintf(error, error_length, "out of memory for the SPGMR solver"); return NULL; }
    s->n = n;
    const char *step = "SUNContext_Create";
    if (SUNContext_Create(NULL, &s->context) != 0) goto fail;
    step = "N_VNew_Serial";
    s->x = N_VNew_Serial((sunindextype)n, s->context);
    if (!s->x) goto fail;
    use_fast_ops(s->x);
    s->b = N_VClone(s->x);
    if (!s->b) goto fail;
    step = "SUNLinSol_SPGMR";
    s->linear = SUNLinSol_SPGMR(s->x, SUN_PREC_NONE, krylov_dimension, s->context);
    if (!s->linear) goto fail;
    step = "SUNLinSol_SPGMRSetMaxRestarts";
    if (SUNLinSol_SPGMRSetMaxRestarts(s->linear, max_restarts) != SUNLS_SUCCESS) goto fail;
    step = "SUNLinSolSetATimes";
    if (SUNLinSolSetATimes(s->linear, s, atimes_fn) != SUNLS_SUCCESS) goto fail;
    step = "SUNLinSolInitialize";
    if (SUNLinSolInitialize(s->linear) != SUNLS_SUCCESS) goto fail;
    return s;
fail:
    snprintf(error, error_length, "SPGMR set-up failed at %s (size %ld, Krylov dimension %d; out of memory?)", step, n, krylov_dimension);
    gf_spgmr_free(s);
    return NULL;
}

void gf_spgmr_free(gf_spgmr *s) {
    if (!s) return;
    if (s->linear) SUNLinSolFree(s->linear);
    if (s->b) N_VDestroy(s->b);
    if (s->x) N_VDestroy(s->x);
    if (s->context) SUNContext_Free(&s->context);
    free(s);
}

int gf_spgmr_solve(gf_spgmr *s, gf_atimes_fn atimes, void *context, const double *b, double *x,
                   double tolerance, gf_spgmr_result *r) {
    memset(r, 0, sizeof *r);
    if (!(tolerance > 0) || !isfinite(tolerance)) { r->flag = -100; return r->flag; }
    s->atimes = atimes; s->user = context;
    memcpy(DAT(s->b), b, (size_t)s->n * sizeof(double));
    op_const(0.0, s->x);
    SUNLinSolSetZeroGuess(s->linear, SUNTRUE);
    int flag = SUNLinSolSetup(s->linear, NULL);
    if (flag == SUNLS_SUCCESS) flag = SUNLinSolSolve(s->linear, NULL, s->x, s->b, tolerance);
    memcpy(x, DAT(s->x), (size_t)s->n * sizeof(double));
    r->flag = flag;
    r->iterations = SUNLinSolNumIters(s->linear);
    r->residual_norm = SUNLinSolResNorm(s->linear);
    return flag;
}

const char *gf_spgmr_flag_name(int flag) {
    switch (flag) {
    case 0: return "SUNLS_SUCCESS";
    case -801: return "SUNLS_MEM_NULL";
    case -802: return "SUNLS_ILL_INPUT";
    case -803: return "SUNLS_MEM_FAIL";
    case -804: return "SUNLS_ATIMES_NULL";
    case -805: return "SUNLS_ATIMES_FAIL_UNREC";
    case -810: return "SUNLS_GS_FAIL";
    case -811: return "SUNLS_QRSOL_FAIL";
    case -812: return "SUNLS_VECTOROP_ERR";
    case 801: return "SUNLS_RES_REDUCED";
    case 802: return "SUNLS_CONV_FAIL";
    case 803: return "SUNLS_ATIMES_FAIL_REC";
    case 807: return "SUNLS_QRFACT_FAIL";
    case -100: return "tolerance out of range";
    default: return "unknown SUNDIALS linear solver flag";
    }
}
