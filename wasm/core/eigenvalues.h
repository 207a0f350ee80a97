// Eigenvalues of a small real nonsymmetric matrix (n up to a few hundred),
// in float64: Householder reduction to upper Hessenberg form, then shifted
// QR iterations (complex Wilkinson shifts, Givens rotations) on the
// Hessenberg matrix with deflation. Eigenvalues only, no vectors. Used by
// the copying score (copying.h), whose matrices are D x D.
#pragma once
#include <complex>
#include <vector>

namespace hl {

// a: (n, n) row-major, copied. Returns the n eigenvalues (a complex pair of a
// real matrix comes as two entries, conjugate to rounding), in the order
// they deflate (not sorted). Throws hl::Error when the iteration does not
// converge (30 * n QR steps without a deflation), or n < 0.
std::vector<std::complex<double>> eigenvalues(const std::vector<double>& a, int n);

// The Householder step alone: a similar upper Hessenberg matrix (every entry
// below the first subdiagonal exactly 0), (n, n). Exposed for the tests.
std::vector<double> hessenberg(std::vector<double> a, int n);

}  // namespace hl
