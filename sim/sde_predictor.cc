#include "sim/sde_predictor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "strategy/server_step.h"
#include "strategy/step_rule.h"
#include "core/vectors.h"
#include "core/rng.h"
#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/synthetic_objective.h"
#include "maths/vector_norms.h"
#include "sim/buffered_forecast.h"
#include "sim/data_forecast.h"
#include "sim/discrete_round.h"
#include "sim/forecast_model.h"
#include "sim/local_steps.h"
#include "sim/gaussian_block.h"
#include "sim/path_runner.h"
#include "sim/round_cost.h"
#include "sim/sign_votes.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

using Model = ForecastModel;

// One path's buffers, random streams and step rule.
struct PathState {
  PathState(uint32_t d, uint64_t seed, uint32_t nodes, uint32_t cohort)
      : x(d),
        g(d),
        hg(d, 0.0f),
        noisy(d),
        variance(d),
        z(d),
        lambda(d),
        m(d, 0.0f),
        covariance(d),
        normals(seed, d),
        draw(nodes),
        counted(cohort),
        counts(d),
        marks(d) {}
  std::vector<float> x, g, hg, noisy, variance, z, lambda;
  std::vector<float> m;  // the server's momentum buffer (server.optimizer = "momentum")
  std::vector<double> covariance;  // qsgd's and natural's, given one noisy gradient
  GaussianBlock normals;
  Rng rng;  // scaled-sign's noisy gradient (the noise's own sampler)
  Rng cohort_rng;  // the rounds' cohorts (sim/participation.h)
  DrawBuffers draw;
  uint32_t counted;  // m: the updates this round's step averages
  std::vector<uint32_t> counts, marks;  // the discrete model's scratch (sim/discrete_round.h)
  std::unique_ptr<StepRule> rule;
  double norm_estimate = 0.0;  // n_k of the last round
  double step_sizes_sum = 0.0;
  uint32_t steps_taken = 0;    // rounds that stepped: a round short of its quorum makes none
};

class Simulator {
 public:
  // `discrete`: step by the iteration itself (sim/discrete_round.h), one
  // step a round, rather than the SDE's substeps.
  Simulator(const ExperimentConfig& config, const PredictOptions& options, Model model,
            const ParticipationModel& participation, bool discrete)
      : c_(config),
        options_(options),
        model_(model),
        d_(config.objective.dimension),
        facts_(StepFactsOf(config)),
        participation_(participation) {
    omega_ = facts_.omega;
    if (config.compressor.kind == Kind::RandK && d_ > 1) {
      rho_ = -static_cast<double>(d_ - config.compressor.k) /
             (static_cast<double>(config.compressor.k) * static_cast<double>(d_ - 1));
    }
    switch (options.drift) {
      case SdeDrift::kFirstOrder:
        break;
      case SdeDrift::kCorrected:
        correction_ = 0.5;
        break;
      case SdeDrift::kSecondOrder:
        correction_ = -0.5;
        break;
    }
    if (IsSignFamily(model)) correction_ = 0.0;  // P1 Thm 3.10's first-order drift
    if (config.server.optimizer == ServerOptimizerKind::kMomentum) {
      momentum_ = true;
      beta_ = config.server.momentum;
      correction_ = 0.0;  // no curvature correction is derived for the momentum pair
    }
    substeps_ = options.substeps != 0 ? options.substeps : AutoSubsteps();
    if (discrete) {
      discrete_.emplace(config);
      substeps_ = 1;
    }
    if (model == Model::kLocalSgd) {
      // Each coordinate's gain and noise over a round's E steps.
      substeps_ = 1;
      std::vector<float> lambda(d_);
      SyntheticObjective(config.objective, lambda);
      const double step_variance = NoiseVariance(config.noise, config.batch_size);
      local_gain_.resize(d_);
      local_spread_.resize(d_);
      for (uint32_t j = 0; j < d_; ++j) {
        const LocalSgdCoordinate c = LocalSgdOf(lambda[j], config.local.lr, config.local.steps, step_variance);
        local_gain_[j] = c.gain;
        local_spread_[j] = std::sqrt(c.noise_variance);
      }
    }
  }

  uint32_t substeps() const { return substeps_; }

  // Path p's loss, gradient norm, step size and length of each round.
  void RunPath(uint32_t p, const PathSpans& out, double initial_loss) const {
    PathState s(d_, DeriveSeed(c_.seed, kIncrementStream, p), c_.nodes, c_.CohortSize());
    s.rng.Seed(DeriveSeed(c_.seed, kNoisyGradientStream, p));
    s.cohort_rng.Seed(DeriveSeed(c_.seed, kCohortStream, p));
    const std::span<double> losses = out.losses, grad_norms = out.grad_norms, steps = out.steps;
    SyntheticObjective objective(c_.objective, s.lambda);
    objective.InitialPoint(c_.seed, s.x);
    s.rule = MakeStepRule(c_.step, facts_);
    const double limit = c_.divergence_factor * std::max(initial_loss, c_.divergence_floor);
    bool diverged = false;
    for (uint32_t k = 0; k < c_.rounds; ++k) {
      // The round's cohort: the step averages the m updates that count,
      // and a round short of its quorum leaves x (and the rule) as they are.
      const RoundDraw draw = participation_.Draw(s.cohort_rng, s.draw, k);
      out.seconds[k] = draw.seconds;
      if (diverged) {
        losses[k] = grad_norms[k] = std::numeric_limits<double>::infinity();
        steps[k] = 0.0;
        continue;
      }
      double eta = 0.0;
      if (draw.steps) {
        s.counted = draw.counted;
        eta = RoundStepSize(objective, s, k);
        if (model_ == Model::kLocalSgd) {
          LocalSgdStep(s, eta);
        } else if (discrete_) {
          DiscreteStep(objective, s, eta);
        } else {
          for (uint32_t m = 0; m < substeps_; ++m) Step(objective, s, eta, eta / substeps_);
        }
        ++s.steps_taken;
      }
      const double loss = objective.Loss(s.x);
      diverged = !std::isfinite(loss) || loss > limit;
      objective.Gradient(s.x, s.g);
      losses[k] = diverged ? std::numeric_limits<double>::infinity() : loss;
      grad_norms[k] = diverged ? std::numeric_limits<double>::infinity() : std::sqrt(SquaredNorm(s.g));
      steps[k] = eta;
    }
  }

 private:
  // eta_k from the rule, fed what the path expects the coordinator to see
  // at the round's start.
  double RoundStepSize(SyntheticObjective& objective, PathState& s, uint32_t k) const {
    StepInputs in;
    in.round = k;
    in.steps_taken = s.steps_taken;
    in.step_sizes_sum = s.step_sizes_sum;
    in.l0 = c_.step.l0;
    in.l1 = c_.step.l1;
    if (UsesNormEstimate(c_.step.rule)) {
      objective.Gradient(s.x, s.g);
      const double g_squared = SquaredNorm(s.g);
      const double noise_variance = NoiseVarianceAt(g_squared);
      double aggregate_squared = g_squared;
      if (IsSignFamily(model_)) {
        // E |aggregate|^2 = sum_j mean_j^2 + variance_j.
        FillSignMoments(s, CdfScaleAt(g_squared));
        aggregate_squared = 0.0;
        for (uint32_t j = 0; j < d_; ++j) aggregate_squared += double{s.hg[j]} * s.hg[j] + s.variance[j];
      } else {
        FillVariance(s, noise_variance);
        for (const float v : s.variance) aggregate_squared += static_cast<double>(v) / s.counted;
      }
      const double aggregate_norm = std::sqrt(aggregate_squared);
      const double nodes_norm = std::sqrt(g_squared + d_ * noise_variance);
      in.direction_norm = aggregate_norm;
      in.norm_estimate = s.norm_estimate = NextNormEstimate(c_.step, s.norm_estimate, k, aggregate_norm, nodes_norm);
    }
    const double eta = s.rule->StepSize(in);
    s.step_sizes_sum += eta;
    return eta;
  }

  double NoiseVarianceAt(double g_squared) const {
    return NoiseVariance(c_.noise, c_.batch_size) + NoiseVarianceSlope(c_.noise, c_.batch_size) * g_squared;
  }

  // The s of noise = s Z with Z the standardised noise whose CDF F the sign
  // moments take: the noise's standard deviation for Gaussian and affine
  // noise, but sigma / sqrt(B) for Student-t, whose Z has variance
  // nu / (nu - 2) (infinite for nu <= 2, where the signs are still fine).
  double CdfScaleAt(double g_squared) const {
    if (c_.noise.kind == wire::NoiseKind::StudentT) return NoiseScale(c_.noise, c_.batch_size);
    return std::sqrt(NoiseVarianceAt(g_squared));
  }

  // Xi(g / s) = F(g / s) - 1/2: E sign(g + s Z) = 2 Xi, Var = 1 - 4 Xi^2.
  double Xi(double g, double scale) const {
    return scale > 0.0 ? StandardNoiseCdf(c_.noise, g / scale) - 0.5 : 0.5 * static_cast<double>((g > 0) - (g < 0));
  }

  // The drift's stiffness a (the rate of its fastest mode) times eta_0, at
  // x_0, and the substeps that keep a dt at 0.02.
  uint32_t AutoSubsteps() const {
    PathState s(d_, 0, c_.nodes, c_.CohortSize());
    SyntheticObjective objective(c_.objective, s.lambda);
    objective.InitialPoint(c_.seed, s.x);
    std::vector<float> ones(d_, 1.0f);
    objective.HessianVector(s.x, ones, s.hg);  // the diagonal: every synthetic Hessian is diagonal
    double curvature = 0.0;
    for (uint32_t j = 0; j < d_; ++j) curvature = std::max({curvature, double{s.hg[j]}, double{s.lambda[j]}});
    s.rule = MakeStepRule(c_.step, facts_);
    const double eta = RoundStepSize(objective, s, 0);
    double stiffness = eta * curvature;
    if (model_ == Model::kSignMean) {
      // The drift -2 Xi(lambda x / s) has slope 2 F'(0) lambda / s at 0.
      const double scale = CdfScaleAt(0.0);
      const double h = 1e-4;
      const double density = (StandardNoiseCdf(c_.noise, h) - StandardNoiseCdf(c_.noise, -h)) / (2 * h);
      stiffness = scale > 0.0 ? 2.0 * density * eta * curvature / scale : std::numeric_limits<double>::infinity();
    }
    if (!std::isfinite(stiffness)) return 64;
    return static_cast<uint32_t>(std::clamp(std::ceil(stiffness / 0.02), 4.0, 64.0));
  }

  // The round as the run makes it: the aggregate of the counted updates
  // drawn from its sufficient statistics, then the server's step (plain, or
  // heavy-ball: m' = beta m + aggregate, x' = x - eta m').
  void DiscreteStep(SyntheticObjective& objective, PathState& s, double eta) const {
    objective.Gradient(s.x, s.g);
    s.normals.Fill(s.z);
    discrete_->Draw(s.g, s.counted, s.z, s.rng, s.counts, s.marks, s.hg);
    for (uint32_t j = 0; j < d_; ++j) {
      double step = s.hg[j];
      if (momentum_) {
        s.m[j] = static_cast<float>(beta_ * s.m[j] + step);
        step = s.m[j];
      }
      s.x[j] = static_cast<float>(s.x[j] - eta * step);
    }
  }

  // A round of E local sgd steps at every counted node, exactly: the mean of
  // the m nodes' sums of directions is gain x + N(0, spread^2 / m) per
  // coordinate (sim/local_steps.h).
  void LocalSgdStep(PathState& s, double eta) const {
    s.normals.Fill(s.z);
    const double per_node = 1.0 / std::sqrt(static_cast<double>(s.counted));
    for (uint32_t j = 0; j < d_; ++j) {
      double step = local_gain_[j] * s.x[j] + local_spread_[j] * per_node * s.z[j];
      if (momentum_) {
        s.m[j] = static_cast<float>(beta_ * s.m[j] + step);
        step = s.m[j];
      }
      s.x[j] = static_cast<float>(s.x[j] - eta * step);
    }
  }

  // One Euler-Maruyama step of length dt within a round of step size eta.
  void Step(SyntheticObjective& objective, PathState& s, double eta, double dt) const {
    objective.Gradient(s.x, s.g);
    const double slope = NoiseVarianceSlope(c_.noise, c_.batch_size);
    const double g_squared = slope != 0.0 ? SquaredNorm(s.g) : 0.0;
    s.normals.Fill(s.z);
    if (IsSignFamily(model_)) {
      StepSign(s, eta, dt, CdfScaleAt(g_squared), std::sqrt(eta * dt));
      return;
    }
    const double noise_variance = NoiseVarianceAt(g_squared);
    const double coefficient = std::sqrt(eta / s.counted * dt);  // sqrt(eta/m) sqrt(dt)
    if (correction_ != 0.0) objective.HessianVector(s.x, s.g, s.hg);
    FillVariance(s, noise_variance);
    if (rho_ < 0.0) ApplyRandKCorrelation(s);
    if (momentum_) {
      AdvanceMomentum(s, static_cast<float>(dt), static_cast<float>(coefficient), static_cast<float>(eta),
                      static_cast<float>(beta_));
    } else {
      Advance(s, static_cast<float>(dt), static_cast<float>(correction_ * eta), static_cast<float>(coefficient));
    }
  }

  // The diffusion's diagonal: the noise, and the compressor's covariance
  // averaged over the noise.
  void FillVariance(PathState& s, double noise_variance) const {
    switch (c_.compressor.kind) {
      case Kind::Identity:
      case Kind::EfSign:  // error feedback: the virtual iterate's noise only
      case Kind::TopK:
        std::fill(s.variance.begin(), s.variance.end(), static_cast<float>(noise_variance));
        break;
      case Kind::Bernoulli:
      case Kind::RandK: {
        const auto base = static_cast<float>(noise_variance * (1.0 + omega_));
        const auto omega = static_cast<float>(omega_);
        for (uint32_t j = 0; j < d_; ++j) s.variance[j] = base + omega * s.g[j] * s.g[j];
        break;
      }
      case Kind::Qsgd:
      case Kind::Natural: {
        // One noisy gradient a step: the exact covariance given it, whose
        // mean over the steps is the covariance averaged over the noise.
        const auto scale = static_cast<float>(std::sqrt(noise_variance));
        s.normals.Fill(s.noisy);
        for (uint32_t j = 0; j < d_; ++j) s.noisy[j] = s.g[j] + scale * s.noisy[j];
        CompressorCovariance(c_.compressor, s.noisy, s.covariance);
        for (uint32_t j = 0; j < d_; ++j) s.variance[j] = static_cast<float>(noise_variance + s.covariance[j]);
        break;
      }
      case Kind::Sign:
      case Kind::ScaledSign:
        break;  // the sign family's step fills its own
    }
  }

  // x += dt (-g + c H g) + coefficient sqrt(variance) z, c = +-eta/2 or 0:
  // the hot loop, in float, without branches.
  EDGEFL_VECTOR_CLONES static void Advance(PathState& s, float dt, float c, float coefficient) {
    const size_t d = s.x.size();
    float* x = s.x.data();
    const float *g = s.g.data(), *hg = s.hg.data(), *variance = s.variance.data(), *z = s.z.data();
    for (size_t j = 0; j < d; ++j) {
      x[j] = x[j] + (dt * (c * hg[j] - g[j]) + coefficient * (std::sqrt(variance[j]) * z[j]));
    }
  }

  // Heavy-ball momentum at the server, m' = beta m + d, x' = x - eta m', as
  // the pair dm = (-(1 - beta) m dt + delta) / eta, dx = -m dt, with delta
  // what plain SGD would move x by in dt: one round (dt = eta, one step) is
  // the iteration itself; smaller steps filter the directions as the buffer
  // does.
  EDGEFL_VECTOR_CLONES static void AdvanceMomentum(PathState& s, float dt, float coefficient, float eta, float beta) {
    const size_t d = s.x.size();
    float *x = s.x.data(), *m = s.m.data();
    const float *g = s.g.data(), *variance = s.variance.data(), *z = s.z.data();
    for (size_t j = 0; j < d; ++j) {
      const float delta = dt * g[j] - coefficient * (std::sqrt(variance[j]) * z[j]);
      m[j] = m[j] + (delta - (1.0f - beta) * m[j] * dt) / eta;
      x[j] = x[j] - dt * m[j];
    }
  }

  // rand-k's covariance is D' - |rho| g g^T, D' the diagonal above plus
  // |rho| diag(g^2): a square root is D'^(1/2) (I - alpha u u^T) with
  // u = |rho|^(1/2) D'^(-1/2) g and alpha = (1 - sqrt(1 - |u|^2)) / |u|^2
  // (|u|^2 <= 1, as the covariance is positive semi-definite). This turns z into
  // (I - alpha u u^T) z and the variances into D'; Advance then multiplies
  // by sqrt(D').
  void ApplyRandKCorrelation(PathState& s) const {
    const double r = -rho_;
    double u_squared = 0.0, u_dot_z = 0.0;
    for (uint32_t j = 0; j < d_; ++j) {
      const double g = s.g[j];
      s.variance[j] = static_cast<float>(s.variance[j] + r * g * g);
      const double u = std::sqrt(r) * g / std::sqrt(double{s.variance[j]});
      u_squared += u * u;
      u_dot_z += u * s.z[j];
    }
    if (u_squared <= 0.0) return;
    u_squared = std::min(u_squared, 1.0);
    const double alpha = (1.0 - std::sqrt(1.0 - u_squared)) / u_squared;
    for (uint32_t j = 0; j < d_; ++j) {
      const double u = std::sqrt(r) * s.g[j] / std::sqrt(double{s.variance[j]});
      s.z[j] = static_cast<float>(s.z[j] - alpha * u * u_dot_z);
    }
  }

  // The aggregate's mean (into hg) and variance (into variance) per
  // coordinate, given the gradient g and the noise scale s, with
  // Xi = F(g / s) - 1/2 the mean of one sign over 2:
  // over the m counted nodes (s.counted):
  //   mean of signs (P1 Thm 3.10): 2 Xi and (1 - 4 Xi^2) / m;
  //   majority vote: P(S > 0) - P(S < 0) and P(S != 0) - mean^2, S the sum
  //     of m signs, each +1 with probability F(g / s);
  //   scaled signs (mean): a 2 Xi and a^2 (1 - 4 Xi^2) / m, a = |g_i|_1 / d of
  //     one noisy gradient drawn a step (an approximation: the scale is
  //     taken independent of each coordinate's sign).
  void FillSignMoments(PathState& s, double scale) const {
    double a = 1.0;
    if (model_ == Model::kScaledSign) {
      std::copy(s.g.begin(), s.g.end(), s.noisy.begin());
      AddGradientNoise(c_.noise, c_.batch_size, s.rng, s.noisy);
      double l1 = 0.0;
      for (const float v : s.noisy) l1 += std::fabs(double{v});
      a = l1 / d_;
    }
    for (uint32_t j = 0; j < d_; ++j) {
      const double xi = Xi(s.g[j], scale);
      double mean = 2.0 * xi, variance = (1.0 - 4.0 * xi * xi) / s.counted;
      if (model_ == Model::kMajority) {
        double plus = 0.0, minus = 0.0;
        MajorityProbabilities(0.5 + xi, s.counted, &plus, &minus);
        mean = plus - minus;
        variance = plus + minus - mean * mean;
      }
      s.hg[j] = static_cast<float>(a * mean);
      s.variance[j] = static_cast<float>(std::max(0.0, a * a * variance));
    }
  }

  // x -= dt mean + sqrt(eta dt) sqrt(variance) z, coefficient = sqrt(eta dt).
  void StepSign(PathState& s, double eta, double dt, double scale, double coefficient) const {
    FillSignMoments(s, scale);
    for (uint32_t j = 0; j < d_; ++j) {
      const double delta = dt * s.hg[j] - coefficient * std::sqrt(double{s.variance[j]}) * s.z[j];
      if (momentum_) {  // as AdvanceMomentum
        s.m[j] = static_cast<float>(s.m[j] + (delta - (1.0 - beta_) * s.m[j] * dt) / eta);
        s.x[j] = static_cast<float>(s.x[j] - dt * s.m[j]);
      } else {
        s.x[j] = static_cast<float>(s.x[j] - delta);
      }
    }
  }

  const ExperimentConfig& c_;
  const PredictOptions& options_;
  Model model_;
  uint32_t d_;
  StepRunFacts facts_;
  const ParticipationModel& participation_;
  double omega_ = 0.0;
  double rho_ = 0.0;         // rand-k's off-diagonal factor
  double correction_ = 0.0;  // the drift's H grad f term, per unit of eta
  bool momentum_ = false;    // heavy-ball momentum at the server, as a second state
  double beta_ = 0.0;
  uint32_t substeps_ = 4;
  std::optional<DiscreteAggregate> discrete_;
  std::vector<double> local_gain_, local_spread_;  // kLocalSgd: each coordinate's over a round's E steps
};

constexpr codec::KindName<PathModel> kPathModelNames[] = {
    {PathModel::kAuto, "auto"}, {PathModel::kSde, "sde"}, {PathModel::kDiscrete, "discrete"}};
constexpr codec::KindName<SdeDrift> kSdeDriftNames[] = {
    {SdeDrift::kFirstOrder, "first-order"}, {SdeDrift::kCorrected, "corrected"}, {SdeDrift::kSecondOrder, "second-order"}};

}  // namespace

const char* PathModelName(PathModel model) { return codec::NameIn<PathModel>(kPathModelNames, model); }
bool ParsePathModel(const char* name, PathModel* model) { return codec::KindIn<PathModel>(kPathModelNames, name, model); }
const char* SdeDriftName(SdeDrift drift) { return codec::NameIn<SdeDrift>(kSdeDriftNames, drift); }
bool ParseSdeDrift(const char* name, SdeDrift* drift) { return codec::KindIn<SdeDrift>(kSdeDriftNames, name, drift); }

Status PredictLoss(const ExperimentConfig& config, const PredictOptions& options, Prediction* out) {
  Model model = Model::kDcsgd;
  EDGEFL_RETURN_IF_ERROR(ChooseForecastModel(config, &model));
  if (options.paths < 1) return Status::Error(StatusCode::kInvalidArgument, "--paths must be at least 1");
  const char* drift = options.drift == SdeDrift::kCorrected    ? "curvature-corrected drift"
                      : options.drift == SdeDrift::kFirstOrder ? "first-order drift"
                                                               : "second-order drift";
  switch (model) {
    case Model::kDcsgd:
      out->model = "DCSGD SDE (P1 Thm 3.6)";
      out->drift = drift;
      break;
    case Model::kErrorFeedback:
      out->model = "DSGD SDE of the error-feedback iterate (P1 Thm 3.2)";
      out->drift = drift;
      out->approximation =
          "error feedback (ef-sign, top-k) modelled by its virtual iterate x - eta e, which follows SGD exactly; "
          "the gradient's offset by the held error is ignored";
      break;
    case Model::kSignMean:
      out->model = "DSignSGD SDE (P1 Thm 3.10)";
      out->drift = "first-order drift";
      break;
    case Model::kMajority:
      out->model = "DSignSGD SDE, majority vote";
      out->drift = "first-order drift";
      out->approximation = "the vote's exact per-coordinate mean and variance in P1 Thm 3.10's place";
      break;
    case Model::kScaledSign:
      out->model = "DSignSGD SDE, scaled signs (|g|_1 / d) sign(g)";
      out->drift = "first-order drift";
      out->approximation = "the scale |g|_1 / d taken independent of each coordinate's sign";
      break;
    case Model::kLocalSgd:
      out->model = "E local sgd steps a round as one linear step with Gaussian noise (docs/theory.md 6.1), exact";
      out->drift = "one step a round";
      break;
    case Model::kBuffered:
      out->model = "the buffered iteration with its delays, on the virtual clock's schedule (docs/theory.md 7.3)";
      out->drift = "one step a step";
      if (config.compressor.kind != Kind::Identity) {
        out->approximation = "the compressor's noise Gaussian, of its exact variances (the expected loss exact)";
      }
      break;
    case Model::kData:
      if (config.compressor.kind == Kind::Sign || config.compressor.kind == Kind::ScaledSign) {
        out->model = "DSignSGD SDE (P1 Thm 3.10) on the data's minibatch gradients";
        out->drift = "first-order drift";
        out->approximation =
            "each coordinate of a node's minibatch gradient taken as Gaussian, with the per-sample variance over its "
            "shard; a vote by the nodes' mean Xi";
      } else {
        out->model = "DCSGD SDE (P1 Thm 3.6) with the data's own minibatch noise";
        out->drift = drift;
        out->approximation =
            "increments drawn from the nodes' minibatch gradients (their covariance exact, their shape not), and "
            "the compressor's covariance as Gaussian noise (rand-k's correlation, error feedback's offset left out)";
      }
      break;
  }
  if (config.server.optimizer == ServerOptimizerKind::kMomentum) {
    out->drift = "first-order drift, with the server's momentum buffer as a second state";
  }
  // The iteration itself where asked, or (auto) where the SDE fails.
  bool discrete = false;
  out->why_discrete.clear();
  if (model == Model::kBuffered) return PredictBuffered(config, options, out);
  if (model == Model::kLocalSgd) {
    // Already the iteration itself, whatever --model asks.
  } else if (options.model == PathModel::kDiscrete) {
    const char* why_not = DiscreteAggregate::Unsupported(config);
    if (why_not == nullptr && model != Model::kDcsgd) why_not = "a biased compressor";
    if (why_not != nullptr) {
      return Status::Error(StatusCode::kInvalidArgument, "--model discrete does not model %s; --model sde does",
                           why_not);
    }
    discrete = true;
  } else if (options.model == PathModel::kAuto && model == Model::kDcsgd) {
    out->why_discrete = DiscreteReason(config);
    discrete = !out->why_discrete.empty();
  }
  if (discrete) {
    out->model = "DCSGD's iteration itself, from each round's sufficient statistics (docs/theory.md 3.7)";
    out->drift = "one step a round";
  }
  const ParticipationModel participation = CohortModelOf(config);
  if (model == Model::kData) return PredictData(config, options, participation, out);
  std::vector<float> lambda(config.objective.dimension), x0(config.objective.dimension);
  SyntheticObjective objective(config.objective, lambda);
  objective.InitialPoint(config.seed, x0);
  const double initial_loss = objective.Loss(x0);
  out->initial_loss = initial_loss;

  const Simulator simulator(config, options, model, participation, discrete);
  out->substeps = simulator.substeps();
  RunPaths(
      config, options, [&](uint32_t p, const PathSpans& spans) { simulator.RunPath(p, spans, initial_loss); }, out);
  return Status::Ok();
}

}  // namespace edgefl
