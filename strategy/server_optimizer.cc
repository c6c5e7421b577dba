#include "strategy/server_optimizer.h"

#include <cmath>

namespace edgefl {
namespace {

// FedAvgM: heavy-ball momentum on the server, m <- beta m + d.
class MomentumOptimizer final : public ServerOptimizer {
 public:
  MomentumOptimizer(double beta, uint32_t dimension) : beta_(beta), m_(dimension) {}

  void Change(std::span<const double> direction, double eta, std::span<double> change) override {
    for (size_t j = 0; j < direction.size(); ++j) {
      m_[j] = beta_ * m_[j] + direction[j];
      change[j] = -eta * m_[j];
    }
  }
  void Save(StateWriter& out) const override { out.PutSpan(std::span<const double>(m_)); }
  Status Load(StateReader& in) override { return in.GetSpan(std::span<double>(m_)); }

 private:
  double beta_;
  std::vector<double> m_;
};

// FedAdagrad, FedAdam and FedYogi: one first moment, a second moment that
// each updates its own way, and the same step.
class AdaptiveOptimizer final : public ServerOptimizer {
 public:
  AdaptiveOptimizer(ServerOptimizerKind kind, const ServerConfig& config, uint32_t dimension)
      : kind_(kind), config_(config), m_(dimension, 0.0), v_(dimension, config.tau * config.tau) {}

  void Change(std::span<const double> direction, double eta, std::span<double> change) override {
    const double beta1 = config_.beta1, beta2 = config_.beta2, tau = config_.tau;
    for (size_t j = 0; j < direction.size(); ++j) {
      const double d = direction[j];
      const double d2 = d * d;
      m_[j] = beta1 * m_[j] + (1.0 - beta1) * d;
      v_[j] = SecondMoment(v_[j], d2, beta2);
      change[j] = -eta * m_[j] / (std::sqrt(v_[j]) + tau);
    }
  }
  void Save(StateWriter& out) const override {
    out.PutSpan(std::span<const double>(m_));
    out.PutSpan(std::span<const double>(v_));
  }
  Status Load(StateReader& in) override {
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(m_)));
    return in.GetSpan(std::span<double>(v_));
  }

 private:
  double SecondMoment(double v, double d2, double beta2) const {
    switch (kind_) {
      case ServerOptimizerKind::kAdagrad:
        return v + d2;
      case ServerOptimizerKind::kAdam:
        return beta2 * v + (1.0 - beta2) * d2;
      case ServerOptimizerKind::kYogi: {
        const double difference = v - d2;
        return v - (1.0 - beta2) * d2 * static_cast<double>((difference > 0) - (difference < 0));
      }
      case ServerOptimizerKind::kSgd:
      case ServerOptimizerKind::kMomentum:
        break;
    }
    return v;
  }

  ServerOptimizerKind kind_;
  ServerConfig config_;
  std::vector<double> m_, v_;
};

}  // namespace

void SgdOptimizer::Change(std::span<const double> direction, double eta, std::span<double> change) {
  for (size_t j = 0; j < direction.size(); ++j) change[j] = -eta * direction[j];
}

std::unique_ptr<ServerOptimizer> MakeServerOptimizer(const ServerConfig& config, uint32_t dimension) {
  switch (config.optimizer) {
    case ServerOptimizerKind::kSgd:
      return std::make_unique<SgdOptimizer>();
    case ServerOptimizerKind::kMomentum:
      return std::make_unique<MomentumOptimizer>(config.momentum, dimension);
    case ServerOptimizerKind::kAdagrad:
    case ServerOptimizerKind::kAdam:
    case ServerOptimizerKind::kYogi:
      return std::make_unique<AdaptiveOptimizer>(config.optimizer, config, dimension);
  }
  return nullptr;
}

}  // namespace edgefl
