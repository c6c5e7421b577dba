// CoordinateWiseAggregator: the coordinate-wise median or trimmed mean of a
// round's n updates, robust to a minority of hostile nodes (Yin et al.
// 2018). For each coordinate j the n values are ordered, the `drop`
// largest and `drop` smallest are dropped, and the rest are averaged:
//   median        drop = floor((n - 1)/2): the middle value for odd n, the
//                 mean of the two middle ones for even n
//   trimmed-mean  drop = floor(trim n), at most floor((n - 1)/2)
// The kept values are summed exactly in 128-bit fixed point
// (ExactSum::ToFixed) and the sum is rounded once to double, times
// 1/kept, as the mean rounds its own: the result is a function of the
// round's values alone, whatever order they arrived in, and trim = 0 gives
// the mean bit for bit.
//
// Memory: every update of a round is kept (UpdateRows: 4 n_max d bytes,
// n_max = run.nodes), plus 4 n_max kColumnBlock bytes of columns, all
// allocated at construction. Time: O(n d) a round (a selection a
// coordinate). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/update_rows.h"

namespace edgefl {

// Coordinates whose columns are gathered at once.
inline constexpr uint32_t kColumnBlock = 64;

// For every coordinate j, writes to direction[j] the mean of the rows'
// values at j left after dropping the `drop` largest and the `drop`
// smallest (2 drop < rows.count()), summed exactly. `columns` is scratch of
// at least rows.count() x kColumnBlock floats.
void TrimmedMeanOfRows(const UpdateRows& rows, uint32_t drop, std::span<float> columns, std::span<double> direction);

class CoordinateWiseAggregator final : public Aggregator {
 public:
  enum class Rule : uint8_t { kMedian, kTrimmedMean };

  // Rounds of at most `capacity` updates of `dimension` values; `trim` for
  // kTrimmedMean, in [0, 0.5).
  CoordinateWiseAggregator(Rule rule, double trim, uint32_t capacity, uint32_t dimension, size_t max_message_bytes,
                           double max_update_norm);

  // Values dropped at each end of a coordinate's n: floor((n - 1)/2) for
  // the median; floor(trim n) (to within 1e-9, so that 0.3 x 10 drops 3),
  // capped there, for the trimmed mean.
  static uint32_t Dropped(Rule rule, double trim, uint32_t n);

  void Reset() override { rows_.Clear(); }
  std::span<uint64_t> ReceiveBuffer() override { return receive_buffer_; }
  void Add(const codec::DecodedPayload& update) override { rows_.Add(update); }
  uint32_t count() const override { return rows_.count(); }
  void Finish(std::span<double> direction) override;
  uint32_t bounded() const override { return rows_.bounded(); }

 private:
  Rule rule_;
  double trim_;
  UpdateRows rows_;
  std::unique_ptr<float[]> columns_;  // capacity x kColumnBlock
  std::vector<uint64_t> receive_buffer_;
};

}  // namespace edgefl
