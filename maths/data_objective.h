// DataObjective: a Classifier's mean cross-entropy over the rows it holds —
// a node's shard, or the coordinator's whole training set. A sample
// (SampleLossAndGradient) is a minibatch of batch_size rows drawn with
// replacement from `rng`, so a node's gradient depends only on (seed,
// node, round). All memory is the caller's (DataObjectiveMemory); on a node
// it is carved from the Arena. Not thread-safe.
#pragma once

#include <span>

#include "maths/classifier.h"
#include "maths/dataset.h"
#include "maths/objective.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

struct DataObjectiveMemory {
  std::span<const float> rows;      // rows x features, filled by the caller (GatherRows)
  std::span<const uint8_t> labels;  // rows
  std::span<float> batch_rows;      // batch_size x features
  std::span<uint8_t> batch_labels;  // batch_size
  // Classifier::WorkspaceFloats of batch_size rows, or of every row where
  // LossAndGradient (the whole objective) is called.
  std::span<float> workspace;
  // 3 x dimension floats where HessianVector is called (empty elsewhere).
  std::span<float> hessian_scratch;
};

class DataObjective final : public Objective {
 public:
  DataObjective(const Classifier& classifier, uint32_t batch_size, const DataObjectiveMemory& memory);

  uint32_t dimension() const override { return classifier_.ParameterCount(); }
  uint32_t rows() const { return static_cast<uint32_t>(memory_.labels.size()); }

  double LossAndGradient(std::span<const float> x, std::span<float> grad) override;
  double SampleLossAndGradient(std::span<const float> x, Rng& rng, std::span<float> grad) override;
  // Central differences of gradients, (grad f(x + h v) - grad f(x - h v)) / 2h
  // with h = 2^-10 (1 + ||x||_inf) / ||v||_inf: float gradients make it good
  // to about three significant digits, enough for curvature estimates.
  void HessianVector(std::span<const float> x, std::span<const float> v, std::span<float> out) override;
  // Zeros for logistic, Glorot-uniform weights from `seed` for mlp.
  void InitialPoint(uint64_t seed, std::span<float> x) const override { classifier_.InitialParameters(seed, x); }

  // Arena bytes of the shard and of the minibatch buffers with the
  // classifier's workspace, for a node's memory plan.
  static size_t ShardBytes(const DatasetInfo& info, uint32_t shard_rows);
  static size_t BatchBytes(const codec::TaskSpec& task, const DatasetInfo& info);

 private:
  Classifier classifier_;
  uint32_t batch_size_;
  uint32_t features_;
  DataObjectiveMemory memory_;
};

// The classifier a data objective trains.
Classifier ClassifierFor(const codec::ObjectiveSpec& spec, const DatasetInfo& info);

// Copies rows `indices` of `data` into `rows` (indices x features) and
// `labels`.
void GatherRows(const Dataset& data, std::span<const uint32_t> indices, std::span<float> rows,
                std::span<uint8_t> labels);

}  // namespace edgefl
