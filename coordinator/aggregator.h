// Aggregators: streaming combination of a round's updates into one
// direction, in O(d) memory whatever the number of nodes, and independent
// of the order updates arrive in (so a seed gives one model, bit for bit).
//   mean       (1/n) sum_i C_i(g_i)           exact fixed-point sum (exact_sum.h)
//   sign-mean  (1/n) sum_i sign(g_i)          integer counts; DSignSGD (THEORY.md 1)
//   majority   sign(sum_i sign(g_i))          integer counts; ties give 0
// n is the number of updates accepted this round. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "coordinator/exact_sum.h"
#include "coordinator/experiment_config.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Aggregator {
 public:
  Aggregator(AggregatorKind kind, uint32_t dimension);

  void Reset();
  // Adds one decoded update (any form the run's compressor produces).
  void Add(const codec::DecodedPayload& update);
  uint32_t count() const { return count_; }
  // The direction, for count() > 0.
  void Finish(std::span<double> direction) const;

 private:
  AggregatorKind kind_;
  uint32_t dimension_;
  uint32_t count_ = 0;
  ExactSum sum_;                       // mean
  std::unique_ptr<int32_t[]> counts_;  // sign-mean, majority
};

}  // namespace edgefl
