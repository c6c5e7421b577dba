#include "sim/sde_predictor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

#include "coordinator/step_rule.h"
#include "core/rng.h"
#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/synthetic_objective.h"
#include "maths/vector_norms.h"
#include "schemas/codec/index_sampler.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

enum class Model : uint8_t { kDcsgd, kSignMean };

Status Unsupported(const char* what) {
  return Status::Error(StatusCode::kInvalidArgument, "edgefl predict does not model %s yet", what);
}

// What a config asks the simulator for, checked once.
Status CheckSupported(const ExperimentConfig& c, Model* model) {
  if (codec::IsDataObjective(c.objective.kind)) return Unsupported("data objectives (logistic, mlp)");
  if (UsesNormEstimate(c.step.rule)) return Unsupported("the normalising step rules");
  if (c.server.optimizer != ServerOptimizerKind::kSgd) return Unsupported("server optimisers other than sgd");
  switch (c.compressor.kind) {
    case Kind::Identity:
    case Kind::RandK:
    case Kind::Bernoulli:
    case Kind::Qsgd:
    case Kind::Natural:
      if (c.aggregator != AggregatorKind::kMean) return Unsupported("this aggregator with this compressor");
      if (!std::isfinite(NoiseVariance(c.noise, c.batch_size))) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "noise.nu = %g: student-t noise with nu <= 2 has infinite variance, so DSGD and DCSGD "
                             "have no SDE (and no finite floor; docs/theory.md 3.5)",
                             c.noise.nu);
      }
      *model = Model::kDcsgd;
      return Status::Ok();
    case Kind::Sign:
      if (c.aggregator != AggregatorKind::kSignMean) return Unsupported("the majority vote");
      *model = Model::kSignMean;
      return Status::Ok();
    case Kind::ScaledSign:
    case Kind::EfSign:
    case Kind::TopK:
      return Unsupported("the biased compressors scaled-sign, ef-sign and top-k");
  }
  return Unsupported("this compressor");
}

// One path's buffers and its random stream.
struct PathState {
  explicit PathState(uint32_t d) : x(d), g(d), hg(d), noisy(d), variance(d), z(d), lambda(d) {}
  std::vector<float> x, g, hg, noisy;
  std::vector<double> variance, z;
  std::vector<float> lambda;
  Rng rng;
};

class Simulator {
 public:
  Simulator(const ExperimentConfig& config, const PredictOptions& options, Model model)
      : c_(config), options_(options), model_(model), d_(config.objective.dimension) {
    auto rule = MakeStepRule(config.step);
    eta_.resize(config.rounds);
    for (uint32_t k = 0; k < config.rounds; ++k) {
      StepInputs in;
      in.round = k;
      eta_[k] = rule->StepSize(in);
    }
    omega_ = CompressorOmega(config.compressor, d_);
    if (!std::isfinite(omega_)) omega_ = 0.0;
    if (config.compressor.kind == Kind::RandK && d_ > 1) {
      rho_ = -static_cast<double>(d_ - config.compressor.k) /
             (static_cast<double>(config.compressor.k) * static_cast<double>(d_ - 1));
    }
  }

  // The losses of path `p` after each round, into `losses`.
  void RunPath(uint32_t p, std::span<double> losses, double initial_loss) const {
    PathState s(d_);
    SyntheticObjective objective(c_.objective, s.lambda);
    objective.InitialPoint(c_.seed, s.x);
    s.rng.Seed(DeriveSeed(c_.seed, 0x5DE, p));
    const double limit = c_.divergence_factor * std::max(initial_loss, c_.divergence_floor);
    bool diverged = false;
    for (uint32_t k = 0; k < c_.rounds; ++k) {
      if (!diverged) {
        for (uint32_t m = 0; m < options_.substeps; ++m) Step(objective, s, eta_[k], eta_[k] / options_.substeps);
        const double loss = objective.Loss(s.x);
        diverged = !std::isfinite(loss) || loss > limit;
        losses[k] = diverged ? std::numeric_limits<double>::infinity() : loss;
      } else {
        losses[k] = std::numeric_limits<double>::infinity();
      }
    }
  }

 private:
  // One Euler-Maruyama step of length dt within a round of step size eta.
  void Step(SyntheticObjective& objective, PathState& s, double eta, double dt) const {
    objective.LossAndGradient(s.x, s.g);
    const double g_squared = SquaredNorm(s.g);
    const double noise_variance =
        NoiseVariance(c_.noise, c_.batch_size) + NoiseVarianceSlope(c_.noise, c_.batch_size) * g_squared;
    const double coefficient = std::sqrt(eta / c_.nodes * dt);  // sqrt(eta/N) sqrt(dt)
    switch (model_) {
      case Model::kDcsgd:
        StepDcsgd(objective, s, eta, dt, noise_variance, coefficient);
        return;
      case Model::kSignMean:
        StepSign(s, dt, std::sqrt(noise_variance), coefficient);
        return;
    }
  }

  void StepDcsgd(SyntheticObjective& objective, PathState& s, double eta, double dt, double noise_variance,
                 double coefficient) const {
    // The drift.
    double correction = 0.0;
    switch (options_.drift) {
      case SdeDrift::kFirstOrder:
        break;
      case SdeDrift::kCorrected:
        correction = 0.5 * eta;
        break;
      case SdeDrift::kSecondOrder:
        correction = -0.5 * eta;
        break;
    }
    if (correction != 0.0) objective.HessianVector(s.x, s.g, s.hg);
    // The diffusion's diagonal: the noise, and the compressor's covariance
    // averaged over the noise.
    switch (c_.compressor.kind) {
      case Kind::Identity:
        std::fill(s.variance.begin(), s.variance.end(), noise_variance);
        break;
      case Kind::Bernoulli:
      case Kind::RandK:
        for (uint32_t j = 0; j < d_; ++j) {
          const double g = s.g[j];
          s.variance[j] = noise_variance + omega_ * (g * g + noise_variance);
        }
        break;
      case Kind::Qsgd:
      case Kind::Natural: {
        // One noisy gradient a step: the exact covariance given it, whose
        // mean over the steps is the covariance averaged over the noise.
        const double scale = std::sqrt(noise_variance);
        for (uint32_t j = 0; j < d_; ++j) s.noisy[j] = static_cast<float>(s.g[j] + scale * s.rng.Normal());
        CompressorCovariance(c_.compressor, s.noisy, s.variance);
        for (double& v : s.variance) v += noise_variance;
        break;
      }
      case Kind::Sign:
      case Kind::ScaledSign:
      case Kind::EfSign:
      case Kind::TopK:
        break;  // refused by CheckSupported
    }
    for (uint32_t j = 0; j < d_; ++j) s.z[j] = s.rng.Normal();
    if (rho_ < 0.0) ApplyRandKCorrelation(s);
    for (uint32_t j = 0; j < d_; ++j) {
      const double drift = -s.g[j] + (correction != 0.0 ? correction * s.hg[j] : 0.0);
      const double diffusion = std::sqrt(s.variance[j]) * s.z[j];
      s.x[j] = static_cast<float>(s.x[j] + dt * drift + coefficient * diffusion);
    }
  }

  // rand-k's covariance is D' - |rho| g g^T, D' the diagonal above plus
  // |rho| diag(g^2): a square root is D'^(1/2) (I - alpha u u^T) with
  // u = |rho|^(1/2) D'^(-1/2) g and alpha = (1 - sqrt(1 - |u|^2)) / |u|^2
  // (|u|^2 <= 1, as the covariance is positive semi-definite). This turns z into
  // (I - alpha u u^T) z and the variances into D'; StepDcsgd then multiplies
  // by sqrt(D').
  void ApplyRandKCorrelation(PathState& s) const {
    const double r = -rho_;
    double u_squared = 0.0, u_dot_z = 0.0;
    for (uint32_t j = 0; j < d_; ++j) {
      const double g = s.g[j];
      s.variance[j] += r * g * g;
      const double u = std::sqrt(r) * g / std::sqrt(s.variance[j]);
      u_squared += u * u;
      u_dot_z += u * s.z[j];
    }
    if (u_squared <= 0.0) return;
    u_squared = std::min(u_squared, 1.0);
    const double alpha = (1.0 - std::sqrt(1.0 - u_squared)) / u_squared;
    for (uint32_t j = 0; j < d_; ++j) {
      const double u = std::sqrt(r) * s.g[j] / std::sqrt(s.variance[j]);
      s.z[j] -= alpha * u * u_dot_z;
    }
  }

  void StepSign(PathState& s, double dt, double scale, double coefficient) const {
    for (uint32_t j = 0; j < d_; ++j) {
      // Xi = F(g / s) - 1/2: E sign(g + s Z) = 2 Xi, Var = 1 - 4 Xi^2.
      const double xi = scale > 0.0 ? StandardNoiseCdf(c_.noise, s.g[j] / scale) - 0.5
                                    : 0.5 * static_cast<double>((s.g[j] > 0) - (s.g[j] < 0));
      const double diffusion = std::sqrt(std::max(0.0, 1.0 - 4.0 * xi * xi)) * s.rng.Normal();
      s.x[j] = static_cast<float>(s.x[j] - dt * 2.0 * xi + coefficient * diffusion);
    }
  }

  const ExperimentConfig& c_;
  const PredictOptions& options_;
  Model model_;
  uint32_t d_;
  std::vector<double> eta_;
  double omega_ = 0.0;
  double rho_ = 0.0;  // rand-k's off-diagonal factor
};

double Quantile(std::vector<double>& values, double q) {
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

}  // namespace

const char* SdeDriftName(SdeDrift drift) {
  switch (drift) {
    case SdeDrift::kFirstOrder:
      return "first-order";
    case SdeDrift::kCorrected:
      return "corrected";
    case SdeDrift::kSecondOrder:
      return "second-order";
  }
  return "unknown";
}

bool ParseSdeDrift(const char* name, SdeDrift* drift) {
  for (const SdeDrift d : {SdeDrift::kFirstOrder, SdeDrift::kCorrected, SdeDrift::kSecondOrder}) {
    if (std::strcmp(name, SdeDriftName(d)) == 0) {
      *drift = d;
      return true;
    }
  }
  return false;
}

Status PredictLoss(const ExperimentConfig& config, const PredictOptions& options, Prediction* out) {
  Model model = Model::kDcsgd;
  EDGEFL_RETURN_IF_ERROR(CheckSupported(config, &model));
  if (options.paths < 1) return Status::Error(StatusCode::kInvalidArgument, "--paths must be at least 1");
  if (options.substeps < 1) return Status::Error(StatusCode::kInvalidArgument, "--substeps must be at least 1");
  switch (model) {
    case Model::kDcsgd:
      out->model = options.drift == SdeDrift::kCorrected    ? "DCSGD SDE (P1 Thm 3.6), curvature-corrected drift"
                   : options.drift == SdeDrift::kFirstOrder ? "DCSGD SDE (P1 Thm 3.6), first-order drift"
                                                            : "DCSGD SDE (P1 Thm 3.6), second-order drift";
      break;
    case Model::kSignMean:
      out->model = "DSignSGD SDE (P1 Thm 3.10), first-order drift";
      break;
  }
  std::vector<float> lambda(config.objective.dimension), x0(config.objective.dimension);
  SyntheticObjective objective(config.objective, lambda);
  objective.InitialPoint(config.seed, x0);
  const double initial_loss = objective.Loss(x0);

  const Simulator simulator(config, options, model);
  const uint32_t rounds = config.rounds, paths = options.paths;
  std::vector<double> losses(size_t{paths} * rounds);
  uint32_t threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, paths);
  // Path p on thread p % threads; each path's numbers depend on p alone.
  std::vector<std::thread> workers;
  for (uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint32_t p = t; p < paths; p += threads) {
        simulator.RunPath(p, std::span<double>(losses).subspan(size_t{p} * rounds, rounds), initial_loss);
      }
    });
  }
  for (auto& worker : workers) worker.join();

  out->mean_loss.assign(rounds, 0.0);
  out->low_loss.assign(rounds, 0.0);
  out->high_loss.assign(rounds, 0.0);
  out->diverged_paths = 0;
  out->diverged_at = -1;
  std::vector<double> column(paths);
  for (uint32_t k = 0; k < rounds; ++k) {
    double sum = 0.0;
    uint32_t diverged = 0;
    for (uint32_t p = 0; p < paths; ++p) {
      column[p] = losses[size_t{p} * rounds + k];
      sum += column[p];
      diverged += std::isinf(column[p]) ? 1 : 0;
    }
    out->mean_loss[k] = sum / paths;
    out->low_loss[k] = Quantile(column, 0.1);
    out->high_loss[k] = Quantile(column, 0.9);
    if (out->diverged_at < 0 && 2 * diverged > paths) out->diverged_at = k;
    if (k + 1 == rounds) out->diverged_paths = diverged;
  }
  return Status::Ok();
}

}  // namespace edgefl
