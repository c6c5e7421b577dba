#include "coordinator/coordinate_wise_aggregator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "coordinator/exact_sum.h"

namespace edgefl {

void TrimmedMeanOfRows(const UpdateRows& rows, uint32_t drop, std::span<float> columns, std::span<double> direction) {
  const uint32_t n = rows.count(), d = rows.dimension();
  assert(2 * drop < n && columns.size() >= size_t{n} * kColumnBlock);
  const uint32_t kept = n - 2 * drop;
  const double inverse = 1.0 / kept;
  for (uint32_t start = 0; start < d; start += kColumnBlock) {
    const uint32_t width = std::min(kColumnBlock, d - start);
    // Column t of the block holds the n values of coordinate start + t.
    for (uint32_t i = 0; i < n; ++i) {
      const float* values = rows.row(i).data() + start;
      for (uint32_t t = 0; t < width; ++t) columns[size_t{t} * n + i] = values[t];
    }
    for (uint32_t t = 0; t < width; ++t) {
      float* column = columns.data() + size_t{t} * n;
      if (drop > 0) {
        // [drop, n - drop) then holds the kept values, in some order; the
        // sum below is exact, so the order does not matter.
        std::nth_element(column, column + drop, column + n);
        std::nth_element(column + drop, column + (n - drop - 1), column + n);
      }
      ExactSum::Fixed sum = 0;
      for (uint32_t i = drop; i < n - drop; ++i) sum += ExactSum::ToFixed(column[i]);
      direction[start + t] = static_cast<double>(sum) * 0x1.0p-64 * inverse;
    }
  }
}

CoordinateWiseAggregator::CoordinateWiseAggregator(Rule rule, double trim, uint32_t capacity, uint32_t dimension,
                                                   size_t max_message_bytes, double max_update_norm)
    : rule_(rule),
      trim_(trim),
      rows_(capacity, dimension, max_update_norm),
      columns_(new float[size_t{capacity} * kColumnBlock]),
      receive_buffer_((max_message_bytes + 7) / 8) {}

uint32_t CoordinateWiseAggregator::Dropped(Rule rule, double trim, uint32_t n) {
  const uint32_t most = n == 0 ? 0 : (n - 1) / 2;
  switch (rule) {
    case Rule::kMedian:
      return most;
    case Rule::kTrimmedMean:
      return std::min(most, static_cast<uint32_t>(std::floor(trim * n + 1e-9)));
  }
  return 0;
}

void CoordinateWiseAggregator::Finish(std::span<double> direction) {
  const uint32_t n = rows_.count();
  TrimmedMeanOfRows(rows_, Dropped(rule_, trim_, n), {columns_.get(), size_t{rows_.capacity()} * kColumnBlock},
                    direction);
}

}  // namespace edgefl
