// A relay's exact partial on the wire (schemas/codec/exact_partial.h,
// docs/protocol.md 11): every value comes back as it went, at the edges of
// what a partial may hold (zero blocks, the largest sums and counts, both
// signs, values with many trailing zeros), the blocks take the bytes the
// packing promises, the size limit holds for the widest partial, and every
// way a partial can be malformed is refused with the reason.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/rng.h"
#include "schemas/codec/exact_partial.h"
#include "schemas/codec/wire.h"

namespace edgefl::codec {
namespace {

constexpr Int128 kOne = 1;

struct Encoded {
  std::vector<uint64_t> words;  // 8-byte aligned
  size_t size = 0;
  const wire::Update* update() const {
    const wire::Envelope* envelope = nullptr;
    REQUIRE(ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), size}, &envelope).ok());
    return envelope->body_as_Update();
  }
};

Encoded Encode(const ExactPartial& partial, uint32_t round = 4) {
  flatbuffers::FlatBufferBuilder fbb;
  const UpdateHeader header{.node_id = 2, .loss = 1.5, .grad_norm = 0.25, .compute_us = 7, .weight = 1,
                            .control_delta = {}};
  EncodeExactPartial(fbb, round, header, partial);
  Encoded e;
  e.size = fbb.GetSize();
  e.words.resize((e.size + 7) / 8);
  std::memcpy(e.words.data(), fbb.GetBufferPointer(), e.size);
  return e;
}

ExactPartial Partial(wire::PartialKind kind, const std::vector<Int128>& values, uint64_t weight = 8) {
  return ExactPartial{.kind = kind,
                      .updates = 4,
                      .total_weight = weight,
                      .weight_gcd = 2,
                      .bounded = 1,
                      .values = values};
}

// Sums as an exact sum holds them: sum_i w_i round(v_i 2^64) of f32 values.
std::vector<Int128> SumsOfFloats(uint32_t d, uint32_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Int128> sums(d, 0);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < d; ++j) {
      const float v = static_cast<float>(rng.Normal());
      sums[j] += static_cast<Int128>(static_cast<double>(v) * 0x1.0p40) << 24;  // v 2^64, exact for |v| >= 2^-40
    }
  }
  return sums;
}

}  // namespace

TEST_CASE("an exact partial comes back as it went, header and values") {
  for (const uint32_t d : {1u, 31u, 32u, 33u, 1000u, 20000u}) {
    CAPTURE(d);
    std::vector<Int128> values = SumsOfFloats(d, 4, d);
    // The edges: a zero block, the largest sums of weight 8 either way, a
    // value with only its top bit, one with none but the lowest.
    if (d >= 96) std::fill(values.begin() + 32, values.begin() + 64, 0);
    const Int128 largest = Int128{8} << 104;
    values[0] = largest;
    if (d > 1) values[d - 1] = -largest;
    if (d > 2) values[d / 2] = 1;
    const ExactPartial sent = Partial(wire::PartialKind::Sums, values);
    const Encoded e = Encode(sent);
    std::vector<Int128> decoded(d);
    ExactPartial got;
    REQUIRE(DecodeExactPartial(*e.update(), wire::PartialKind::Sums, d, decoded, &got).ok());
    CHECK(got.updates == 4);
    CHECK(got.total_weight == 8);
    CHECK(got.weight_gcd == 2);
    CHECK(got.bounded == 1);
    CHECK(e.update()->node_id() == 2);
    CHECK(e.update()->loss() == 1.5);
    CHECK(std::equal(values.begin(), values.end(), got.values.begin(), got.values.end()));
    CHECK(e.size <= ExactPartialSizeLimit(d));
  }
}

TEST_CASE("counts pack in a byte a coordinate, sums of floats near 5, and sparse sums by their nonzero values") {
  const uint32_t d = 32000;
  // Counts of 64 votes: within [-64, 64], one byte each.
  Rng rng(5);
  std::vector<Int128> counts(d);
  for (auto& c : counts) c = static_cast<Int128>(rng.Below(129)) - 64;
  const Encoded votes = Encode(Partial(wire::PartialKind::Counts, counts, 64));
  CHECK(votes.size > d);
  CHECK(votes.size < d + 6 * (d / 32) + 400);  // a byte each, six a block (mask, shift, width), the tables
  // Sums of 4 standard normal floats: their shared trailing zeros go, about
  // 5 bytes a coordinate remain (16 unpacked).
  const Encoded sums = Encode(Partial(wire::PartialKind::Sums, SumsOfFloats(d, 4, 9)));
  MESSAGE("bytes a coordinate: counts " << static_cast<double>(votes.size) / d << ", sums "
                                         << static_cast<double>(sums.size) / d);
  CHECK(sums.size < 7 * d);
  CHECK(sums.size > 3 * d);
  // The widest partial fits the limit a root accepts.
  std::vector<Int128> widest(d, -(Int128{1} << 124) + 1);
  for (uint32_t j = 0; j < d; j += 2) widest[j] = (Int128{1} << 124) - 1;
  const Encoded wide = Encode(Partial(wire::PartialKind::Sums, widest, kMaxRoundWeight));
  CHECK(wide.size <= ExactPartialSizeLimit(d));
  CHECK(wide.size > 16 * d);
  // A sparse sum (top-k's): 1000 nonzero values of 32000 cost their own
  // bytes and 6 a block, not a value's bytes for every coordinate.
  std::vector<Int128> sparse(d, 0);
  for (uint32_t j = 0; j < d; j += 32) sparse[j] = static_cast<Int128>(rng.Below(1000) + 1) << 50;
  const Encoded few = Encode(Partial(wire::PartialKind::Sums, sparse));
  CHECK(few.size < 6 * (d / 32) + 3 * (d / 32) + 400);
}

TEST_CASE("a malformed partial is refused with the reason") {
  const uint32_t d = 100;
  std::vector<Int128> values = SumsOfFloats(d, 2, 3);
  std::vector<Int128> out(d);
  ExactPartial got;
  const auto refusal = [&](const ExactPartial& partial, wire::PartialKind expected = wire::PartialKind::Sums,
                           uint32_t dimension = 100) {
    const Encoded e = Encode(partial);
    const Status s = DecodeExactPartial(*e.update(), expected, dimension, out, &got);
    CHECK_FALSE(s.ok());
    return std::string(s.message());
  };
  ExactPartial p = Partial(wire::PartialKind::Sums, values);
  CHECK(refusal(p, wire::PartialKind::Counts).find("expected Counts") != std::string::npos);
  CHECK(refusal(p, wire::PartialKind::Sums, 200).find("blocks") != std::string::npos);
  ExactPartial none = p;
  none.updates = 0;
  CHECK(refusal(none).find("no updates") != std::string::npos);
  ExactPartial light = p;
  light.total_weight = 3;  // less than its 4 updates
  CHECK(refusal(light).find("total weight 3") != std::string::npos);
  ExactPartial heavy = p;
  heavy.total_weight = uint64_t{kMaxRoundWeight} + 2;
  CHECK(refusal(heavy).find("outside") != std::string::npos);
  ExactPartial gcd = p;
  gcd.weight_gcd = 3;  // does not divide 8
  CHECK(refusal(gcd).find("gcd 3") != std::string::npos);
  ExactPartial bounded = p;
  bounded.bounded = 5;
  CHECK(refusal(bounded).find("bounded") != std::string::npos);
  // A value larger than 8 updates can sum to (each below 2^40, in 2^-64 units).
  std::vector<Int128> large = values;
  large[17] = (Int128{8} << 104) + (kOne << 80);
  CHECK(refusal(Partial(wire::PartialKind::Sums, large)).find("coordinate 17") != std::string::npos);
  // Counts of 8 votes: |count| <= 8.
  std::vector<Int128> counts(d, 3);
  counts[99] = -9;
  CHECK(refusal(Partial(wire::PartialKind::Counts, counts), wire::PartialKind::Counts).find("coordinate 99") !=
        std::string::npos);
  // Another payload where a partial is due.
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<float> dense(d, 1.0f);
  PayloadView view;
  view.type = wire::Payload::DenseF32;
  view.values = dense;
  EncodeUpdate(fbb, 1, UpdateHeader{}, view);
  std::vector<uint64_t> words((fbb.GetSize() + 7) / 8);
  std::memcpy(words.data(), fbb.GetBufferPointer(), fbb.GetSize());
  const wire::Envelope* envelope = nullptr;
  REQUIRE(ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), fbb.GetSize()}, &envelope).ok());
  const Status s = DecodeExactPartial(*envelope->body_as_Update(), wire::PartialKind::Sums, d, out, &got);
  CHECK(std::string(s.message()).find("expected a relay's ExactPartial") != std::string::npos);
}

namespace {

// Decodes a counts partial of one update at dimension d built field by
// field (masks, shifts, widths, value bytes) into `out`; "" when it is
// accepted, else the reason.
std::string DecodeBlocks(uint32_t d, const std::vector<uint32_t>& masks, const std::vector<uint8_t>& shifts,
                         const std::vector<uint8_t>& widths, const std::vector<uint8_t>& bytes,
                         std::vector<Int128>& out) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto v = fbb.CreateVector(bytes);
  const auto m = fbb.CreateVector(masks);
  const auto s = fbb.CreateVector(shifts);
  const auto w = fbb.CreateVector(widths);
  const auto body = wire::CreateExactPartial(fbb, wire::PartialKind::Counts, 1, 1, 1, 0, m, s, w, v);
  wire::UpdateBuilder u(fbb);
  u.add_payload_type(wire::Payload::ExactPartial);
  u.add_payload(body.Union());
  const auto update = u.Finish();
  fbb.Finish(wire::CreateEnvelope(fbb, kProtocolVersion, 0, wire::Body::Update, update.Union()),
             wire::EnvelopeIdentifier());
  std::vector<uint64_t> words((fbb.GetSize() + 7) / 8);
  std::memcpy(words.data(), fbb.GetBufferPointer(), fbb.GetSize());
  const wire::Envelope* envelope = nullptr;
  REQUIRE(ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), fbb.GetSize()}, &envelope).ok());
  ExactPartial got;
  const Status status = DecodeExactPartial(*envelope->body_as_Update(), wire::PartialKind::Counts, d, out, &got);
  return status.ok() ? std::string() : std::string(status.message());
}

}  // namespace

TEST_CASE("a partial's blocks are checked: widths, shifts and the bytes they promise") {
  const uint32_t d = 64;  // two blocks
  std::vector<Int128> out(d);
  const auto build = [&](std::vector<uint8_t> shifts, std::vector<uint8_t> widths, std::vector<uint8_t> bytes,
                         std::vector<uint32_t> masks = {0xFFFFFFFFu, 0xFFFFFFFFu}) {
    return DecodeBlocks(d, masks, shifts, widths, bytes, out);
  };
  // One byte a value: 0xFF is -1, within a count of weight 1.
  CHECK(build({0, 0}, {1, 0}, std::vector<uint8_t>(32, 0xFF)).empty());
  CHECK(out[0] == -1);
  CHECK(out[40] == 0);
  CHECK(build({0, 0}, {17, 0}, std::vector<uint8_t>(32 * 17, 0)).find("width 17") != std::string::npos);
  CHECK(build({128, 0}, {1, 0}, std::vector<uint8_t>(32, 0)).find("shift 128") != std::string::npos);
  CHECK(build({0, 0}, {1, 1}, std::vector<uint8_t>(40, 0)).find("end in block 1") != std::string::npos);
  CHECK(build({0, 0}, {1, 0}, std::vector<uint8_t>(33, 0)).find("33 bytes of values") != std::string::npos);
  // A shift that takes a 1 past the weight's bound: 2 > 1.
  CHECK(build({1, 0}, {1, 0}, std::vector<uint8_t>(32, 1)).find("more than 1 updates") != std::string::npos);
  // Masks: only the coordinates named are sent, the rest are 0.
  CHECK(build({0, 0}, {1, 1}, {0xFF, 1, 0xFF}, {0b101, 0x80000000u}).empty());
  CHECK(out[0] == -1);
  CHECK(out[1] == 0);
  CHECK(out[2] == 1);
  CHECK(out[63] == -1);
  CHECK(build({0, 0}, {1, 1}, {0xFF, 1}, {0b101, 0x80000000u}).find("end in block 1") != std::string::npos);
  CHECK(build({0, 0}, {1, 0}, {}, {0, 0, 0}).find("3 masks") != std::string::npos);
  // d = 40: block 1 has 8 coordinates, and its mask may name no others.
  const auto short_last = [&](uint32_t mask) {
    return DecodeBlocks(40, {0, mask}, {0, 0}, {0, 1}, std::vector<uint8_t>(std::popcount(mask), 1), out);
  };
  CHECK(short_last(0x80u).empty());
  CHECK(short_last(0x100u).find("past d = 40") != std::string::npos);
}

}  // namespace edgefl::codec
