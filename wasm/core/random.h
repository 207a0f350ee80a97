// The one family of pseudo-random numbers of the engine: splitmix64 (a seed
// stream, and the probe's token draws) seeding xoshiro256** (Rng), and a
// Box-Muller normal. Our own on purpose: std::uniform_int_distribution and
// std::normal_distribution differ between libstdc++ and libc++, and the same
// seed must give the same model, batches and probes natively and in wasm.
#pragma once
#include <cmath>
#include <cstdint>

namespace hl {

// Advances state and returns the next number of its stream.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = splitmix64(seed);
  }

  uint64_t next_u64() {  // xoshiro256**
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n): Lemire's multiply-shift; the bias (< n / 2^32) is
  // irrelevant here.
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next_u64() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }

  // Uniform in [0, 1), 24 bits.
  float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

  // Standard normal.
  float normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Box-Muller in double; u1 in (0, 1] so the log is finite.
    const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_ = static_cast<float>(r * std::sin(angle));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(angle));
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.0f;
};

}  // namespace hl
