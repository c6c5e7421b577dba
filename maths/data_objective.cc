#include "maths/data_objective.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace edgefl {

Classifier ClassifierFor(const codec::ObjectiveSpec& spec, const DatasetInfo& info) {
  return Classifier(spec.kind, info.features, info.classes, spec.hidden);
}

void GatherRows(const Dataset& data, std::span<const uint32_t> indices, std::span<float> rows,
                std::span<uint8_t> labels) {
  const size_t f = data.info->features;
  for (size_t i = 0; i < indices.size(); ++i) {
    std::copy_n(data.features.begin() + static_cast<std::ptrdiff_t>(indices[i] * f), f,
                rows.begin() + static_cast<std::ptrdiff_t>(i * f));
    labels[i] = data.labels[indices[i]];
  }
}

size_t DataObjective::ShardBytes(const DatasetInfo& info, uint32_t shard_rows) {
  return size_t{shard_rows} * info.features * sizeof(float) + shard_rows;
}

size_t DataObjective::BatchBytes(const codec::TaskSpec& task, const DatasetInfo& info) {
  const Classifier classifier = ClassifierFor(task.objective, info);
  return size_t{task.batch_size} * (info.features * sizeof(float) + 1) +
         classifier.WorkspaceFloats(task.batch_size) * sizeof(float);
}

DataObjective::DataObjective(const Classifier& classifier, uint32_t batch_size, const DataObjectiveMemory& memory)
    : classifier_(classifier),
      batch_size_(batch_size),
      features_(memory.labels.empty() ? 0 : static_cast<uint32_t>(memory.rows.size() / memory.labels.size())),
      memory_(memory) {}

double DataObjective::LossAndGradient(std::span<const float> x, std::span<float> grad) {
  assert(memory_.workspace.size() >= classifier_.WorkspaceFloats(rows()) && "workspace for every row");
  return classifier_.LossAndGradient(x, memory_.rows, memory_.labels, grad, memory_.workspace);
}

double DataObjective::SampleLossAndGradient(std::span<const float> x, Rng& rng, std::span<float> grad) {
  const size_t f = features_;
  for (uint32_t b = 0; b < batch_size_; ++b) {
    const uint32_t pick = rng.Below(rows());
    std::copy_n(memory_.rows.begin() + static_cast<std::ptrdiff_t>(pick * f), f,
                memory_.batch_rows.begin() + static_cast<std::ptrdiff_t>(b * f));
    memory_.batch_labels[b] = memory_.labels[pick];
  }
  return classifier_.LossAndGradient(x, memory_.batch_rows, memory_.batch_labels, grad, memory_.workspace);
}

void DataObjective::HessianVector(std::span<const float> x, std::span<const float> v, std::span<float> out) {
  const size_t d = x.size();
  assert(memory_.hessian_scratch.size() >= 3 * d && "HessianVector needs its scratch");
  const std::span<float> shifted = memory_.hessian_scratch.first(d);
  const std::span<float> plus = memory_.hessian_scratch.subspan(d, d);
  const std::span<float> minus = memory_.hessian_scratch.subspan(2 * d, d);
  float x_max = 0.0f, v_max = 0.0f;
  for (size_t j = 0; j < d; ++j) {
    x_max = std::max(x_max, std::fabs(x[j]));
    v_max = std::max(v_max, std::fabs(v[j]));
  }
  if (v_max == 0.0f) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  const float h = std::ldexp(1.0f + x_max, -10) / v_max;
  for (size_t j = 0; j < d; ++j) shifted[j] = x[j] + h * v[j];
  LossAndGradient(shifted, plus);
  for (size_t j = 0; j < d; ++j) shifted[j] = x[j] - h * v[j];
  LossAndGradient(shifted, minus);
  for (size_t j = 0; j < d; ++j) out[j] = (plus[j] - minus[j]) / (2.0f * h);
}

}  // namespace edgefl
