#include "coordinator/model_evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maths/data_objective.h"
#include "maths/synthetic_objective.h"
#include "maths/dataset.h"
#include "maths/vector_norms.h"
#include "schemas/codec/wire.h"

namespace edgefl {
ModelEvaluator::ModelEvaluator(const ExperimentConfig& config) : config_(config), gradient_(config.objective.dimension) {
  if (!codec::IsDataObjective(config.objective.kind)) {
    spectrum_.resize(config.objective.dimension);
    objective_ = std::make_unique<SyntheticObjective>(config.objective, spectrum_);
  }
}

Status ModelEvaluator::Create(const ExperimentConfig& config, const std::string& data_dir,
                              std::unique_ptr<ModelEvaluator>* out) {
  std::unique_ptr<ModelEvaluator> evaluator(new ModelEvaluator(config));
  if (codec::IsDataObjective(config.objective.kind)) {
    Dataset data;
    EDGEFL_RETURN_IF_ERROR(LoadDataset(config.objective.dataset, data_dir, &data));
    Partition partition = MakePartition(config.objective, data.labels, data.info->classes, config.seed, config.nodes);
    for (uint32_t i = 0; i < config.nodes; ++i) {
      if (partition.shards[i].size() > codec::kMaxShardSamples) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "node %u's shard has %zu samples; a Welcome carries at most %u (use more nodes)", i,
                             partition.shards[i].size(), codec::kMaxShardSamples);
      }
      // Each node's updates weigh its shard (node_runtime.h), which the
      // coordinator would refuse past MaxUpdateWeight: say so now, once.
      const uint32_t max_weight = codec::MaxUpdateWeight(config.nodes);
      if (config.aggregator.weighting == Weighting::kSamples && partition.shards[i].size() > max_weight) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "aggregator.weighting = \"samples\": node %u's shard has %zu samples, more than the %u "
                             "one update may weigh with run.nodes = %u (a round's weights total at most 2^20, the "
                             "exact sum's headroom)",
                             i, partition.shards[i].size(), max_weight, config.nodes);
      }
    }
    std::vector<uint32_t> train;
    for (const auto& shard : partition.shards) train.insert(train.end(), shard.begin(), shard.end());
    ModelEvaluator& e = *evaluator;
    const size_t f = data.info->features;
    e.train_rows_.resize(train.size() * f);
    e.train_labels_.resize(train.size());
    e.test_rows_.resize(partition.test.size() * f);
    e.test_labels_.resize(partition.test.size());
    GatherRows(data, train, e.train_rows_, e.train_labels_);
    GatherRows(data, partition.test, e.test_rows_, e.test_labels_);
    e.shards_ = std::move(partition.shards);
    e.classifier_ = std::make_unique<Classifier>(ClassifierFor(config.objective, *data.info));
    const size_t rows = std::max(train.size(), partition.test.size());
    e.workspace_.resize(e.classifier_->WorkspaceFloats(static_cast<uint32_t>(rows)));
    e.hessian_scratch_.resize(3 * size_t{config.objective.dimension});
    // The whole training set; a sample is a node's minibatch, of which the
    // coordinator has no use but which the interface offers.
    e.batch_rows_.resize(size_t{config.batch_size} * f);
    e.batch_labels_.resize(config.batch_size);
    e.objective_ = std::make_unique<DataObjective>(
        *e.classifier_, config.batch_size,
        DataObjectiveMemory{.rows = e.train_rows_,
                            .labels = e.train_labels_,
                            .batch_rows = e.batch_rows_,
                            .batch_labels = e.batch_labels_,
                            .workspace = e.workspace_,
                            .hessian_scratch = e.hessian_scratch_});
  }
  *out = std::move(evaluator);
  return Status::Ok();
}

void ModelEvaluator::InitialModel(std::span<float> model) const { objective_->InitialPoint(config_.seed, model); }

Evaluation ModelEvaluator::Evaluate(std::span<const float> model) {
  Evaluation e;
  e.loss = objective_->LossAndGradient(model, gradient_);
  e.grad_norm = std::sqrt(SquaredNorm(gradient_));
  for (const float g : gradient_) e.grad_max_abs = std::max(e.grad_max_abs, static_cast<double>(std::fabs(g)));
  if (!classifier_) {
    e.test_loss = e.test_accuracy = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  uint32_t correct = 0;
  e.test_loss = classifier_->LossAndGradient(model, test_rows_, test_labels_, {}, workspace_, &correct);
  e.test_accuracy = static_cast<double>(correct) / static_cast<double>(test_labels_.size());
  return e;
}

}  // namespace edgefl
