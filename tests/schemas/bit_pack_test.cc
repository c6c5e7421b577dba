#include "schemas/codec/bit_pack.h"

#include <doctest/doctest.h>

#include <vector>

#include "core/rng.h"

namespace edgefl::codec {
namespace {

TEST_CASE("sign bits are LSB first, set for negative, -0.0 counts as negative") {
  const std::vector<float> values = {1.0f, -1.0f, 0.0f, -0.0f, 2.5f, -3.0f, 1e-30f, -1e30f,  // byte 0
                                     -7.0f, 8.0f, -9.0f};                                    // byte 1 (3 bits)
  std::vector<uint8_t> packed(PackedSignBytes(values.size()));
  PackSigns(values, packed);
  // byte 0: bits 1,3,5,7 set -> 0b10101010; byte 1: bits 0,2 -> 0b101.
  CHECK(packed == std::vector<uint8_t>{0xAA, 0x05});

  std::vector<float> unpacked(values.size());
  UnpackSigns(packed, 0.5f, unpacked);
  CHECK(unpacked == std::vector<float>{0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, -0.5f, 0.5f, -0.5f});

  std::vector<int32_t> counts(values.size(), 10);
  AccumulateSigns(packed, counts);
  CHECK(counts == std::vector<int32_t>{11, 9, 11, 9, 11, 9, 11, 9, 9, 11, 9});
}

TEST_CASE("3-bit fields pack LSB first across byte boundaries") {
  const std::vector<uint16_t> fields = {5, 3, 7, 0, 1, 6};  // 101 011 111 000 001 110
  std::vector<uint8_t> packed(PackedFieldBytes(fields.size(), 3));
  REQUIRE(packed.size() == 3);
  PackFields(fields, 3, packed);
  // As one little-endian integer: 5 | 3<<3 | 7<<6 | 0<<9 | 1<<12 | 6<<15 = 0x311DD.
  CHECK(packed == std::vector<uint8_t>{0xDD, 0x11, 0x03});
  std::vector<uint16_t> unpacked(fields.size());
  UnpackFields(packed, 3, unpacked);
  CHECK(unpacked == fields);
}

TEST_CASE("field packing round-trips every width on random data") {
  Rng rng(7);
  for (unsigned bits = 1; bits <= 16; ++bits) {
    for (size_t count : {1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u}) {
      std::vector<uint16_t> fields(count);
      for (auto& f : fields) f = static_cast<uint16_t>(rng.NextU64() & ((1u << bits) - 1));
      std::vector<uint8_t> packed(PackedFieldBytes(count, bits));
      PackFields(fields, bits, packed);
      std::vector<uint16_t> unpacked(count);
      UnpackFields(packed, bits, unpacked);
      CHECK_MESSAGE(unpacked == fields, "bits=" << bits << " count=" << count);
    }
  }
}

TEST_CASE("every width packs LSB first: field j at bits [j*b, j*b + b) of the stream") {
  // Against a bit-at-a-time reference, so a fast path that reorders bits
  // (and unpacks them back the same wrong way) cannot pass.
  Rng rng(23);
  for (unsigned bits = 1; bits <= 16; ++bits) {
    for (size_t count : {size_t{8}, size_t{40}, size_t{67}}) {
      std::vector<uint16_t> fields(count);
      for (auto& f : fields) f = static_cast<uint16_t>(rng.NextU64() & ((1u << bits) - 1));
      std::vector<uint8_t> expected(PackedFieldBytes(count, bits), 0);
      for (size_t j = 0; j < count; ++j) {
        for (unsigned i = 0; i < bits; ++i) {
          const size_t bit = j * bits + i;
          if ((fields[j] >> i) & 1u) expected[bit / 8] = static_cast<uint8_t>(expected[bit / 8] | (1u << (bit % 8)));
        }
      }
      std::vector<uint8_t> packed(expected.size());
      PackFields(fields, bits, packed);
      CHECK_MESSAGE(packed == expected, "bits=" << bits << " count=" << count);
    }
  }
}

TEST_CASE("BitsFor is the smallest width holding the value") {
  CHECK(BitsFor(0) == 1);
  CHECK(BitsFor(1) == 1);
  CHECK(BitsFor(2) == 2);
  CHECK(BitsFor(3) == 2);
  CHECK(BitsFor(15) == 4);
  CHECK(BitsFor(16) == 5);
  CHECK(BitsFor(65535) == 16);
}

}  // namespace
}  // namespace edgefl::codec
