// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
// over bytes in order. A run's model_hash is it over the model's
// little-endian f32 bytes (codec::ModelHash, model.bin), and a checkpoint's
// checksum is it over the file's bytes. Incremental: pass the last result
// as `hash` to continue over the next bytes.
#pragma once

#include <cstdint>
#include <span>

namespace edgefl {

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ull;

inline uint64_t Fnv1a64(std::span<const uint8_t> bytes, uint64_t hash = kFnvOffsetBasis) {
  for (const uint8_t b : bytes) hash = (hash ^ b) * kFnvPrime;
  return hash;
}

}  // namespace edgefl
