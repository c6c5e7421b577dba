#include "schemas/codec/bit_pack.h"

#include <bit>
#include <cstring>

#include "core/vectors.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace edgefl::codec {

static_assert(std::endian::native == std::endian::little, "edgefl's codec assumes a little-endian host");

namespace {

// Per-nibble tables: entry n, lane i describes bit i of n. Loading four
// lanes at once turns the bit loops below into plain vector adds and ors
// (SSE2, NEON) instead of a shift and mask per coordinate.
struct NibbleTables {
  int32_t count_delta[16][4];  // +1 for a clear bit, -1 for a set bit
  uint32_t sign_mask[16][4];   // the f32 sign bit where the bit is set
  constexpr NibbleTables() : count_delta(), sign_mask() {
    for (unsigned n = 0; n < 16; ++n) {
      for (unsigned i = 0; i < 4; ++i) {
        const bool set = (n >> i) & 1u;
        count_delta[n][i] = set ? -1 : 1;
        sign_mask[n][i] = set ? 0x80000000u : 0u;
      }
    }
  }
};
constexpr NibbleTables kNibble;

#if !defined(__SSE2__)
uint64_t Load64(const float* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}
#endif

// Sign bits of p[0..8) as a byte, bit i for p[i].
uint32_t SignByte(const float* p) {
#if defined(__SSE2__)
  // movmskps gathers four sign bits in one instruction (x86-64 baseline).
  return static_cast<uint32_t>(_mm_movemask_ps(_mm_loadu_ps(p)) | (_mm_movemask_ps(_mm_loadu_ps(p + 4)) << 4));
#else
  // Portable: a 64-bit load holds two floats whose signs sit at bits 31 and
  // 63; four loads put the even floats' signs at bits 0, 2, 4, 6 and the odd
  // ones' at 32, 34, 36, 38, and one shift by 31 interleaves them.
  constexpr uint64_t kPair = 0x100000001u;
  const uint64_t u = ((Load64(p) >> 31) & kPair) | (((Load64(p + 2) >> 31) & kPair) << 2) |
                     (((Load64(p + 4) >> 31) & kPair) << 4) | (((Load64(p + 6) >> 31) & kPair) << 6);
  return static_cast<uint32_t>((u | (u >> 31)) & 0xFFu);
#endif
}

// Eight fields of kBits take exactly kBits bytes, so whole groups of eight
// pack and unpack with shifts known at compile time, in at most two 64-bit
// words; the LSB-first layout is the same as a bit-serial loop's.
template <unsigned kBits>
[[gnu::always_inline]] inline void PackGroups(const uint16_t* fields, size_t groups, uint8_t* out) {
  static_assert(kBits >= 1 && kBits <= 16);
  if constexpr (kBits <= 2) {
    // QSGD's s = 1 and 3: the eight fields of a group, each shifted to its
    // place in one 32-bit word, OR-ed together across the lanes.
    const U32x8 shift = U32x8{0, 1, 2, 3, 4, 5, 6, 7} * kBits;
    for (size_t g = 0; g < groups; ++g) {
      U16x8 narrow;
      std::memcpy(&narrow, fields + 8 * g, sizeof(narrow));
      const uint32_t word = OrAcrossLanes(__builtin_convertvector(narrow, U32x8) << shift);
      std::memcpy(out + g * kBits, &word, kBits);
    }
    return;
  } else if constexpr (8 % kBits == 0) {
    // Widths that divide a byte (QSGD's s = 1, 3, 15, 255): byte by byte, a
    // loop the compiler vectorises; the same bits as the general path.
    constexpr unsigned kPerByte = 8 / kBits;
    for (size_t b = 0; b < groups * kBits; ++b) {
      unsigned byte = 0;
      for (unsigned i = 0; i < kPerByte; ++i) byte |= static_cast<unsigned>(fields[b * kPerByte + i]) << (i * kBits);
      out[b] = static_cast<uint8_t>(byte);
    }
    return;
  }
  for (size_t g = 0; g < groups; ++g, fields += 8, out += kBits) {
    uint64_t low = 0, high = 0;
    for (unsigned i = 0; i < 8; ++i) {
      const unsigned shift = i * kBits;
      const uint64_t field = fields[i];
      if (shift < 64) {
        low |= field << shift;
        if (shift + kBits > 64) high |= field >> (64 - shift);
      } else {
        high |= field << (shift - 64);
      }
    }
    std::memcpy(out, &low, kBits < 8 ? kBits : 8);
    if constexpr (kBits > 8) std::memcpy(out + 8, &high, kBits - 8);
  }
}

template <unsigned kBits>
[[gnu::always_inline]] inline void UnpackGroups(const uint8_t* in, size_t groups, uint16_t* fields) {
  static_assert(kBits >= 1 && kBits <= 16);
  constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
  if constexpr (8 % kBits == 0) {
    constexpr unsigned kPerByte = 8 / kBits;
    for (size_t b = 0; b < groups * kBits; ++b) {
      const unsigned byte = in[b];
      for (unsigned i = 0; i < kPerByte; ++i) {
        fields[b * kPerByte + i] = static_cast<uint16_t>((byte >> (i * kBits)) & kMask);
      }
    }
    return;
  }
  for (size_t g = 0; g < groups; ++g, in += kBits, fields += 8) {
    uint64_t low = 0, high = 0;
    std::memcpy(&low, in, kBits < 8 ? kBits : 8);
    if constexpr (kBits > 8) std::memcpy(&high, in + 8, kBits - 8);
    for (unsigned i = 0; i < 8; ++i) {
      const unsigned shift = i * kBits;
      uint64_t field;
      if (shift + kBits <= 64) {
        field = low >> shift;
      } else if (shift >= 64) {
        field = high >> (shift - 64);
      } else {
        field = (low >> shift) | (high << (64 - shift));
      }
      fields[i] = static_cast<uint16_t>(field & kMask);
    }
  }
}

// Bit-serial packing: any width, any count; used for the last count % 8
// fields (which start on a byte boundary) and widths above 16.
void PackFieldsSerial(const uint16_t* fields, size_t count, unsigned bits, uint8_t* packed) {
  uint64_t acc = 0;
  unsigned acc_bits = 0;
  size_t out = 0;
  for (size_t j = 0; j < count; ++j) {
    acc |= static_cast<uint64_t>(fields[j]) << acc_bits;
    acc_bits += bits;
    while (acc_bits >= 8) {
      packed[out++] = static_cast<uint8_t>(acc);
      acc >>= 8;
      acc_bits -= 8;
    }
  }
  if (acc_bits > 0) packed[out] = static_cast<uint8_t>(acc);
}

void UnpackFieldsSerial(const uint8_t* packed, unsigned bits, uint16_t* fields, size_t count) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t acc = 0;
  unsigned acc_bits = 0;
  size_t in = 0;
  for (size_t j = 0; j < count; ++j) {
    while (acc_bits < bits) {
      acc |= static_cast<uint64_t>(packed[in++]) << acc_bits;
      acc_bits += 8;
    }
    fields[j] = static_cast<uint16_t>(acc & mask);
    acc >>= bits;
    acc_bits -= bits;
  }
}

// Calls fn.template operator()<bits>() for bits in [1, 16]; false otherwise.
template <typename Fn>
[[gnu::always_inline]] inline bool DispatchWidth(unsigned bits, Fn&& fn) {
  switch (bits) {
    case 1: fn.template operator()<1>(); return true;
    case 2: fn.template operator()<2>(); return true;
    case 3: fn.template operator()<3>(); return true;
    case 4: fn.template operator()<4>(); return true;
    case 5: fn.template operator()<5>(); return true;
    case 6: fn.template operator()<6>(); return true;
    case 7: fn.template operator()<7>(); return true;
    case 8: fn.template operator()<8>(); return true;
    case 9: fn.template operator()<9>(); return true;
    case 10: fn.template operator()<10>(); return true;
    case 11: fn.template operator()<11>(); return true;
    case 12: fn.template operator()<12>(); return true;
    case 13: fn.template operator()<13>(); return true;
    case 14: fn.template operator()<14>(); return true;
    case 15: fn.template operator()<15>(); return true;
    case 16: fn.template operator()<16>(); return true;
    default: return false;
  }
}

}  // namespace

EDGEFL_VECTOR_CLONES void PackSigns(std::span<const float> values, std::span<uint8_t> packed) {
  const size_t n = values.size();
  const size_t full = n / 8;
  for (size_t b = 0; b < full; ++b) packed[b] = static_cast<uint8_t>(SignByte(values.data() + b * 8));
  if (n % 8 != 0) {
    uint8_t byte = 0;
    for (size_t j = full * 8; j < n; ++j) {
      byte |= static_cast<uint8_t>((std::bit_cast<uint32_t>(values[j]) >> 31) << (j & 7));
    }
    packed[full] = byte;
  }
}

void AccumulateSigns(std::span<const uint8_t> packed, std::span<int32_t> counts) {
  const size_t n = counts.size();
  const size_t full = n / 8;
  int32_t* c = counts.data();
  for (size_t b = 0; b < full; ++b, c += 8) {
    const unsigned byte = packed[b];
    // Copied out first: the compiler then knows the stores to counts
    // cannot change the table, and adds eight lanes at once.
    int32_t delta[8];
    std::memcpy(delta, kNibble.count_delta[byte & 0xFu], 4 * sizeof(int32_t));
    std::memcpy(delta + 4, kNibble.count_delta[byte >> 4], 4 * sizeof(int32_t));
    for (unsigned i = 0; i < 8; ++i) c[i] += delta[i];
  }
  for (size_t j = full * 8; j < n; ++j) counts[j] += 1 - 2 * static_cast<int32_t>(SignBit(packed, j));
}

void UnpackSigns(std::span<const uint8_t> packed, float scale, std::span<float> out) {
  const uint32_t scale_bits = std::bit_cast<uint32_t>(scale) & 0x7FFFFFFFu;
  const size_t n = out.size();
  const size_t full = n / 8;
  float* o = out.data();
  for (size_t b = 0; b < full; ++b, o += 8) {
    const unsigned byte = packed[b];
    uint32_t sign[8];
    std::memcpy(sign, kNibble.sign_mask[byte & 0xFu], 4 * sizeof(uint32_t));
    std::memcpy(sign + 4, kNibble.sign_mask[byte >> 4], 4 * sizeof(uint32_t));
    for (unsigned i = 0; i < 8; ++i) o[i] = std::bit_cast<float>(scale_bits | sign[i]);
  }
  for (size_t j = full * 8; j < n; ++j) {
    out[j] = std::bit_cast<float>(scale_bits | (static_cast<uint32_t>(SignBit(packed, j)) << 31));
  }
}

void NegateWhereSet(std::span<const uint8_t> packed, std::span<float> values) {
  const size_t n = values.size();
  const size_t full = n / 8;
  float* v = values.data();
  for (size_t b = 0; b < full; ++b, v += 8) {
    const unsigned byte = packed[b];
    uint32_t sign[8];
    std::memcpy(sign, kNibble.sign_mask[byte & 0xFu], 4 * sizeof(uint32_t));
    std::memcpy(sign + 4, kNibble.sign_mask[byte >> 4], 4 * sizeof(uint32_t));
    for (unsigned i = 0; i < 8; ++i) v[i] = std::bit_cast<float>(std::bit_cast<uint32_t>(v[i]) ^ sign[i]);
  }
  for (size_t j = full * 8; j < n; ++j) {
    values[j] = std::bit_cast<float>(std::bit_cast<uint32_t>(values[j]) ^
                                     (static_cast<uint32_t>(SignBit(packed, j)) << 31));
  }
}

EDGEFL_VECTOR_CLONES void PackFields(std::span<const uint16_t> fields, unsigned bits, std::span<uint8_t> packed) {
  size_t done = 0;  // fields written by the group loop (a multiple of 8)
  DispatchWidth(bits, [&]<unsigned kBits>() __attribute__((always_inline)) {
    done = fields.size() / 8 * 8;
    PackGroups<kBits>(fields.data(), done / 8, packed.data());
  });
  const size_t start_byte = done / 8 * bits;
  PackFieldsSerial(fields.data() + done, fields.size() - done, bits, packed.data() + start_byte);
  // Bytes past the last field are zero, as if the buffer had been cleared.
  const size_t used = PackedFieldBytes(fields.size(), bits);
  if (packed.size() > used) std::memset(packed.data() + used, 0, packed.size() - used);
}

EDGEFL_VECTOR_CLONES void UnpackFields(std::span<const uint8_t> packed, unsigned bits, std::span<uint16_t> fields) {
  size_t done = 0;
  DispatchWidth(bits, [&]<unsigned kBits>() __attribute__((always_inline)) {
    done = fields.size() / 8 * 8;
    UnpackGroups<kBits>(packed.data(), done / 8, fields.data());
  });
  UnpackFieldsSerial(packed.data() + done / 8 * bits, bits, fields.data() + done, fields.size() - done);
}

}  // namespace edgefl::codec
