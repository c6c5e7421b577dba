#include "node/data_objective.h"

#include <algorithm>

namespace edgefl {

Classifier ClassifierFor(const codec::ObjectiveSpec& spec, const DatasetInfo& info) {
  return Classifier(spec.kind, info.features, info.classes, spec.hidden);
}

size_t DataObjective::ShardBytes(const DatasetInfo& info, uint32_t shard_rows) {
  return size_t{shard_rows} * info.features * sizeof(float) + shard_rows;
}

size_t DataObjective::BatchBytes(const codec::TaskSpec& task, const DatasetInfo& info) {
  const Classifier classifier = ClassifierFor(task.objective, info);
  return size_t{task.batch_size} * (info.features * sizeof(float) + 1) +
         classifier.WorkspaceFloats(task.batch_size) * sizeof(float);
}

DataObjective::DataObjective(const codec::TaskSpec& task, const Dataset& data, std::span<const uint32_t> shard,
                             Arena& arena)
    : info_(*data.info),
      classifier_(ClassifierFor(task.objective, *data.info)),
      batch_size_(task.batch_size),
      rows_(arena.Allocate<float>(shard.size() * data.info->features, "data shard")),
      labels_(arena.Allocate<uint8_t>(shard.size(), "data shard labels")),
      batch_rows_(arena.Allocate<float>(size_t{task.batch_size} * data.info->features, "minibatch")),
      batch_labels_(arena.Allocate<uint8_t>(task.batch_size, "minibatch labels")),
      workspace_(arena.Allocate<float>(classifier_.WorkspaceFloats(task.batch_size), "classifier workspace")) {
  if (labels_.size() != shard.size() || workspace_.empty()) return;  // the arena's status says why
  const size_t f = info_.features;
  for (size_t i = 0; i < shard.size(); ++i) {
    std::copy_n(data.features.begin() + static_cast<std::ptrdiff_t>(shard[i] * f), f, rows_.begin() + static_cast<std::ptrdiff_t>(i * f));
    labels_[i] = data.labels[shard[i]];
  }
}

double DataObjective::LossAndGradient(std::span<const float> x, Rng& rng, std::span<float> grad) {
  const size_t f = info_.features;
  const auto rows = static_cast<uint32_t>(labels_.size());
  for (uint32_t b = 0; b < batch_size_; ++b) {
    const uint32_t pick = rng.Below(rows);
    std::copy_n(rows_.begin() + static_cast<std::ptrdiff_t>(pick * f), f, batch_rows_.begin() + static_cast<std::ptrdiff_t>(b * f));
    batch_labels_[b] = labels_[pick];
  }
  return classifier_.LossAndGradient(x, batch_rows_, batch_labels_, grad, workspace_);
}

}  // namespace edgefl
