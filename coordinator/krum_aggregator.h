// KrumAggregator: Krum and multi-Krum (Blanchard, El Mhamdi, Guerraoui,
// Stainer, "Machine Learning with Adversaries: Byzantine Tolerant Gradient
// Descent", NeurIPS 2017). With n updates of which at most f are hostile,
// update i scores
//   s(i) = sum of ||V_i - V_j||^2 over the n - f - 2 updates j != i nearest to it,
// and the direction is the mean of the m' = min(m, n - f) lowest-scoring
// updates (m = 1: Krum; m > 1: multi-Krum). Krum needs n >= 2f + 3; a round
// with fewer updates (a quorum below 1 and nodes missing) takes the
// coordinate-wise median of what it has, and fell_back() says so.
//
// Independent of arrival order, bit for bit: updates are visited in
// UpdateRows::CanonicalOrder (sorted by their bytes), distances are summed
// in double in coordinate order, each score sums its distances in
// ascending order, ties between scores go to the earlier update in that
// order, and the chosen updates are summed exactly (ExactSum) and divided
// once, as the mean is.
//
// Memory, allocated at construction for n_max = run.nodes: the rows (4
// n_max d bytes), an exact sum (32 d bytes + 64 KiB), the median's columns
// (4 n_max 64 bytes) and the distances (8 n_max^2 bytes). Time: O(n^2 d)
// a round for the distances. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/exact_sum.h"
#include "coordinator/update_rows.h"

namespace edgefl {

class KrumAggregator final : public Aggregator {
 public:
  // `byzantine` is f and `select` is m (>= 1).
  KrumAggregator(uint32_t byzantine, uint32_t select, uint32_t capacity, uint32_t dimension, size_t max_message_bytes,
                 double max_update_norm);

  void Reset() override;
  std::span<uint64_t> ReceiveBuffer() override { return receive_buffer_; }
  void Add(const codec::DecodedPayload& update) override { rows_.Add(update); }
  uint32_t count() const override { return rows_.count(); }
  void Finish(std::span<double> direction) override;
  uint32_t bounded() const override { return rows_.bounded(); }
  bool fell_back() const override { return fell_back_; }

  // The updates the last Finish averaged, by arrival (0 is the round's
  // first update), in the order chosen; empty when it fell back.
  std::span<const uint32_t> selected() const { return selected_; }

 private:
  uint32_t byzantine_;
  uint32_t select_;
  UpdateRows rows_;
  ExactSum sum_;
  std::unique_ptr<float[]> columns_;     // the median's, when a round falls back
  std::unique_ptr<double[]> distances_;  // n x n, in canonical order
  std::vector<uint32_t> order_;          // canonical position -> arrival
  std::vector<double> scores_;           // by canonical position
  std::vector<double> nearest_;          // one update's distances to the others
  std::vector<uint32_t> ranking_;        // canonical positions by score
  std::vector<uint32_t> selected_;
  bool fell_back_ = false;
  std::vector<uint64_t> receive_buffer_;
};

}  // namespace edgefl
