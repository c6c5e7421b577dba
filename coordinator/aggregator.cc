#include "coordinator/aggregator.h"

#include <algorithm>
#include <cassert>

#include "schemas/codec/bit_pack.h"

namespace edgefl {

Aggregator::Aggregator(AggregatorKind kind, uint32_t dimension)
    : kind_(kind),
      dimension_(dimension),
      sum_(kind == AggregatorKind::kMean ? dimension : 0),
      counts_(kind == AggregatorKind::kMean ? nullptr : new int32_t[dimension]()),
      pending_magnitudes_(kind == AggregatorKind::kMean ? new BlockMagnitude[kMaxPending * MagnitudeBlocks(dimension)]
                                                        : nullptr) {}

void Aggregator::Reset() {
  count_ = 0;
  pending_count_ = 0;
  if (kind_ == AggregatorKind::kMean) {
    sum_.Clear();
  } else {
    std::fill(counts_.get(), counts_.get() + dimension_, 0);
  }
}

namespace {

static_assert(codec::kMaxDenseBlock >= kMagnitudeBlock, "the exact sum expands compact updates a block at a time");

void DecodeCompactBlock(const void* context, uint32_t start, uint32_t count, float* out) {
  codec::DecodeDenseBlock(*static_cast<const codec::CompactDense*>(context), start, count, out);
}

}  // namespace

void Aggregator::Add(const codec::DecodedPayload& update, bool values_stay_valid) {
  ++count_;
  using Form = codec::DecodedPayload::Form;
  if (kind_ != AggregatorKind::kMean) {
    // Configuration pairs these aggregators with plain signs only.
    codec::AccumulateSigns(update.sign_bits, {counts_.get(), dimension_});
    return;
  }
  if (update.form == Form::kSparse) {
    sum_.AddSparse(update.indices, update.values);
    return;
  }
  // Dense, compact and sign updates are held when allowed. Held updates all
  // have the run's one form: dense and compact are both dense addends.
  const bool signs = update.form == Form::kSigns;
  const bool hold = values_stay_valid;
  assert(!hold || pending_count_ == 0 || pending_signs_held_ == signs);
  const size_t slot = pending_count_;
  if (signs) {
    const ExactSum::SignAddend addend{update.sign_bits, update.sign_scale};
    if (!hold) {
      sum_.AddSigns(addend.packed, addend.magnitude);
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
    if (!hold) {
      sum_.AddDense(addend);
      return;
    }
    pending_dense_[slot] = addend;
  }
  pending_signs_held_ = signs;
  if (++pending_count_ == kMaxPending) Flush();
}

void Aggregator::Flush() {
  if (pending_count_ == 0) return;
  if (pending_signs_held_) {
    sum_.AddSignsBatch({pending_signs_, pending_count_});
  } else {
    sum_.AddDenseBatch({pending_dense_, pending_count_});
  }
  pending_count_ = 0;
}

void Aggregator::Finish(std::span<double> direction) {
  Flush();
  const double inverse = 1.0 / count_;
  switch (kind_) {
    case AggregatorKind::kMean:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = sum_.Value(j, inverse);
      break;
    case AggregatorKind::kSignMean:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = counts_[j] * inverse;
      break;
    case AggregatorKind::kMajority:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = (counts_[j] > 0) - (counts_[j] < 0);
      break;
  }
}

}  // namespace edgefl
