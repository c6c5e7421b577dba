// UpdateRows: a round's accepted updates, each decoded to d floats, one row
// an update in arrival order, for the aggregators that need all of them at
// once (median, trimmed mean, Krum). Memory: capacity x d x 4 bytes,
// allocated once for the run (capacity = run.nodes, the most updates a
// round can accept), plus 4 bytes an update.
//
// Rows are stored with -0 as +0, so two values are equal exactly when
// their bits are, and a row is norm-bounded (norm_bound.h) as it is added.
// Every form a compressor produces is expanded as codec::ExpandUpdate
// does: dense values, sparse ones with zeros elsewhere (rand-k, bernoulli,
// top-k), QSGD levels and natural codes, and signs as +-scale. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "schemas/codec/wire.h"

namespace edgefl {

class UpdateRows {
 public:
  // Room for `capacity` updates of `dimension` values; max_update_norm 0
  // leaves updates as they come.
  UpdateRows(uint32_t capacity, uint32_t dimension, double max_update_norm);

  // Bytes the rows take.
  static uint64_t BytesFor(uint32_t capacity, uint32_t dimension) {
    return uint64_t{capacity} * dimension * sizeof(float);
  }

  // A new round: no rows.
  void Clear() {
    count_ = 0;
    bounded_ = 0;
  }
  // Decodes `update` into the next row. A round never has more than
  // capacity() updates (the collector accepts one an asked node); one past
  // it is dropped (and asserts in debug builds).
  void Add(const codec::DecodedPayload& update);

  uint32_t count() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t dimension() const { return dimension_; }
  std::span<const float> row(uint32_t i) const { return {values_.get() + size_t{i} * dimension_, dimension_}; }
  // Rows scaled down to max_update_norm this round.
  uint32_t bounded() const { return bounded_; }

  // The row numbers, count() of them, in a canonical order: rows sorted by
  // their bytes. Equal rows are equal bit for bit, so any computation that
  // visits rows in this order depends on the round's updates only, not on
  // the order they arrived in.
  void CanonicalOrder(std::span<uint32_t> order) const;

 private:
  std::span<float> mutable_row(uint32_t i) { return {values_.get() + size_t{i} * dimension_, dimension_}; }

  uint32_t capacity_;
  uint32_t dimension_;
  double max_update_norm_;
  uint32_t count_ = 0;
  uint32_t bounded_ = 0;
  std::unique_ptr<float[]> values_;  // capacity_ rows of dimension_
};

}  // namespace edgefl
