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

void Aggregator::Add(const codec::DecodedPayload& update, bool values_stay_valid) {
  ++count_;
  using Form = codec::DecodedPayload::Form;
  if (kind_ != AggregatorKind::kMean) {
    // Configuration pairs these aggregators with plain signs only.
    codec::AccumulateSigns(update.sign_bits, {counts_.get(), dimension_});
    return;
  }
  switch (update.form) {
    case Form::kDense:
      if (values_stay_valid) {
        assert(pending_count_ == 0 || pending_form_ == Form::kDense);
        // The magnitudes live in the decoder's scratch, which the next update reuses.
        const size_t blocks = MagnitudeBlocks(dimension_);
        const std::span<BlockMagnitude> kept(pending_magnitudes_.get() + pending_count_ * blocks,
                                             update.dense_magnitudes.empty() ? 0 : blocks);
        std::copy_n(update.dense_magnitudes.begin(), kept.size(), kept.begin());
        pending_form_ = Form::kDense;
        pending_dense_[pending_count_++] = {update.dense, kept};
        if (pending_count_ == kMaxPending) Flush();
        return;
      }
      sum_.AddDense(update.dense, update.dense_magnitudes);
      break;
    case Form::kSparse:
      sum_.AddSparse(update.indices, update.values);
      break;
    case Form::kSigns:
      if (values_stay_valid) {
        assert(pending_count_ == 0 || pending_form_ == Form::kSigns);
        pending_form_ = Form::kSigns;
        pending_signs_[pending_count_++] = {update.sign_bits, update.sign_scale};
        if (pending_count_ == kMaxPending) Flush();
        return;
      }
      sum_.AddSigns(update.sign_bits, update.sign_scale);
      break;
  }
}

void Aggregator::Flush() {
  if (pending_count_ == 0) return;
  // Held updates all have the run's one form.
  if (pending_form_ == codec::DecodedPayload::Form::kSigns) {
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
