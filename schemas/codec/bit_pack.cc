#include "schemas/codec/bit_pack.h"

#include <bit>
#include <cstring>

namespace edgefl::codec {

static_assert(std::endian::native == std::endian::little, "edgefl's codec assumes a little-endian host");

void PackSigns(std::span<const float> values, std::span<uint8_t> packed) {
  const size_t n = values.size();
  const size_t full = n / 8;
  for (size_t b = 0; b < full; ++b) {
    uint8_t byte = 0;
    for (unsigned i = 0; i < 8; ++i) {
      byte |= static_cast<uint8_t>((std::bit_cast<uint32_t>(values[b * 8 + i]) >> 31) << i);
    }
    packed[b] = byte;
  }
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
  for (size_t b = 0; b < full; ++b) {
    const unsigned byte = packed[b];
    int32_t* c = counts.data() + b * 8;
    for (unsigned i = 0; i < 8; ++i) c[i] += 1 - 2 * static_cast<int32_t>((byte >> i) & 1u);
  }
  for (size_t j = full * 8; j < n; ++j) counts[j] += 1 - 2 * static_cast<int32_t>(SignBit(packed, j));
}

void UnpackSigns(std::span<const uint8_t> packed, float scale, std::span<float> out) {
  const uint32_t scale_bits = std::bit_cast<uint32_t>(scale) & 0x7FFFFFFFu;
  for (size_t j = 0; j < out.size(); ++j) {
    out[j] = std::bit_cast<float>(scale_bits | (static_cast<uint32_t>(SignBit(packed, j)) << 31));
  }
}

void PackFields(std::span<const uint16_t> fields, unsigned bits, std::span<uint8_t> packed) {
  std::memset(packed.data(), 0, packed.size());
  uint64_t acc = 0;
  unsigned acc_bits = 0;
  size_t out = 0;
  for (uint16_t field : fields) {
    acc |= static_cast<uint64_t>(field) << acc_bits;
    acc_bits += bits;
    while (acc_bits >= 8) {
      packed[out++] = static_cast<uint8_t>(acc);
      acc >>= 8;
      acc_bits -= 8;
    }
  }
  if (acc_bits > 0) packed[out] = static_cast<uint8_t>(acc);
}

void UnpackFields(std::span<const uint8_t> packed, unsigned bits, std::span<uint16_t> fields) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t acc = 0;
  unsigned acc_bits = 0;
  size_t in = 0;
  for (uint16_t& field : fields) {
    while (acc_bits < bits) {
      acc |= static_cast<uint64_t>(packed[in++]) << acc_bits;
      acc_bits += 8;
    }
    field = static_cast<uint16_t>(acc & mask);
    acc >>= bits;
    acc_bits -= bits;
  }
}

}  // namespace edgefl::codec
