// Does a head copy? The copying score of Olsson et al. (2022), "In-context
// Learning and Induction Heads": a head copies when its OV circuit, read from
// the token embeddings to the logits, raises the logit of the token it
// attends to. docs/heads.md ("Copying") has the definition in words.
//
// For head h of layer l, with E = wte (V, C) (the tied unembedding is E^T),
// W_V = c_attn's value columns of the head (C, D), W_O = c_proj's rows of the
// head (D, C), and the layernorms taken as their weights and their centring
// (P = I - 1 1^T / C centres a row; each token's 1/std scale and the biases
// are left out), the full OV circuit in row-vector form is
//   OV = E P diag(ln_1.w) W_V W_O P diag(ln_f.w) E^T          (V, V)
// row s: the logits the head adds when it attends to token s. Its nonzero
// eigenvalues are those of the small matrix (eig(AB) = eig(BA))
//   M = W_O P diag(ln_f.w) G P diag(ln_1.w) W_V                (D, D)
// with G = E^T E (C, C), and
//   copying = sum Re(lambda) / sum |lambda|   over M's eigenvalues, in [-1, 1]
// (0 when M = 0): positive = the circuit tends to raise the logit of the
// attended token (copying), negative = to lower it (suppression).
// Shapes use the letters of config.h.
#pragma once
#include <complex>
#include <memory>
#include <vector>

#include "model.h"

namespace hl {

struct CopyingScores {
  int L = 0, H = 0, D = 0;
  std::vector<float> score;     // (L, H) in [-1, 1]
  std::vector<double> eig_re;   // (L, H, D) M's eigenvalues, largest |lambda| first
  std::vector<double> eig_im;   // (L, H, D)
};

// Rows of wte summed into the Gram matrix a block at a time (embedding_gram,
// CopyingRun): the blocks and their order fix the bits of G.
constexpr int kGramRows = 512;

// G = E^T E (C, C), float64, of the model's wte (f32 products summed in
// float64 a block of kGramRows rows at a time). Costs V * C^2.
std::vector<double> embedding_gram(const Model& model);

// M of every head of a layer, (H, D, D) float64, from the Gram matrix above
// (G R in f32: L * C^3 multiply-adds for the model, the dominant cost).
std::vector<double> ov_circuit_matrices(const Model& model, const std::vector<double>& gram,
                                        int layer);

// sum Re(lambda) / sum |lambda| (0 when every lambda is 0).
double copying_score(const std::vector<std::complex<double>>& lambda);

// Every head's score and eigenvalues. Depends on the weights only.
CopyingScores copying_scores(const Model& model);

// The same scores in parts, so a caller can show the model first and fill
// the scores in later without holding its thread for long (the page's
// worker, between the reader's requests). The parts, in order: one block of
// kGramRows rows of wte summed into G (ceil(V / kGramRows) of them, C^2 *
// kGramRows multiply-adds each), then two per layer: G R (an f32 GEMM of
// C^3), then each head's M (C^2 * D) and its eigenvalues (H problems of
// D x D): on the GPT-2-small shape 3.0e8, 4.5e8 and 3.8e7 multiply-adds
// plus 12 eigenvalue problems of 64 x 64. The same operations in the same
// order as copying_scores, so the scores are its bits however the parts are
// grouped.
class CopyingRun {
 public:
  explicit CopyingRun(std::shared_ptr<const Model> model);

  // Up to n_parts more parts (n_parts >= 1); returns done().
  bool step(int n_parts = 1);
  bool done() const { return next_ == total_; }
  int parts_done() const { return next_; }
  int parts_total() const { return total_; }
  // Multiply-adds of the parts done and of all of them (an eigenvalue
  // problem counted as ten QR sweeps of D^3): what a progress bar should
  // move with, since the kinds of part differ.
  double work_done() const;
  double work_total() const;
  // Complete once done(); throws before.
  const CopyingScores& scores() const;

 private:
  std::shared_ptr<const Model> model_;
  int gram_parts_ = 0;          // ceil(V / kGramRows)
  int total_ = 0;               // gram_parts_ + 2 * L
  int next_ = 0;                // the next part to run
  std::vector<double> gram_;    // (C, C), complete after the gram parts
  std::vector<float> gram_values_;  // (C, C) G R of the layer whose first part ran last
  CopyingScores out_;
};

}  // namespace hl
