// Bit-level packing shared by every payload that is not plain f32: sign bits
// and fixed-width level fields. Bit j of a stream lives in byte j/8 at bit
// position j%8 (LSB first), the same on every host. Free functions over
// spans; callers size the outputs with the *Bytes helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace edgefl::codec {

constexpr size_t PackedSignBytes(size_t count) { return (count + 7) / 8; }
constexpr size_t PackedFieldBytes(size_t count, unsigned bits) { return (count * bits + 7) / 8; }

// Smallest width that holds 0..max_value.
constexpr unsigned BitsFor(uint32_t max_value) {
  unsigned bits = 1;
  while (bits < 32 && (max_value >> bits) != 0) ++bits;
  return bits;
}

// Bit j set iff values[j] is negative (sign bit set, so -0.0 counts as negative).
void PackSigns(std::span<const float> values, std::span<uint8_t> packed);

// counts[j] += bit j clear ? +1 : -1, for the first counts.size() bits.
void AccumulateSigns(std::span<const uint8_t> packed, std::span<int32_t> counts);

// out[j] = bit j clear ? +scale : -scale.
void UnpackSigns(std::span<const uint8_t> packed, float scale, std::span<float> out);

// values[j] = -values[j] (its sign bit flipped) where bit j is set.
void NegateWhereSet(std::span<const uint8_t> packed, std::span<float> values);

inline bool SignBit(std::span<const uint8_t> packed, size_t j) { return (packed[j >> 3] >> (j & 7)) & 1u; }

// Packs each fields[j] (< 2^bits) into `bits` bits, LSB first.
void PackFields(std::span<const uint16_t> fields, unsigned bits, std::span<uint8_t> packed);
void UnpackFields(std::span<const uint8_t> packed, unsigned bits, std::span<uint16_t> fields);

}  // namespace edgefl::codec
