// DataObjective: a node's shard of a data set and the minibatch gradient of
// a Classifier on it. The shard's rows and labels, the batch being formed
// and the classifier's workspace all live in the node's Arena; each round
// draws B rows with replacement from the round's random stream, so the
// gradient depends only on (seed, node, round). Not thread-safe.
#pragma once

#include <span>

#include "core/rng.h"
#include "node/arena.h"
#include "node/classifier.h"
#include "node/dataset.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

class DataObjective {
 public:
  // Copies rows `shard` of `data` into the arena.
  DataObjective(const codec::TaskSpec& task, const Dataset& data, std::span<const uint32_t> shard, Arena& arena);

  // Mean cross-entropy of a fresh minibatch at `x`, and its gradient.
  double LossAndGradient(std::span<const float> x, Rng& rng, std::span<float> grad);

  uint32_t shard_rows() const { return static_cast<uint32_t>(labels_.size()); }

  // Arena bytes for each buffer, for the memory plan.
  static size_t ShardBytes(const DatasetInfo& info, uint32_t shard_rows);
  static size_t BatchBytes(const codec::TaskSpec& task, const DatasetInfo& info);

 private:
  const DatasetInfo& info_;
  Classifier classifier_;
  uint32_t batch_size_;
  std::span<float> rows_;
  std::span<uint8_t> labels_;
  std::span<float> batch_rows_;
  std::span<uint8_t> batch_labels_;
  std::span<float> workspace_;
};

// The classifier a data objective trains.
Classifier ClassifierFor(const codec::ObjectiveSpec& spec, const DatasetInfo& info);

}  // namespace edgefl
