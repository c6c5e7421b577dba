#include "schemas/codec/exact_partial.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "schemas/codec/wire_building.h"

namespace edgefl::codec {
namespace {

using flatbuffers::FlatBufferBuilder;
__extension__ typedef unsigned __int128 UnsignedInt128;

Status Malformed(const char* format, auto... args) {
  return Status::Error(StatusCode::kMalformed, format, args...);
}

uint32_t Blocks(uint32_t dimension) { return (dimension + kPartialBlock - 1) / kPartialBlock; }

// Bits a two's complement integer needs, its sign bit included.
unsigned SignedBits(Int128 v) {
  const UnsignedInt128 magnitude = static_cast<UnsignedInt128>(v < 0 ? ~v : v);
  const uint64_t high = static_cast<uint64_t>(magnitude >> 64);
  const uint64_t low = static_cast<uint64_t>(magnitude);
  const unsigned used = high != 0 ? 128 - std::countl_zero(high) : 64 - std::countl_zero(low);
  return used + 1;
}

unsigned TrailingZeros(UnsignedInt128 v) {
  const uint64_t low = static_cast<uint64_t>(v);
  return low != 0 ? std::countr_zero(low) : 64 + std::countr_zero(static_cast<uint64_t>(v >> 64));
}

// A block's mask (its nonzero values), shift (the trailing zeros they all
// have) and width (the bytes the largest of them needs once shifted; 0 for
// an all-zero block).
void BlockShape(std::span<const Int128> block, uint32_t* mask, uint8_t* shift, uint8_t* width) {
  UnsignedInt128 any = 0;
  *mask = 0;
  for (size_t i = 0; i < block.size(); ++i) {
    any |= static_cast<UnsignedInt128>(block[i]);
    if (block[i] != 0) *mask |= uint32_t{1} << i;
  }
  if (any == 0) {
    *shift = *width = 0;
    return;
  }
  const unsigned zeros = TrailingZeros(any);
  unsigned bits = 0;
  for (Int128 v : block) bits = std::max(bits, SignedBits(v >> zeros));
  *shift = static_cast<uint8_t>(zeros);
  *width = static_cast<uint8_t>((bits + 7) / 8);
}

}  // namespace

void EncodeExactPartial(FlatBufferBuilder& fbb, uint32_t round, const UpdateHeader& header,
                        const ExactPartial& partial) {
  fbb.Clear();
  fbb.ForceDefaults(true);
  const uint32_t dimension = static_cast<uint32_t>(partial.values.size());
  const uint32_t blocks = Blocks(dimension);
  std::vector<uint32_t> masks(blocks);
  std::vector<uint8_t> shifts(blocks);
  std::vector<uint8_t> widths(blocks);
  size_t value_bytes = 0;
  for (uint32_t b = 0; b < blocks; ++b) {
    const uint32_t start = b * kPartialBlock;
    const auto block = partial.values.subspan(start, std::min(kPartialBlock, dimension - start));
    BlockShape(block, &masks[b], &shifts[b], &widths[b]);
    value_bytes += size_t{static_cast<uint32_t>(std::popcount(masks[b]))} * widths[b];
  }
  uint8_t* out = nullptr;
  const auto values = fbb.CreateUninitializedVector(value_bytes, &out);
  for (uint32_t b = 0; b < blocks; ++b) {
    const uint32_t start = b * kPartialBlock;
    for (uint32_t mask = masks[b]; mask != 0; mask &= mask - 1) {
      const uint32_t j = start + static_cast<uint32_t>(std::countr_zero(mask));
      UnsignedInt128 v = static_cast<UnsignedInt128>(partial.values[j] >> shifts[b]);
      for (unsigned byte = 0; byte < widths[b]; ++byte, v >>= 8) *out++ = static_cast<uint8_t>(v);
    }
  }
  const auto mask_vector = CopyVector<uint32_t>(fbb, masks);
  const auto shift_vector = CopyVector<uint8_t>(fbb, shifts);
  const auto width_vector = CopyVector<uint8_t>(fbb, widths);
  const auto body = wire::CreateExactPartial(fbb, partial.kind, partial.updates, partial.total_weight,
                                             partial.weight_gcd, partial.bounded, mask_vector, shift_vector,
                                             width_vector, values);
  wire::UpdateBuilder b(fbb);
  b.add_node_id(header.node_id);
  b.add_payload_type(wire::Payload::ExactPartial);
  b.add_payload(body.Union());
  b.add_loss(header.loss);
  b.add_grad_norm(header.grad_norm);
  b.add_compute_us(header.compute_us);
  b.add_weight(1);
  FinishEnvelope(fbb, round, wire::Body::Update, b.Finish().Union());
  fbb.ForceDefaults(false);
}

size_t ExactPartialSizeLimit(uint32_t dimension) {
  const size_t payload = size_t{16} * dimension + 6 * size_t{Blocks(dimension)};
  return std::max<size_t>(4096, (payload + 256 + 7) / 8 * 8);
}

Status DecodeExactPartial(const wire::Update& update, wire::PartialKind kind, uint32_t dimension,
                          std::span<Int128> values, ExactPartial* out) {
  const wire::ExactPartial* p = update.payload_as_ExactPartial();
  if (p == nullptr) {
    return Malformed("payload type %s, expected a relay's ExactPartial", wire::EnumNamePayload(update.payload_type()));
  }
  if (p->kind() != kind) {
    return Malformed("partial of %s, expected %s for this run's aggregator", wire::EnumNamePartialKind(p->kind()),
                     wire::EnumNamePartialKind(kind));
  }
  const uint64_t weight = p->total_weight();
  if (p->updates() == 0) return Malformed("partial combines no updates");
  if (weight < p->updates() || weight > kMaxRoundWeight) {
    return Malformed("partial of %u updates has total weight %llu, outside [%u, 2^20]", p->updates(),
                     static_cast<unsigned long long>(weight), p->updates());
  }
  if (p->weight_gcd() == 0 || weight % p->weight_gcd() != 0) {
    return Malformed("partial's weight gcd %u does not divide its total weight %llu", p->weight_gcd(),
                     static_cast<unsigned long long>(weight));
  }
  if (p->bounded() > p->updates()) {
    return Malformed("partial has %u bounded updates of %u", p->bounded(), p->updates());
  }
  const auto masks = AsSpan(p->masks());
  const auto shifts = AsSpan(p->shifts());
  const auto widths = AsSpan(p->widths());
  const auto bytes = AsSpan(p->values());
  const uint32_t blocks = Blocks(dimension);
  if (masks.size() != blocks || shifts.size() != blocks || widths.size() != blocks) {
    return Malformed("partial has %zu masks, %zu shifts and %zu widths for %u blocks of %u coordinates", masks.size(),
                     shifts.size(), widths.size(), blocks, kPartialBlock);
  }
  if (values.size() < dimension) return Malformed("partial decoded into %zu values, d = %u", values.size(), dimension);
  // |S_j| <= W 2^104 (sums: values below 2^40 in units of 2^-64), <= W (counts).
  const Int128 limit = static_cast<Int128>(weight) << (kind == wire::PartialKind::Sums ? 104 : 0);
  size_t at = 0;
  for (uint32_t b = 0; b < blocks; ++b) {
    const unsigned width = widths[b];
    const unsigned shift = shifts[b];
    if (width > 16 || shift > 127) return Malformed("partial block %u has width %u and shift %u", b, width, shift);
    const uint32_t start = b * kPartialBlock;
    const uint32_t count = std::min(kPartialBlock, dimension - start);
    const uint32_t mask = masks[b];
    if (count < kPartialBlock && (mask >> count) != 0) {
      return Malformed("partial block %u's mask names coordinates past d = %u", b, dimension);
    }
    const uint32_t sent = static_cast<uint32_t>(std::popcount(mask));
    if (bytes.size() - at < size_t{sent} * width) {
      return Malformed("partial's values end in block %u (%zu bytes)", b, bytes.size());
    }
    const Int128 shifted_limit = limit >> shift;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t j = start + i;
      if (((mask >> i) & 1u) == 0) {
        values[j] = 0;
        continue;
      }
      UnsignedInt128 raw = 0;
      for (unsigned byte = 0; byte < width; ++byte) raw |= static_cast<UnsignedInt128>(bytes[at++]) << (8 * byte);
      Int128 v = static_cast<Int128>(raw);
      if (width > 0 && width < 16) v = static_cast<Int128>(raw << (128 - 8 * width)) >> (128 - 8 * width);
      if (v > shifted_limit || v < -shifted_limit) {
        return Malformed("partial value at coordinate %u is more than %llu updates can sum to", j,
                         static_cast<unsigned long long>(weight));
      }
      values[j] = static_cast<Int128>(static_cast<UnsignedInt128>(v) << shift);
    }
  }
  if (at != bytes.size()) return Malformed("partial has %zu bytes of values, its blocks hold %zu", bytes.size(), at);
  *out = ExactPartial{.kind = kind,
                      .updates = p->updates(),
                      .total_weight = weight,
                      .weight_gcd = p->weight_gcd(),
                      .bounded = p->bounded(),
                      .values = values.first(dimension)};
  return Status::Ok();
}

}  // namespace edgefl::codec
