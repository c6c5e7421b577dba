#include "coordinator/model_evaluator.h"

#include <cmath>
#include <limits>

#include "node/data_objective.h"
#include "node/dataset.h"
#include "node/vector_norms.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

void Gather(const Dataset& data, std::span<const uint32_t> indices, std::vector<float>* rows,
            std::vector<uint8_t>* labels) {
  const size_t f = data.info->features;
  rows->resize(indices.size() * f);
  labels->resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    std::copy_n(data.features.begin() + static_cast<std::ptrdiff_t>(indices[i] * f), f,
                rows->begin() + static_cast<std::ptrdiff_t>(i * f));
    (*labels)[i] = data.labels[indices[i]];
  }
}

}  // namespace

ModelEvaluator::ModelEvaluator(const ExperimentConfig& config)
    : config_(config),
      spectrum_(codec::IsDataObjective(config.objective.kind) ? 0 : config.objective.dimension),
      objective_(config.objective, spectrum_),
      gradient_(config.objective.dimension) {}

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
    }
    std::vector<uint32_t> train;
    for (const auto& shard : partition.shards) train.insert(train.end(), shard.begin(), shard.end());
    Gather(data, train, &evaluator->train_rows_, &evaluator->train_labels_);
    Gather(data, partition.test, &evaluator->test_rows_, &evaluator->test_labels_);
    evaluator->shards_ = std::move(partition.shards);
    evaluator->classifier_ = std::make_unique<Classifier>(ClassifierFor(config.objective, *data.info));
    const size_t rows = std::max(train.size(), partition.test.size());
    evaluator->workspace_.resize(evaluator->classifier_->WorkspaceFloats(static_cast<uint32_t>(rows)));
  }
  *out = std::move(evaluator);
  return Status::Ok();
}

void ModelEvaluator::InitialModel(std::span<float> model) const {
  if (classifier_) {
    classifier_->InitialParameters(config_.seed, model);
  } else {
    objective_.InitialPoint(model);
  }
}

Evaluation ModelEvaluator::Evaluate(std::span<const float> model) {
  Evaluation e;
  if (!classifier_) {
    e.loss = objective_.LossAndGradient(model, gradient_);
    e.grad_norm = std::sqrt(SquaredNorm(gradient_));
    e.test_loss = e.test_accuracy = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  e.loss = classifier_->LossAndGradient(model, train_rows_, train_labels_, gradient_, workspace_);
  e.grad_norm = std::sqrt(SquaredNorm(gradient_));
  uint32_t correct = 0;
  e.test_loss = classifier_->LossAndGradient(model, test_rows_, test_labels_, {}, workspace_, &correct);
  e.test_accuracy = static_cast<double>(correct) / static_cast<double>(test_labels_.size());
  return e;
}

}  // namespace edgefl
