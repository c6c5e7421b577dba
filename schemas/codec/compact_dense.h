// Dense updates kept in their compact wire form (QSGD's packed levels and
// signs, natural compression's codes) once the decoder has checked them,
// and expanded to f32 a block at a time where they are used. The
// coordinator adds a block of several updates while it sits in L1 cache,
// instead of writing and reading back 4 bytes a coordinate per update.
#pragma once

#include <bit>
#include <cstdint>
#include <span>

namespace edgefl::codec {

struct CompactDense {
  enum class Kind : uint8_t { kQuantized, kNatural };
  Kind kind = Kind::kQuantized;
  // kQuantized: v_j = (sign bit j set ? -1 : 1) * unit * level_j, with
  // level_j the j-th field of `level_bits` bits in `levels`.
  std::span<const uint8_t> levels;
  unsigned level_bits = 1;
  std::span<const uint8_t> signs;
  float unit = 0.0f;
  // kNatural: v_j = NaturalCodeValue(codes[j]).
  std::span<const uint8_t> codes;
};

// Value of a natural-compression code (bit 7 sign, bits 0..6 exponent + 64).
inline float NaturalCodeValue(uint8_t code) {
  const int exponent_code = code & 0x7F;
  if (exponent_code == 0) return 0.0f;
  // 2^(e - 64) for e in [1, 127] is a normal float: build it from its bits.
  const uint32_t bits = (static_cast<uint32_t>(code & 0x80) << 24) |
                        (static_cast<uint32_t>(exponent_code - 64 + 127) << 23);
  return std::bit_cast<float>(bits);
}

// The most values DecodeDenseBlock expands at once.
inline constexpr uint32_t kMaxDenseBlock = 512;

// Writes values [start, start + count) of a checked update to out, the
// same floats every time: start a multiple of 8, count <= kMaxDenseBlock.
void DecodeDenseBlock(const CompactDense& compact, uint32_t start, uint32_t count, float* out);

// All of it: out.size() values.
void DecodeDense(const CompactDense& compact, std::span<float> out);

}  // namespace edgefl::codec
