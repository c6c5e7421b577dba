// DataSde: the SDE forecast of a run on a data objective (logistic, mlp on
// a data set, each node holding its shard as the coordinator deals them).
// DCSGD's SDE (docs/theory.md 3.2) with the noise of the data itself rather
// than a model of it, over the round's cohort C of m counted nodes (all N
// when every node answers; sim/participation.h draws it each round):
//   drift      -(1/m) sum_{i in C} grad F_i(x)  (+ or - (eta/2) H times it, 3.4,
//              H the mean of every shard's Hessian, the population's: see
//              Step), F_i node i's shard loss: with non-iid shards the
//              cohort's mean gradient differs from the population's, and
//              drawing C afresh each round is that heterogeneity's variance;
//   diffusion  each Euler-Maruyama step adds sqrt(eta dt) (1/m) sum_{i in C} xi_i,
//              xi_i = g_i - grad F_i(x) + c_i: g_i a minibatch gradient of
//              shard i with the config's gradient noise, as the node draws
//              it, and c_i Gaussian with the compressor's exact covariance
//              given g_i (docs/theory.md 3.2; rand-k's correlation left out).
// The increments have the minibatch noise's covariance exactly but not its
// shape: over a round's steps their sum is close to Gaussian. Each step
// costs a full pass over the training set (every shard's gradient) and N
// minibatches; the corrected and second-order drifts two passes more. The
// loss after a round is the coordinator's: the mean over every training
// sample. Unbiased compressors and error feedback (by its virtual iterate)
// with the mean aggregator; signs (sign with sign-mean or majority,
// scaled-sign with the mean) by DSignSGD's SDE with each coordinate of a
// node's minibatch gradient taken as Gaussian, its mean the shard's
// gradient and its variance the per-sample gradients' over the shard / B
// plus the gradient noise's (Xi = Phi(mean / sd) - 1/2; a vote of nodes with
// different Xi by their mean Xi; scaled-sign's scale E|g_j| of that Gaussian,
// averaged over j); the schedules of step.rule and sgd only.
// Immutable after Create; each path gets its own DataSde::Path.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/rng.h"
#include "core/status.h"
#include "maths/classifier.h"
#include "maths/data_objective.h"

namespace edgefl {

class DataSde {
 public:

  // Loads the data set (from data_dir or the default search path) and deals
  // the shards as the coordinator does.
  static Status Create(const ExperimentConfig& config, const std::string& data_dir, std::unique_ptr<DataSde>* out);

  // One path's working memory and minibatch stream.
  class Path {
   public:
    Path(const DataSde& model, uint64_t seed);
    // One Euler-Maruyama step of length dt in a round of step size eta, the
    // drift's H term weighted by `correction` (+-1/2 or 0), over the counted
    // nodes `cohort` (ids, at least one).
    void Step(std::span<float> x, double eta, double dt, double correction, std::span<const uint32_t> cohort);
    // The coordinator's loss at x (every training sample), and the norm of
    // the mean shard gradient.
    double Loss(std::span<const float> x, double* grad_norm);

   private:
    // drift_ = the mean of the cohort's shards' gradients, each kept in shard_gradients_.
    void Drift(std::span<const float> x, std::span<const uint32_t> cohort);
    // The sign family's step (see above).
    void StepSigns(std::span<float> x, double eta, double dt, std::span<const uint32_t> cohort);

    const DataSde& model_;
    std::vector<std::vector<float>> batch_rows_;
    std::vector<std::vector<uint8_t>> batch_labels_;
    std::vector<float> workspace_, hessian_scratch_;
    std::vector<DataObjective> nodes_;
    std::vector<std::vector<float>> shard_gradients_;
    std::vector<float> drift_, g_, hd_, noise_;
    std::vector<double> covariance_;
    std::vector<double> sign_mean_, sign_variance_, samples_sum_, samples_squares_;
    Rng rng_;
  };

  uint32_t dimension() const { return classifier_->ParameterCount(); }
  void InitialPoint(std::span<float> x) const;

 private:
  explicit DataSde(const ExperimentConfig& config) : config_(config) {}

  const ExperimentConfig& config_;
  std::unique_ptr<Classifier> classifier_;
  std::vector<std::vector<float>> rows_;     // each node's shard, gathered
  std::vector<std::vector<uint8_t>> labels_;
  size_t samples_ = 0;                       // training samples, all shards
  size_t workspace_floats_ = 0;              // enough for the largest shard
};

}  // namespace edgefl
