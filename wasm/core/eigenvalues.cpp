// Hessenberg reduction + shifted QR (eigenvalues.h).
#include "eigenvalues.h"

#include <cfloat>
#include <cmath>
#include <string>

#include "error.h"

namespace hl {

using cplx = std::complex<double>;

std::vector<double> hessenberg(std::vector<double> a, int n) {
  if (n < 0 || a.size() != static_cast<size_t>(n) * n) throw Error("hessenberg: a is not n x n");
  auto at = [&](int i, int j) -> double& { return a[static_cast<size_t>(i) * n + j]; };
  std::vector<double> v(n);
  // Column k: a reflector P = I - 2 v v^T / (v^T v) on rows k+1..n-1 zeroes
  // column k below its subdiagonal; A <- P A P keeps the eigenvalues.
  for (int k = 0; k + 2 < n; ++k) {
    double norm = 0;
    for (int i = k + 1; i < n; ++i) norm += at(i, k) * at(i, k);
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    const double alpha = at(k + 1, k) > 0 ? -norm : norm;  // no cancellation in v[k+1]
    double vtv = 0;
    for (int i = k + 1; i < n; ++i) {
      v[i] = at(i, k) - (i == k + 1 ? alpha : 0.0);
      vtv += v[i] * v[i];
    }
    if (vtv == 0) continue;
    for (int j = k; j < n; ++j) {  // A <- P A (rows k+1..n-1)
      double dot = 0;
      for (int i = k + 1; i < n; ++i) dot += v[i] * at(i, j);
      const double f = 2 * dot / vtv;
      for (int i = k + 1; i < n; ++i) at(i, j) -= f * v[i];
    }
    for (int i = 0; i < n; ++i) {  // A <- A P (columns k+1..n-1)
      double dot = 0;
      for (int j = k + 1; j < n; ++j) dot += at(i, j) * v[j];
      const double f = 2 * dot / vtv;
      for (int j = k + 1; j < n; ++j) at(i, j) -= f * v[j];
    }
    at(k + 1, k) = alpha;
    for (int i = k + 2; i < n; ++i) at(i, k) = 0;
  }
  return a;
}

namespace {

// The eigenvalue of the 2 x 2 [[a, b], [c, d]] closer to d (Wilkinson's shift).
cplx wilkinson_shift(cplx a, cplx b, cplx c, cplx d) {
  const cplx half = (a - d) * 0.5;
  const cplx root = std::sqrt(half * half + b * c);
  const cplx mean = (a + d) * 0.5;
  const cplx one = mean + root, other = mean - root;
  return std::abs(one - d) < std::abs(other - d) ? one : other;
}

}  // namespace

std::vector<cplx> eigenvalues(const std::vector<double>& a, int n) {
  if (n < 0 || a.size() != static_cast<size_t>(n) * n) throw Error("eigenvalues: a is not n x n");
  const std::vector<double> hess = hessenberg(a, n);
  std::vector<cplx> h(hess.begin(), hess.end());
  auto at = [&](int i, int j) -> cplx& { return h[static_cast<size_t>(i) * n + j]; };
  double norm = 0;  // the scale for deflating next to zero diagonal entries
  for (const cplx& x : h) norm = std::max(norm, std::abs(x));
  std::vector<cplx> values(n);
  std::vector<double> cs(n);
  std::vector<cplx> sn(n);
  int hi = n - 1, steps = 0;
  while (hi >= 0) {
    // The active block is lo..hi: the subdiagonal entries lo+1..hi are not negligible.
    int lo = hi;
    for (; lo > 0; --lo) {
      double scale = std::abs(at(lo - 1, lo - 1)) + std::abs(at(lo, lo));
      if (scale == 0) scale = norm;
      if (std::abs(at(lo, lo - 1)) <= DBL_EPSILON * scale) {
        at(lo, lo - 1) = 0;
        break;
      }
    }
    if (lo == hi) {  // a 1 x 1 block: its entry is an eigenvalue
      values[hi] = at(hi, hi);
      --hi;
      steps = 0;
      continue;
    }
    if (++steps > 30 * n) {
      throw Error("eigenvalues: the QR iteration did not converge (" + std::to_string(n) + " x " +
                  std::to_string(n) + ")");
    }
    cplx mu = wilkinson_shift(at(hi - 1, hi - 1), at(hi - 1, hi), at(hi, hi - 1), at(hi, hi));
    // An exceptional shift now and then breaks the cycles a fixed shift can
    // fall into (a permutation matrix, say).
    if (steps % 11 == 0) mu = at(hi, hi) + cplx(0.75, 0.5) * std::abs(at(hi, hi - 1));
    // One QR step on the block: H - mu I = Q R with Givens rotations G_k
    // (rows k, k+1), then H <- R Q + mu I. The rest of the matrix does not
    // change the block's eigenvalues, so only the block is updated.
    for (int k = lo; k <= hi; ++k) at(k, k) -= mu;
    for (int k = lo; k < hi; ++k) {
      const cplx x = at(k, k), y = at(k + 1, k);
      const double r = std::hypot(std::abs(x), std::abs(y));
      double c = 1;
      cplx s = 0;
      if (r != 0) {
        if (std::abs(x) == 0) {
          c = 0;
          s = std::conj(y) / std::abs(y);
        } else {
          c = std::abs(x) / r;
          s = (x / std::abs(x)) * std::conj(y) / r;
        }
      }
      cs[k] = c;
      sn[k] = s;
      for (int j = k; j <= hi; ++j) {  // [c s; -conj(s) c] on rows k, k+1
        const cplx u = at(k, j), w = at(k + 1, j);
        at(k, j) = c * u + s * w;
        at(k + 1, j) = -std::conj(s) * u + c * w;
      }
    }
    for (int k = lo; k < hi; ++k) {  // R G_k^H on columns k, k+1 (R upper: rows lo..k+1)
      const double c = cs[k];
      const cplx s = sn[k];
      for (int i = lo; i <= k + 1; ++i) {
        const cplx u = at(i, k), w = at(i, k + 1);
        at(i, k) = u * c + w * std::conj(s);
        at(i, k + 1) = -u * s + w * c;
      }
    }
    for (int k = lo; k <= hi; ++k) at(k, k) += mu;
  }
  return values;
}

}  // namespace hl
