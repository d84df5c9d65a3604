// OpenBLAS provides CBLAS (and openblas_* queries); LAPACKE is the C interface to LAPACK.
#include <cblas.h>
#include <lapacke.h>
