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
#include <vector>

#include "model.h"

namespace hl {

struct CopyingScores {
  int L = 0, H = 0, D = 0;
  std::vector<float> score;     // (L, H) in [-1, 1]
  std::vector<double> eig_re;   // (L, H, D) M's eigenvalues, largest |lambda| first
  std::vector<double> eig_im;   // (L, H, D)
};

// G = E^T E (C, C), float64, of the model's wte (f32 products summed in
// float64 a block of rows at a time). Costs V * C^2.
std::vector<double> embedding_gram(const Model& model);

// M of every head of a layer, (H, D, D) float64, from the Gram matrix above
// (G R in f32: L * C^3 multiply-adds for the model, the dominant cost).
std::vector<double> ov_circuit_matrices(const Model& model, const std::vector<double>& gram,
                                        int layer);

// sum Re(lambda) / sum |lambda| (0 when every lambda is 0).
double copying_score(const std::vector<std::complex<double>>& lambda);

// Every head's score and eigenvalues. Depends on the weights only.
CopyingScores copying_scores(const Model& model);

}  // namespace hl
