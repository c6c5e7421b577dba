// ModelEvaluator: what the coordinator measures of the model after each
// step. Synthetic objectives: f(x) and ||grad f(x)||. Data objectives: the
// mean training loss over every training sample, the norm of its full
// gradient, and the loss and accuracy on the held-out test samples (the
// same split the nodes compute). Owns its copies of the data. Not
// thread-safe.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/status.h"
#include "maths/classifier.h"
#include "maths/objective.h"

namespace edgefl {

struct Evaluation {
  double loss = 0.0;
  double grad_norm = 0.0;
  double grad_max_abs = 0.0;   // max_j |grad_j f(x)|
  double test_loss = 0.0;      // NaN for synthetic objectives
  double test_accuracy = 0.0;  // NaN for synthetic objectives
};

class ModelEvaluator {
 public:
  // Loads the data set of a data objective (from data_dir or the default
  // search path).
  static Status Create(const ExperimentConfig& config, const std::string& data_dir,
                       std::unique_ptr<ModelEvaluator>* out);

  void InitialModel(std::span<float> model) const;
  // Training samples of node `i` (data objectives; empty otherwise).
  std::span<const uint32_t> Shard(uint32_t i) const {
    return i < shards_.size() ? std::span<const uint32_t>(shards_[i]) : std::span<const uint32_t>();
  }
  Evaluation Evaluate(std::span<const float> model);
  // grad f at the model of the last Evaluate (the full training gradient of
  // a data objective).
  std::span<const float> gradient() const { return gradient_; }

 private:
  ModelEvaluator(const ExperimentConfig& config);

  const ExperimentConfig& config_;
  std::vector<float> spectrum_;                // synthetic objectives
  std::unique_ptr<Classifier> classifier_;     // data objectives, for the test set
  std::vector<float> train_rows_, test_rows_, batch_rows_;
  std::vector<uint8_t> train_labels_, test_labels_, batch_labels_;
  std::vector<float> gradient_, workspace_, hessian_scratch_;
  std::unique_ptr<Objective> objective_;       // over the memory above
  std::vector<std::vector<uint32_t>> shards_;
};

}  // namespace edgefl
