#include "coordinator/mean_aggregator.h"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "schemas/codec/bit_pack.h"

namespace edgefl {

MeanAggregator::MeanAggregator(uint32_t dimension, size_t max_message_bytes, bool hold_updates)
    : dimension_(dimension),
      sum_(dimension),
      pending_magnitudes_(new BlockMagnitude[kMaxPending * MagnitudeBlocks(dimension)]),
      hold_updates_(hold_updates),
      receive_buffers_(max_message_bytes == 0 ? 0 : hold_updates ? kMaxPending : 1) {
  for (auto& buffer : receive_buffers_) buffer.resize((max_message_bytes + 7) / 8);
}

std::span<uint64_t> MeanAggregator::ReceiveBuffer() {
  // Never a buffer that holds an update added but not yet summed.
  return receive_buffers_[hold_updates_ ? pending() : 0];
}

void MeanAggregator::Reset() {
  count_ = 0;
  total_weight_ = 0;
  weight_gcd_ = 0;
  pending_count_ = 0;
  sum_.Clear();
}

namespace {

static_assert(codec::kMaxDenseBlock >= kMagnitudeBlock, "the exact sum expands compact updates a block at a time");

void DecodeCompactBlock(const void* context, uint32_t start, uint32_t count, float* out) {
  codec::DecodeDenseBlock(*static_cast<const codec::CompactDense*>(context), start, count, out);
}

}  // namespace

void MeanAggregator::Add(const codec::DecodedPayload& update, bool values_stay_valid, uint32_t weight) {
  assert(weight >= 1);
  ++count_;
  total_weight_ += weight;
  weight_gcd_ = std::gcd(weight_gcd_, weight);
  assert(total_weight_ <= codec::kMaxRoundWeight);
  using Form = codec::DecodedPayload::Form;
  if (update.form == Form::kSparse) {
    sum_.AddSparse(update.indices, update.values, weight);
    return;
  }
  // Dense, compact and sign updates are held when allowed, with their
  // weights. Held updates all have the run's one form: dense and compact are
  // both dense addends.
  const bool signs = update.form == Form::kSigns;
  const bool hold = values_stay_valid;
  assert(!hold || pending_count_ == 0 || pending_signs_held_ == signs);
  const size_t slot = pending_count_;
  if (signs) {
    const ExactSum::SignAddend addend{update.sign_bits, update.sign_scale, weight};
    if (!hold) {
      sum_.AddSignsBatch({&addend, 1});
      return;
    }
    pending_signs_[slot] = addend;
  } else {
    ExactSum::DenseAddend addend{update.dense, update.dense_magnitudes};
    if (update.form == Form::kCompactDense) {
      // A held addend points to a copy of the views, which outlives `update`.
      const codec::CompactDense* compact = &update.compact;
      if (hold) compact = &(pending_compact_[slot] = update.compact);
      addend = {{}, {}, &DecodeCompactBlock, compact};
    } else if (hold && !addend.magnitudes.empty()) {
      // The magnitudes live in the decoder's scratch, which the next update reuses.
      const size_t blocks = MagnitudeBlocks(dimension_);
      const std::span<BlockMagnitude> kept(pending_magnitudes_.get() + slot * blocks, blocks);
      std::copy_n(addend.magnitudes.begin(), blocks, kept.begin());
      addend.magnitudes = kept;
    }
    addend.weight = weight;
    if (!hold) {
      sum_.AddDense(addend);
      return;
    }
    pending_dense_[slot] = addend;
  }
  pending_signs_held_ = signs;
  if (++pending_count_ == kMaxPending) Flush();
}

void MeanAggregator::Flush() {
  if (pending_count_ == 0) return;
  if (pending_signs_held_) {
    sum_.AddSignsBatch({pending_signs_, pending_count_});
  } else {
    sum_.AddDenseBatch({pending_dense_, pending_count_});
  }
  pending_count_ = 0;
}

void MeanAggregator::Finish(std::span<double> direction) {
  Flush();
  // sum_i w_i v_i / sum_i w_i = sum_i (w_i/g) v_i / sum_i (w_i/g): the sums
  // divided by g exactly, then rounded once. Unweighted, g = 1 and W = n.
  const uint32_t g = std::max(weight_gcd_, 1u);
  const double inverse = 1.0 / static_cast<double>(total_weight_ / g);
  if (g == 1) {
    for (uint32_t j = 0; j < dimension_; ++j) direction[j] = sum_.Value(j, inverse);
    return;
  }
  const ExactDivisor divisor(g);
  for (uint32_t j = 0; j < dimension_; ++j) {
    direction[j] = static_cast<double>(divisor.Quotient(sum_.Sum(j))) * 0x1.0p-64 * inverse;
  }
}

void MeanAggregator::ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) {
  Flush();
  for (uint32_t j = 0; j < dimension_; ++j) values[j] = sum_.Sum(j);
  *out = codec::ExactPartial{.kind = wire::PartialKind::Sums,
                             .updates = count_,
                             .total_weight = total_weight_,
                             .weight_gcd = weight_gcd_,
                             .bounded = 0,
                             .values = values.first(dimension_)};
}

void MeanAggregator::AddPartial(const codec::ExactPartial& partial) {
  assert(partial.kind == wire::PartialKind::Sums && partial.values.size() == dimension_);
  count_ += partial.updates;
  total_weight_ += partial.total_weight;
  weight_gcd_ = std::gcd(weight_gcd_, partial.weight_gcd);
  assert(total_weight_ <= codec::kMaxRoundWeight);
  for (uint32_t j = 0; j < dimension_; ++j) {
    if (partial.values[j] != 0) sum_.Add(j, partial.values[j]);
  }
}

}  // namespace edgefl
