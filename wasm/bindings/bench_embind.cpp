// headlight_bench: a small wasm module that exposes the GEMM and exp kernels
// to JS for bench/gemm.mjs, so they can be timed next to onnxruntime-web in one
// Node process. Buffers live in wasm memory and are passed as byte offsets.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <cstdlib>

#include "kernels.h"

namespace {

float* as_floats(uintptr_t ptr) { return reinterpret_cast<float*>(ptr); }

uintptr_t alloc_floats(size_t n) {
  void* p = std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  return reinterpret_cast<uintptr_t>(p);
}

void free_floats(uintptr_t ptr) { std::free(reinterpret_cast<void*>(ptr)); }

// A Float32Array over wasm memory: valid until the next allocation grows memory.
emscripten::val float_view(uintptr_t ptr, size_t n) {
  return emscripten::val(emscripten::typed_memory_view(n, as_floats(ptr)));
}

size_t packed_b_size(int K, int N) { return hl::packed_b_size(K, N); }

void pack_b(uintptr_t packed, uintptr_t B, int K, int N) {
  hl::pack_b(as_floats(packed), as_floats(B), K, N, N);
}

void gemm_packed(uintptr_t C, uintptr_t A, uintptr_t packed_B, int M, int K, int N) {
  hl::gemm_packed(as_floats(C), as_floats(A), as_floats(packed_B), nullptr, M, K, N);
}

// reps back-to-back products, so a timing is not dominated by the JS call.
void gemm_packed_reps(uintptr_t C, uintptr_t A, uintptr_t packed_B, int M, int K, int N, int reps) {
  for (int r = 0; r < reps; ++r)
    hl::gemm_packed(as_floats(C), as_floats(A), as_floats(packed_B), nullptr, M, K, N);
}

void exp_forward(uintptr_t out, uintptr_t inp, size_t n) {
  hl::exp_forward(as_floats(out), as_floats(inp), n);
}

void softmax_rows(uintptr_t x, int rows, int n) { hl::softmax_rows(as_floats(x), rows, n); }

void attention_forward(uintptr_t z, uintptr_t probs, uintptr_t qkv, int T, int C, int H) {
  hl::attention_forward(as_floats(z), as_floats(probs), as_floats(qkv), T, C, H);
}

}  // namespace

EMSCRIPTEN_BINDINGS(headlight_bench) {
  emscripten::function("allocFloats", &alloc_floats);
  emscripten::function("free", &free_floats);
  emscripten::function("floatView", &float_view);
  emscripten::function("packedBSize", &packed_b_size);
  emscripten::function("packB", &pack_b);
  emscripten::function("gemmPacked", &gemm_packed);
  emscripten::function("gemmPackedReps", &gemm_packed_reps);
  emscripten::function("expForward", &exp_forward);
  emscripten::function("softmaxRows", &softmax_rows);
  emscripten::function("attentionForward", &attention_forward);
}
