#include "sim/data_sde.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "maths/compressor_maths.h"
#include "maths/dataset.h"
#include "maths/gradient_noise.h"
#include "maths/vector_norms.h"
#include "sim/sign_votes.h"

namespace edgefl {

Status DataSde::Create(const ExperimentConfig& config, const std::string& data_dir, std::unique_ptr<DataSde>* out) {
  std::unique_ptr<DataSde> model(new DataSde(config));
  Dataset data;
  EDGEFL_RETURN_IF_ERROR(LoadDataset(config.objective.dataset, data_dir, &data));
  const Partition partition =
      MakePartition(config.objective, data.labels, data.info->classes, config.seed, config.nodes);
  model->classifier_ = std::make_unique<Classifier>(ClassifierFor(config.objective, *data.info));
  const size_t f = data.info->features;
  size_t largest = config.batch_size;
  for (const std::vector<uint32_t>& shard : partition.shards) {
    model->rows_.emplace_back(shard.size() * f);
    model->labels_.emplace_back(shard.size());
    GatherRows(data, shard, model->rows_.back(), model->labels_.back());
    model->samples_ += shard.size();
    largest = std::max(largest, shard.size());
  }
  model->workspace_floats_ = model->classifier_->WorkspaceFloats(static_cast<uint32_t>(largest));
  *out = std::move(model);
  return Status::Ok();
}

void DataSde::InitialPoint(std::span<float> x) const { classifier_->InitialParameters(config_.seed, x); }

DataSde::Path::Path(const DataSde& model, uint64_t seed)
    : model_(model),
      batch_rows_(model.rows_.size()),
      batch_labels_(model.rows_.size()),
      workspace_(model.workspace_floats_),
      hessian_scratch_(3 * size_t{model.dimension()}),
      shard_gradients_(model.rows_.size(), std::vector<float>(model.dimension())),
      drift_(model.dimension()),
      g_(model.dimension()),
      hd_(model.dimension()),
      noise_(model.dimension()),
      covariance_(model.dimension()),
      sign_mean_(model.dimension()),
      sign_variance_(model.dimension()),
      samples_sum_(model.dimension()),
      samples_squares_(model.dimension()) {
  rng_.Seed(seed);
  const uint32_t batch = model.config_.batch_size;
  nodes_.reserve(model.rows_.size());
  for (size_t i = 0; i < model.rows_.size(); ++i) {
    const size_t f = model.labels_[i].empty() ? 0 : model.rows_[i].size() / model.labels_[i].size();
    batch_rows_[i].resize(size_t{batch} * f);
    batch_labels_[i].resize(batch);
    // The nodes take turns with one workspace: a path runs on one thread.
    nodes_.emplace_back(*model.classifier_, batch,
                        DataObjectiveMemory{.rows = model.rows_[i],
                                            .labels = model.labels_[i],
                                            .batch_rows = batch_rows_[i],
                                            .batch_labels = batch_labels_[i],
                                            .workspace = workspace_,
                                            .hessian_scratch = hessian_scratch_});
  }
}

void DataSde::Path::Drift(std::span<const float> x, std::span<const uint32_t> cohort) {
  std::fill(drift_.begin(), drift_.end(), 0.0f);
  const auto n = static_cast<float>(cohort.size());
  for (const uint32_t i : cohort) {
    nodes_[i].LossAndGradient(x, shard_gradients_[i]);
    for (size_t j = 0; j < drift_.size(); ++j) drift_[j] += shard_gradients_[i][j] / n;
  }
}

void DataSde::Path::Step(std::span<float> x, double eta, double dt, double correction,
                         std::span<const uint32_t> cohort) {
  const ExperimentConfig& c = model_.config_;
  if (c.compressor.kind == wire::CompressorKind::Sign || c.compressor.kind == wire::CompressorKind::ScaledSign) {
    StepSigns(x, eta, dt, cohort);
    return;
  }
  const size_t d = x.size();
  Drift(x, cohort);
  if (correction != 0.0) {
    // H times the drift, H the mean of every shard's Hessian: the
    // population's curvature, not the cohort's (docs/theory.md 3.6). A small
    // non-iid cohort's curvature can pass 2/eta in some direction for a
    // round; the corrected flow then grows as exp(eta l (eta l / 2 - 1))
    // where the iteration grows as |1 - eta l|, and such rounds blew up
    // paths of runs that converged.
    std::fill(hd_.begin(), hd_.end(), 0.0f);
    const auto population = static_cast<float>(nodes_.size());
    for (DataObjective& node : nodes_) {
      node.HessianVector(x, drift_, g_);
      for (size_t j = 0; j < d; ++j) hd_[j] += g_[j] / population;
    }
  }
  // The sum over the cohort of xi_i = g_i - grad F_i + c_i.
  const bool compression_noise = c.compressor.kind != wire::CompressorKind::Identity &&
                                 c.compressor.kind != wire::CompressorKind::EfSign &&
                                 c.compressor.kind != wire::CompressorKind::TopK;
  std::fill(noise_.begin(), noise_.end(), 0.0f);
  for (const uint32_t i : cohort) {
    nodes_[i].SampleLossAndGradient(x, rng_, g_);
    AddGradientNoise(c.noise, c.batch_size, rng_, g_);
    for (size_t j = 0; j < d; ++j) noise_[j] += g_[j] - shard_gradients_[i][j];
    if (!compression_noise) continue;  // error feedback: its virtual iterate has none
    CompressorCovariance(c.compressor, g_, covariance_);
    for (size_t j = 0; j < d; ++j) noise_[j] += static_cast<float>(std::sqrt(covariance_[j]) * rng_.Normal());
  }
  const double coefficient = std::sqrt(eta * dt) / static_cast<double>(cohort.size());
  for (size_t j = 0; j < d; ++j) {
    const double drift = -drift_[j] + (correction != 0.0 ? correction * eta * hd_[j] : 0.0);
    x[j] = static_cast<float>(x[j] + dt * drift + coefficient * noise_[j]);
  }
}

void DataSde::Path::StepSigns(std::span<float> x, double eta, double dt, std::span<const uint32_t> cohort) {
  const ExperimentConfig& c = model_.config_;
  const size_t d = x.size();
  const double n = static_cast<double>(cohort.size());
  const bool majority = c.aggregator.kind == AggregatorKind::kMajority;
  Drift(x, cohort);
  std::fill(sign_mean_.begin(), sign_mean_.end(), 0.0);
  std::fill(sign_variance_.begin(), sign_variance_.end(), 0.0);
  for (const uint32_t i : cohort) {
    // The spread of this node's minibatch gradient, per coordinate: the
    // per-sample gradients' variance over the shard over B (draws with
    // replacement), plus the config's gradient noise.
    std::fill(samples_squares_.begin(), samples_squares_.end(), 0.0);
    const std::vector<float>& rows = model_.rows_[i];
    const std::vector<uint8_t>& labels = model_.labels_[i];
    const size_t samples = labels.size(), f = samples > 0 ? rows.size() / samples : 0;
    for (size_t r = 0; r < samples; ++r) {
      model_.classifier_->LossAndGradient(x, std::span<const float>(rows).subspan(r * f, f),
                                          std::span<const uint8_t>(labels).subspan(r, 1), g_, workspace_);
      for (size_t j = 0; j < d; ++j) samples_squares_[j] += double{g_[j]} * g_[j];
    }
    const double noise = NoiseVariance(c.noise, c.batch_size) +
                         NoiseVarianceSlope(c.noise, c.batch_size) * SquaredNorm(shard_gradients_[i]);
    double scale = 0.0;  // scaled-sign: E|g_j| / ... taken as |mean| + sd, averaged
    for (size_t j = 0; j < d; ++j) {
      const double mu = shard_gradients_[i][j];
      const double per_sample = std::max(0.0, samples_squares_[j] / static_cast<double>(samples) - mu * mu);
      const double sd = std::sqrt(per_sample / c.batch_size + noise);
      samples_sum_[j] = sd;
      scale += std::fabs(mu) + sd * std::sqrt(2.0 / std::numbers::pi) * std::exp(-0.5 * (sd > 0 ? mu * mu / (sd * sd) : 0.0));
    }
    scale /= static_cast<double>(d);
    const double m = c.compressor.kind == wire::CompressorKind::ScaledSign ? scale : 1.0;
    for (size_t j = 0; j < d; ++j) {
      const double sd = samples_sum_[j], mu = shard_gradients_[i][j];
      const double xi = sd > 0.0 ? 0.5 * std::erf(mu / (sd * std::sqrt(2.0))) : 0.5 * ((mu > 0) - (mu < 0));
      // Means over the nodes: of m 2 Xi and its variance (mean of signs), or
      // of Xi itself (the vote, below).
      sign_mean_[j] += (majority ? xi : m * 2.0 * xi) / n;
      sign_variance_[j] += majority ? 0.0 : m * m * (1.0 - 4.0 * xi * xi) / (n * n);
    }
  }
  if (majority) {
    for (size_t j = 0; j < d; ++j) {
      double plus = 0.0, minus = 0.0;
      MajorityProbabilities(0.5 + sign_mean_[j], static_cast<uint32_t>(cohort.size()), &plus, &minus);
      sign_mean_[j] = plus - minus;
      sign_variance_[j] = plus + minus - sign_mean_[j] * sign_mean_[j];
    }
  }
  const double coefficient = std::sqrt(eta * dt);
  for (size_t j = 0; j < d; ++j) {
    x[j] = static_cast<float>(x[j] - dt * sign_mean_[j] +
                              coefficient * std::sqrt(std::max(0.0, sign_variance_[j])) * rng_.Normal());
  }
}

double DataSde::Path::Loss(std::span<const float> x, double* grad_norm) {
  double loss = 0.0;
  std::fill(drift_.begin(), drift_.end(), 0.0f);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const double shard = nodes_[i].LossAndGradient(x, g_);
    loss += shard * static_cast<double>(model_.labels_[i].size());
    for (size_t j = 0; j < g_.size(); ++j) drift_[j] += g_[j] * static_cast<float>(model_.labels_[i].size());
  }
  const double n = static_cast<double>(model_.samples_);
  for (float& v : drift_) v = static_cast<float>(v / n);
  *grad_norm = std::sqrt(SquaredNorm(drift_));
  return loss / n;
}

}  // namespace edgefl
