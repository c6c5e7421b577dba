// A relay's exact partial (docs/protocol.md 11): the exact combination of
// the updates of the nodes a relay serves, which it sends upward as one
// Update whose payload is an ExactPartial. The values are the integers the
// coordinator's aggregators hold: for the mean, S_j = sum_i w_i
// round(v_ij 2^64) (coordinator/exact_sum.h); for sign votes the counts
// S_j = sum_i w_i sign(g_ij). Integers add associatively, so partials added
// at a coordinator give the sums the updates themselves would have, bit for
// bit: a tree of relays ends on a flat run's model.
//
// Packing: blocks of kPartialBlock coordinates, each with a mask of its
// nonzero values (only those are sent), a shift (the trailing zero bits they
// all have) and a width in bytes (0 when the block is all zero). Sums of f32
// values keep their 24-bit significands' trailing zeros, so a sum of n
// values near 1 takes about 5 bytes a coordinate rather than the 16 of a
// raw 128-bit integer, and a sparse sum (top-k's, rand-k's) the bytes of
// its nonzero values and 6 a block.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "flatbuffers/flatbuffers.h"
#include "schemas/codec/wire.h"

namespace edgefl::codec {

__extension__ typedef __int128 Int128;

inline constexpr uint32_t kPartialBlock = 32;

struct ExactPartial {
  wire::PartialKind kind = wire::PartialKind::Sums;
  uint32_t updates = 0;       // the updates combined (>= 1)
  uint64_t total_weight = 0;  // sum_i w_i (>= updates, <= kMaxRoundWeight)
  uint32_t weight_gcd = 0;    // gcd_i w_i
  uint32_t bounded = 0;       // updates scaled down to aggregator.max_update_norm
  std::span<const Int128> values;  // S_j, one a coordinate
};

// The Update carrying `partial` for `round`, from participant `header.node_id`
// (a relay's group), with the header's loss and gradient norm (the means of
// its nodes' reports). The header's weight and control_delta are not sent.
void EncodeExactPartial(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, const UpdateHeader& header,
                        const ExactPartial& partial);

// The largest Update EncodeExactPartial writes at dimension d (every value
// sent, 16 bytes wide), rounded up as UpdateSizeLimit is: what a coordinator
// that takes partials accepts.
size_t ExactPartialSizeLimit(uint32_t dimension);

// Checks an Update's ExactPartial (its kind `kind`, the counts and weights
// consistent, the blocks' shapes and masks, and every value within what `total_weight`
// updates can sum to: |S_j| <= W 2^104 for sums, <= W for counts) and
// decodes its values into `values` (d of them), which out->values then views.
Status DecodeExactPartial(const wire::Update& update, wire::PartialKind kind, uint32_t dimension,
                          std::span<Int128> values, ExactPartial* out);

}  // namespace edgefl::codec
