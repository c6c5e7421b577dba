#include "schemas/codec/compact_dense.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/vectors.h"
#include "schemas/codec/bit_pack.h"

namespace edgefl::codec {
namespace {

// Natural codes: bit 7 the sign, bits 0..6 the exponent code e, value
// 2^(e - 64), and e = 0 is +0.0 whatever the sign bit (NaturalCodeValue).
// The values of eight codes held in 32-bit lanes.
[[gnu::always_inline]] inline void NaturalValues(const U32x8& code, float* out) {
  const U32x8 exponent_code = code & 0x7Fu;
  const U32x8 bits = ((code & 0x80u) << 24) | ((exponent_code + (127 - 64)) << 23);
  const U32x8 value = exponent_code == 0u ? U32x8{} : bits;
  std::memcpy(out, &value, sizeof(value));
}

// Thirty-two codes a step: one load, widened a quarter at a time.
EDGEFL_VECTOR_CLONES void ExpandNatural(const uint8_t* codes, uint32_t count, float* out) {
  uint32_t j = 0;
  for (; j + 4 * kLanes <= count; j += 4 * kLanes) {
    U8x32 bytes;
    std::memcpy(&bytes, codes + j, sizeof(bytes));
    U32x8 code;
    WidenBytes<0>(bytes, code);
    NaturalValues(code, out + j);
    WidenBytes<1>(bytes, code);
    NaturalValues(code, out + j + kLanes);
    WidenBytes<2>(bytes, code);
    NaturalValues(code, out + j + 2 * kLanes);
    WidenBytes<3>(bytes, code);
    NaturalValues(code, out + j + 3 * kLanes);
  }
  for (; j < count; ++j) out[j] = NaturalCodeValue(codes[j]);
}

// QSGD values (sign bit j set ? -1 : 1) * unit * level_j for level fields
// of `bits` <= 8 bits: eight fields take `bits` bytes, read as one 64-bit
// word while eight bytes remain in `levels` (the rest unpack field by
// field). Fields 0-3 lie in the word's low 32 bits and fields 4-7 in the 32
// bits from bit 4 * bits, so 32-bit lanes shift each field down. The same
// floats as unpacking, scaling and negating one by one.
EDGEFL_VECTOR_CLONES void ExpandQuantizedNarrow(std::span<const uint8_t> levels, unsigned bits, const uint8_t* signs,
                                                float unit, uint32_t count, float* out) {
  const U32x8 field_shift = U32x8{0, 1, 2, 3, 0, 1, 2, 3} * bits;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  // Sign bit i of a byte moved to bit 31 of lane i.
  const U32x8 sign_shift = {31, 30, 29, 28, 27, 26, 25, 24};
  uint32_t j = 0;
  for (; j + kLanes <= count && size_t{j / 8} * bits + 8 <= levels.size(); j += kLanes) {
    uint64_t word;
    std::memcpy(&word, levels.data() + size_t{j / 8} * bits, sizeof(word));
    const auto low = static_cast<uint32_t>(word), high = static_cast<uint32_t>(word >> (4 * bits));
    const U32x8 level = (U32x8{low, low, low, low, high, high, high, high} >> field_shift) & mask;
    const F32x8 magnitude = __builtin_convertvector((I32x8)(level), F32x8) * unit;  // level < 2^8
    U32x8 value;
    std::memcpy(&value, &magnitude, sizeof(value));
    value |= ((U32x8{} + signs[j / 8]) << sign_shift) & 0x80000000u;  // magnitude's sign bit is clear
    std::memcpy(out + j, &value, sizeof(value));
  }
  if (j < count) {
    uint16_t rest[kMaxDenseBlock];
    UnpackFields(levels.subspan(size_t{j / 8} * bits, PackedFieldBytes(count - j, bits)), bits, {rest, count - j});
    for (uint32_t k = j; k < count; ++k) {
      const float magnitude = unit * static_cast<float>(rest[k - j]);
      out[k] = SignBit({signs, PackedSignBytes(count)}, k) ? -magnitude : magnitude;
    }
  }
}

}  // namespace

EDGEFL_VECTOR_CLONES void DecodeDenseBlock(const CompactDense& compact, uint32_t start, uint32_t count, float* out) {
  assert(start % 8 == 0 && count <= kMaxDenseBlock);
  switch (compact.kind) {
    case CompactDense::Kind::kQuantized: {
      // start is a multiple of 8, so the block's first field starts a byte.
      const unsigned bits = compact.level_bits;
      const auto levels = compact.levels.subspan(size_t{start} * bits / 8);
      const uint8_t* signs = compact.signs.data() + start / 8;
      if (bits <= 8) {
        ExpandQuantizedNarrow(levels.first(std::min(levels.size(), size_t{count} * bits / 8 + 8)), bits, signs,
                              compact.unit, count, out);
        return;
      }
      uint16_t fields[kMaxDenseBlock];
      UnpackFields(levels.first(PackedFieldBytes(count, bits)), bits, {fields, count});
      for (uint32_t j = 0; j < count; ++j) out[j] = compact.unit * static_cast<float>(fields[j]);
      NegateWhereSet({signs, PackedSignBytes(count)}, {out, count});
      return;
    }
    case CompactDense::Kind::kNatural:
      ExpandNatural(compact.codes.data() + start, count, out);
      return;
  }
}

void DecodeDense(const CompactDense& compact, std::span<float> out) {
  const auto d = static_cast<uint32_t>(out.size());
  for (uint32_t start = 0; start < d; start += kMaxDenseBlock) {
    DecodeDenseBlock(compact, start, std::min(kMaxDenseBlock, d - start), out.data() + start);
  }
}

}  // namespace edgefl::codec
